// ServerConfig: every setting of hashscreend, read from a TOML file
// (config/hashscreen.toml documents each one with its default) and then
// overridden by command-line flags. Every setting has exactly one flag,
// derived from its key: `limits.max_body_bytes` is `--max-body-bytes`
// (a few have short historic names: --data, --listen, --tls-cert, --tls-key,
// --plain-http).
//
// Unknown keys, unknown flags, wrong types and out-of-range values are
// errors that name the key; nothing is silently ignored.
//
// Thread-safety: a plain value; built once at start-up, then read-only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "sync/exchange/exchange_config.h"

namespace server {

using base::Status;

struct ServerConfig {
  // [server]
  std::string listen = "127.0.0.1:8443";
  std::string data_dir = "./data";
  std::string tls_cert;
  std::string tls_key;
  bool plain_http = false;
  int64_t worker_threads = 0;  // 0 = screen workers + screen queue + 4 x cores
  int64_t max_connections = 1024;
  int64_t max_connections_per_peer = 64;
  int64_t head_grace_ms = 50;
  int64_t max_header_bytes = 16384;
  int64_t header_timeout_s = 10;
  int64_t body_timeout_s = 60;
  int64_t write_timeout_s = 30;
  int64_t keep_alive_timeout_s = 5;
  int64_t keep_alive_max_requests = 10000;
  // [limits]
  int64_t max_body_bytes = 32ll << 20;
  int64_t max_pixels = 100'000'000;
  int64_t max_decode_memory = 512ll << 20;  // bytes one decode may hold
  int64_t max_decode_ms = 10'000;          // wall time of one decode
  int64_t screen_workers = 0;  // 0 = cores
  int64_t screen_queue = 64;
  double rate_per_key = 50;  // requests per second per key; 0 = unlimited (docs/deploy.md "Probing")
  int64_t rate_burst = 100;
  int64_t max_batch_parts = 256;
  int64_t max_hash_batch_items = 10000;  // items in one POST /v1/screen/hashes/batch
  int64_t body_buffer_bytes = 256ll << 20;
  // One key's share of body_buffer_bytes; 0 = the larger of 2 x
  // max_body_bytes and a quarter of the buffer (BodyBufferPerKey).
  int64_t body_buffer_per_key_bytes = 0;
  // [screening]
  std::string pdq_mode = "full";
  int64_t min_quality = 50;
  bool dihedral = true;
  // [probing] (server/probing_detector.h)
  int64_t probing_band = 2;
  int64_t probing_budget = 32;
  int64_t probing_hash_budget = 8;
  int64_t probing_window_s = 86400;
  int64_t probing_block_s = 0;  // 0 = until an admin clears it
  // [quarantine] (server/flood_detector.h, docs/exchanges.md "Flood quarantine")
  bool quarantine_enabled = true;
  int64_t quarantine_window_s = 3600;
  int64_t quarantine_min_hits = 500;
  double quarantine_factor = 20;
  int64_t quarantine_history_windows = 24;
  int64_t quarantine_max_tracked = 100000;
  std::string quarantine_exempt_lists;  // list names, comma-separated
  // [keys]
  int64_t keys_last_used_flush_s = 60;
  bool trim_borders = true;  // docs/robustness.md: bordered copies go from ~0% to ~100%
  bool trim_captions = true;  // with trim_borders: caption bars (a bar with text) too
  bool fast_jpeg = false;    // hashing::DecodeScaling; docs/datasets.md "Fast decoding"

  // [audit]
  std::string hmac_key_file;
  bool sync = true;
  bool group_commit = true;
  // Retention (store/audit_retention.h; 0 = kept forever). Below 365 days
  // for retain_days is refused unless allow_short_retention.
  int64_t retain_days = 400;
  int64_t retain_no_match_days = 30;
  bool allow_short_retention = false;
  int64_t prune_interval_s = 3600;  // between scheduled prunes
  // [log]
  std::string log_level = "info";
  bool log_requests = true;
  std::string log_format = "text";  // "text" or "json" (server/log.h)
  // [metrics]
  std::string metrics_listen = "127.0.0.1:9464";  // "" = no metrics listener
  bool metrics_allow_remote = false;
  // [follow] (sync/follower.h): follow a primary instead of taking list writes
  std::string follow_url;       // "" = this instance is a primary
  std::string follow_key_file;  // file holding a replica key of the primary, one line
  std::string follow_cacert;    // CA certificate of the primary; "" = the system's
  int64_t follow_max_lag_s = 10;
  int64_t follow_page_bytes = 32ll << 20;
  // [ui] the review console (docs/console.md)
  bool ui_enabled = true;
  int64_t ui_session_ttl_s = 28800;  // 8 hours
  int64_t ui_max_sessions = 10000;
  // [[exchange]] tables (sync/exchange/exchange_config.h, docs/exchanges.md);
  // file only, no flags.
  std::vector<hsync::ExchangeConfig> exchanges;
};

// One setting: its TOML section and key, its flag, and its documentation.
struct SettingInfo {
  std::string section, key, flag, help;
};
const std::vector<SettingInfo>& Settings();

// Reads `path` over the defaults in `config`. Errors name the file, the key
// and (for syntax errors) the line.
Status LoadConfigFile(const std::string& path, ServerConfig* config);
// The same for TOML text; `path` names it in errors.
Status LoadConfigText(const std::string& text, const std::string& path, ServerConfig* config);

// Applies `--flag VALUE` / `--flag=VALUE` / `--bool-flag` arguments. Anything
// not a known flag is an error; positional arguments are not accepted.
Status ApplyFlags(const std::vector<std::string>& args, ServerConfig* config);

// Cross-field checks after file and flags: TLS files present unless
// plain_http, plain_http only on loopback, listen addresses well-formed,
// the metrics listener on loopback unless metrics.allow_remote, the body
// buffer budget at least one body. Every file setting (TLS certificate and
// key, HMAC key file) must name a readable regular file: a directory or a
// FIFO is an error naming the setting. The config file itself is checked the
// same way by LoadConfigFile.
Status ValidateConfig(const ServerConfig& config);
// The [audit] retention rules alone (also for `hashscreend audit prune`).
Status ValidateRetention(const ServerConfig& config);

// limits.body_buffer_per_key_bytes with 0 resolved.
int64_t BodyBufferPerKey(const ServerConfig& config);

// Splits "host:port" ("[::1]:8443" for IPv6). InvalidArgument otherwise.
Status ParseListen(const std::string& listen, std::string* host, int* port);

}  // namespace server
