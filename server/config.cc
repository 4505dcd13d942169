#include "server/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <charconv>
#include <fstream>
#include <sstream>
#include <cstdio>
#include <cmath>
#include <limits>
#include <map>
#include <variant>

#include <toml++/toml.h>

#include "base/loopback.h"
#include "base/number_parse.h"
#include "server/flood_detector.h"
#include "store/api_keys.h"

namespace server {

namespace {

struct IntRange {
  int64_t min, max;
};

// Numbers: 0 (the setting's "off") or min..max. Far-out values like 1e-300
// would overflow what is computed from them (a Retry-After), so they are
// refused here, naming the setting.
struct DoubleRange {
  double min, max;
};

using Member = std::variant<std::string ServerConfig::*, int64_t ServerConfig::*, bool ServerConfig::*,
                            double ServerConfig::*>;

struct Setting {
  Setting(SettingInfo i, Member m, IntRange r = {0, std::numeric_limits<int64_t>::max()},
          std::vector<std::string> c = {})
      : info(std::move(i)), member(m), range(r), choices(std::move(c)) {}
  static Setting Number(SettingInfo i, Member m, DoubleRange d) {
    Setting s(std::move(i), m);
    s.number_range = d;
    return s;
  }
  SettingInfo info;
  Member member;
  IntRange range;
  DoubleRange number_range{0, std::numeric_limits<double>::max()};
  std::vector<std::string> choices;  // for strings: allowed values (empty = any)
};

const std::vector<Setting>& Table() {
  static const std::vector<Setting> table = {
      {{"server", "listen", "listen", "address to listen on, host:port (IPv6 as [::1]:8443)"}, &ServerConfig::listen},
      {{"server", "data_dir", "data", "directory of the RocksDB database (created if missing)"}, &ServerConfig::data_dir},
      {{"server", "tls_cert", "tls-cert", "PEM certificate chain for HTTPS"}, &ServerConfig::tls_cert},
      {{"server", "tls_key", "tls-key", "PEM private key for HTTPS"}, &ServerConfig::tls_key},
      {{"server", "plain_http", "plain-http", "serve plain HTTP (refused unless listen is loopback)"}, &ServerConfig::plain_http},
      {{"server", "worker_threads", "worker-threads",
        "threads running request handlers; 0 = screen workers + screen queue + 4 x cores"},
       &ServerConfig::worker_threads, {0, 4096}},
      {{"server", "max_connections", "max-connections", "open connections per listener (idle ones are closed first)"},
       &ServerConfig::max_connections, {1, 1'000'000}},
      {{"server", "max_connections_per_peer", "max-connections-per-peer", "open connections per client address"},
       &ServerConfig::max_connections_per_peer, {1, 1'000'000}},
      {{"server", "head_grace_ms", "head-grace-ms",
        "at a full connection cap, a request head (or TLS handshake) in progress longer than this may be closed"},
       &ServerConfig::head_grace_ms, {0, 600'000}},
      {{"server", "max_header_bytes", "max-header-bytes", "largest request head (request line and header fields)"},
       &ServerConfig::max_header_bytes, {1024, 1 << 20}},
      {{"server", "header_timeout_s", "header-timeout-s",
        "seconds for a whole request head (a new connection: TLS handshake and first head)"},
       &ServerConfig::header_timeout_s, {1, 3600}},
      {{"server", "body_timeout_s", "body-timeout-s", "seconds for a whole request body"},
       &ServerConfig::body_timeout_s, {1, 86400}},
      {{"server", "write_timeout_s", "write-timeout-s", "seconds for writing a whole response"},
       &ServerConfig::write_timeout_s, {1, 3600}},
      {{"server", "keep_alive_timeout_s", "keep-alive-timeout-s", "idle seconds before a keep-alive connection closes"},
       &ServerConfig::keep_alive_timeout_s, {1, 3600}},
      {{"server", "keep_alive_max_requests", "keep-alive-max-requests", "requests served on one connection before it closes"},
       &ServerConfig::keep_alive_max_requests, {1, 1'000'000'000}},
      {{"limits", "max_body_bytes", "max-body-bytes", "largest request body (an image, or a whole batch)"},
       &ServerConfig::max_body_bytes, {1024, 4ll << 30}},
      {{"limits", "max_pixels", "max-pixels", "largest decoded image, width x height, checked before decoding"},
       &ServerConfig::max_pixels, {1, 1'000'000'000}},
      {{"limits", "max_decode_memory", "max-decode-memory", "bytes one image's decode may hold (pixel buffers, decoder state), charged before allocating"},
       &ServerConfig::max_decode_memory, {1 << 20, 64ll << 30}},
      {{"limits", "max_decode_ms", "max-decode-ms", "milliseconds one image's decode may take"},
       &ServerConfig::max_decode_ms, {1, 3'600'000}},
      {{"limits", "screen_workers", "screen-workers", "images hashed at once; 0 = cores"}, &ServerConfig::screen_workers, {0, 1024}},
      {{"limits", "screen_queue", "screen-queue", "screens waiting for a worker before 503"}, &ServerConfig::screen_queue, {0, 100000}},
      Setting::Number({"limits", "rate_per_key", "rate-per-key",
                       "requests per second per API key (token bucket; a key may have its own); 0 = unlimited, else "
                       "0.001..1e6"},
                      &ServerConfig::rate_per_key, {store::kMinKeyRate, store::kMaxKeyRate}),
      {{"limits", "rate_burst", "rate-burst", "token bucket size: requests a key may make at once"}, &ServerConfig::rate_burst, {1, 1'000'000}},
      {{"limits", "max_batch_parts", "max-batch-parts", "images in one /v1/screen/batch request"},
       &ServerConfig::max_batch_parts, {1, 10000}},
      {{"limits", "max_hash_batch_items", "max-hash-batch-items", "hash items in one /v1/screen/hashes/batch request"},
       &ServerConfig::max_hash_batch_items, {1, 10000}},
      {{"limits", "body_buffer_bytes", "body-buffer-bytes",
        "request body bytes buffered at once over all connections (503 beyond)"},
       &ServerConfig::body_buffer_bytes, {1024, 1ll << 40}},
      {{"limits", "body_buffer_per_key_bytes", "body-buffer-per-key-bytes",
        "request body bytes one API key may have buffered at once (503 beyond); 0 = max(2 x max_body_bytes, "
        "body_buffer_bytes / 4)"},
       &ServerConfig::body_buffer_per_key_bytes, {0, 1ll << 40}},
      {{"probing", "band", "probing-band",
        "a screen whose closest PDQ hit on a list is within this many bits of the list's threshold counts as near-threshold"},
       &ServerConfig::probing_band, {1, 32}},
      {{"probing", "budget", "probing-budget", "near-threshold screens a key may make within the window; one more blocks it"},
       &ServerConfig::probing_budget, {1, 1'000'000}},
      {{"probing", "hash_budget", "probing-hash-budget",
        "near-threshold screens a key may make on one list hash within the window; one more blocks it"},
       &ServerConfig::probing_hash_budget, {1, 1'000'000}},
      {{"probing", "window_s", "probing-window-s", "seconds over which near-threshold screens are counted"},
       &ServerConfig::probing_window_s, {1, 365ll * 86400}},
      {{"probing", "block_s", "probing-block-s", "seconds a blocked key stays blocked; 0 = until an admin clears it"},
       &ServerConfig::probing_block_s, {0, 365ll * 86400}},
      {{"quarantine", "enabled", "quarantine-enabled",
        "quarantine a block-list signal that suddenly matches far more than its history (docs/exchanges.md)"},
       &ServerConfig::quarantine_enabled},
      {{"quarantine", "window_s", "quarantine-window-s", "seconds of a signal's recent matches that are compared with its history"},
       &ServerConfig::quarantine_window_s, {12, 30ll * 86400}},
      {{"quarantine", "min_hits", "quarantine-min-hits",
        "distinct contents matching a signal within the window below which it is never quarantined (the only test for a "
        "signal without history)"},
       &ServerConfig::quarantine_min_hits, {1, 1'000'000'000}},
      Setting::Number({"quarantine", "factor", "quarantine-factor",
                       "a signal is quarantined when its distinct matching contents in the window exceed this many times "
                       "its usual count per window (1..1e6)"},
                      &ServerConfig::quarantine_factor, {1, 1e6}),
      {{"quarantine", "history_windows", "quarantine-history-windows",
        "windows over which a signal's usual rate is averaged (exponentially weighted)"},
       &ServerConfig::quarantine_history_windows, {1, 100000}},
      {{"quarantine", "max_tracked", "quarantine-max-tracked", "signals whose match rates are tracked at once (~200 bytes each)"},
       &ServerConfig::quarantine_max_tracked, {1, 100'000'000}},
      {{"quarantine", "exempt_lists", "quarantine-exempt-lists",
        "names of lists (comma-separated) whose signals are never quarantined: entries verified by experts"},
       &ServerConfig::quarantine_exempt_lists},
      {{"keys", "last_used_flush_s", "keys-last-used-flush-s", "seconds between writes of the keys' last-use times to disk"},
       &ServerConfig::keys_last_used_flush_s, {1, 86400}},
      {{"screening", "pdq_mode", "pdq-mode", "full (what partner lists hold) or cli512"}, &ServerConfig::pdq_mode, {}, {"full", "cli512"}},
      {{"screening", "min_quality", "min-quality", "PDQ quality below which only exact digests are used"},
       &ServerConfig::min_quality, {0, 100}},
      {{"screening", "dihedral", "dihedral", "also match rotated and mirrored copies"}, &ServerConfig::dihedral},
      {{"screening", "trim_borders", "trim-borders", "also screen the picture inside uniform borders and letterbox bars"},
       &ServerConfig::trim_borders},
      {{"screening", "trim_captions", "trim-captions",
        "with trim_borders: also the picture under a caption bar (a bar with a line of text) at the top or bottom"},
       &ServerConfig::trim_captions},
      {{"screening", "fast_jpeg", "fast-jpeg",
        "decode large JPEGs at 1/2-1/8 size (faster, hashes drift a few bits; never the default)"},
       &ServerConfig::fast_jpeg},
      {{"audit", "hmac_key_file", "hmac-key-file", "file holding the audit chain HMAC key; empty = no HMAC"},
       &ServerConfig::hmac_key_file},
      {{"audit", "sync", "audit-sync", "fsync the audit entry before answering"}, &ServerConfig::sync},
      {{"audit", "group_commit", "group-commit", "concurrent screens share one audit fsync"}, &ServerConfig::group_commit},
      {{"audit", "retain_days", "retain-days",
        "days audit entries (matches, reviews, events) are kept; 0 = forever; under 365 needs allow_short_retention"},
       &ServerConfig::retain_days, {0, 100 * 366}},
      {{"audit", "retain_no_match_days", "retain-no-match-days",
        "days unreviewed no-match records keep their content before they are reduced to stubs; 0 = until retain_days"},
       &ServerConfig::retain_no_match_days, {0, 100 * 366}},
      {{"audit", "allow_short_retention", "allow-short-retention",
        "accept retain_days under 365 (records of reported material must usually be kept a year)"},
       &ServerConfig::allow_short_retention},
      {{"audit", "prune_interval_s", "prune-interval-s", "seconds between the server's retention prunes"},
       &ServerConfig::prune_interval_s, {60, 7 * 86400}},
      {{"log", "level", "log-level", "debug, info, warn or error"}, &ServerConfig::log_level, {}, {"debug", "info", "warn", "error"}},
      {{"log", "requests", "log-requests", "one log line per request"}, &ServerConfig::log_requests},
      {{"log", "format", "log-format", "text (k=v) or json (one object per line)"}, &ServerConfig::log_format, {}, {"text", "json"}},
      {{"metrics", "listen", "metrics-listen", "plain-HTTP listener for GET /metrics without a key; \"\" = none"},
       &ServerConfig::metrics_listen},
      {{"metrics", "allow_remote", "metrics-allow-remote", "allow metrics.listen on a non-loopback address"},
       &ServerConfig::metrics_allow_remote},
      {{"follow", "url", "follow", "follow the primary at this https:// URL (http:// only to loopback); \"\" = be a primary"},
       &ServerConfig::follow_url},
      {{"follow", "key_file", "follow-key-file", "file holding a replica API key of the primary, on one line"},
       &ServerConfig::follow_key_file},
      {{"follow", "cacert", "follow-cacert", "CA certificate to trust for the primary; empty = the system's"},
       &ServerConfig::follow_cacert},
      {{"follow", "max_lag_s", "follow-max-lag-s", "/readyz fails while the follower lags more than this"},
       &ServerConfig::follow_max_lag_s, {2, 86400}},
      {{"follow", "page_bytes", "follow-page-bytes", "feed page size asked of the primary (memory per page: ~3x)"},
       &ServerConfig::follow_page_bytes, {1024, 64ll << 20}},
      {{"ui", "enabled", "ui-enabled", "serve the review console at /ui/ and accept its session cookie"},
       &ServerConfig::ui_enabled},
      {{"ui", "session_ttl_s", "ui-session-ttl-s", "seconds a console sign-in lasts (no renewal)"},
       &ServerConfig::ui_session_ttl_s, {1, 30ll * 86400}},
      {{"ui", "max_sessions", "ui-max-sessions", "live console sessions at once (sign-ins beyond are refused)"},
       &ServerConfig::ui_max_sessions, {1, 1'000'000}},
  };
  return table;
}

std::string Name(const Setting& s) { return s.info.section + "." + s.info.key; }

Status CheckString(const Setting& s, const std::string& v) {
  if (s.choices.empty()) return Status::Ok();
  for (const auto& c : s.choices) if (c == v) return Status::Ok();
  std::string all;
  for (const auto& c : s.choices) all += (all.empty() ? "" : ", ") + c;
  return Status::InvalidArgument(Name(s) + ": '" + v + "' is not one of " + all);
}

Status CheckNumber(const Setting& s, double v) {
  if (v != 0 && !(v >= s.number_range.min && v <= s.number_range.max)) {
    char what[128];
    std::snprintf(what, sizeof what, ": %g is outside 0 (off) or %g..%g", v, s.number_range.min, s.number_range.max);
    return Status::InvalidArgument(Name(s) + what);
  }
  return Status::Ok();
}

Status CheckInt(const Setting& s, int64_t v) {
  if (v < s.range.min || v > s.range.max) {
    return Status::InvalidArgument(Name(s) + ": " + std::to_string(v) + " is outside " + std::to_string(s.range.min) +
                                   ".." + std::to_string(s.range.max));
  }
  return Status::Ok();
}

// Sets `s` from flag text.
Status SetFromText(const Setting& s, const std::string& text, ServerConfig* c) {
  const std::string where = "--" + s.info.flag + " (" + Name(s) + ")";
  return std::visit(
      [&](auto member) -> Status {
        using T = std::remove_reference_t<decltype(c->*member)>;
        if constexpr (std::is_same_v<T, std::string>) {
          HS_RETURN_IF_ERROR(CheckString(s, text));
          c->*member = text;
        } else if constexpr (std::is_same_v<T, bool>) {
          if (text == "true" || text == "1") c->*member = true;
          else if (text == "false" || text == "0") c->*member = false;
          else return Status::InvalidArgument(where + ": expected true or false, got '" + text + "'");
        } else if constexpr (std::is_same_v<T, int64_t>) {
          int64_t v = 0;
          auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
          if (ec != std::errc() || p != text.data() + text.size()) {
            return Status::InvalidArgument(where + ": expected an integer, got '" + text + "'");
          }
          HS_RETURN_IF_ERROR(CheckInt(s, v));
          c->*member = v;
        } else {
          double v = 0;
          if (!base::ParseDouble(text, where.c_str(), 0, std::numeric_limits<double>::max(), &v).ok()) {
            return Status::InvalidArgument(where + ": expected a number >= 0, got '" + text + "'");
          }
          HS_RETURN_IF_ERROR(CheckNumber(s, v));
          c->*member = v;
        }
        return Status::Ok();
      },
      s.member);
}

// Sets `s` from a TOML node, requiring the node's type to be the setting's.
Status SetFromNode(const Setting& s, const toml::node& node, ServerConfig* c) {
  return std::visit(
      [&](auto member) -> Status {
        using T = std::remove_reference_t<decltype(c->*member)>;
        if constexpr (std::is_same_v<T, std::string>) {
          auto v = node.value_exact<std::string>();
          if (!v) return Status::InvalidArgument(Name(s) + ": expected a string");
          HS_RETURN_IF_ERROR(CheckString(s, *v));
          c->*member = *v;
        } else if constexpr (std::is_same_v<T, bool>) {
          auto v = node.value_exact<bool>();
          if (!v) return Status::InvalidArgument(Name(s) + ": expected true or false");
          c->*member = *v;
        } else if constexpr (std::is_same_v<T, int64_t>) {
          auto v = node.value_exact<int64_t>();
          if (!v) return Status::InvalidArgument(Name(s) + ": expected an integer");
          HS_RETURN_IF_ERROR(CheckInt(s, *v));
          c->*member = *v;
        } else {
          std::optional<double> v = node.value<double>();  // integers are accepted as numbers here
          if (!v || !std::isfinite(*v) || *v < 0) return Status::InvalidArgument(Name(s) + ": expected a number >= 0");
          HS_RETURN_IF_ERROR(CheckNumber(s, *v));
          c->*member = *v;
        }
        return Status::Ok();
      },
      s.member);
}

bool IsBool(const Setting& s) { return std::holds_alternative<bool ServerConfig::*>(s.member); }

// A file setting must name a readable regular file: a directory would be
// read as empty (or throw), and a FIFO would block the start forever.
Status CheckRegularFile(const std::string& what, const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return Status::IOError(what + ": " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(what + ": " + path + ": not a regular file");
  if (::access(path.c_str(), R_OK) != 0) return Status::IOError(what + ": " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

// [[exchange]]: an array of tables, each handed to sync/ as key/value pairs
// (it knows each kind's keys); the list replaces any earlier file's.
Status LoadExchanges(const toml::node& node, ServerConfig* config) {
  const toml::array* tables = node.as_array();
  if (!tables || !tables->is_array_of_tables()) {
    return Status::InvalidArgument("exchange must be an array of tables ([[exchange]])");
  }
  std::vector<hsync::ExchangeConfig> out;
  for (size_t i = 0; i < tables->size(); ++i) {
    const toml::table& t = *(*tables)[i].as_table();
    hsync::ExchangeTable values;
    for (const auto& [key, value] : t) {
      const std::string k(key.str());
      if (auto v = value.value_exact<std::string>()) {
        values.emplace_back(k, *v);
      } else if (auto n = value.value_exact<int64_t>()) {
        values.emplace_back(k, *n);
      } else if (auto b = value.value_exact<bool>()) {
        values.emplace_back(k, *b);
      } else {
        return Status::InvalidArgument("exchange[" + std::to_string(i) + "]." + k +
                                       ": expected a string, an integer or true/false");
      }
    }
    hsync::ExchangeConfig c;
    HS_RETURN_IF_ERROR(hsync::ParseExchangeTable(values, i, &c));
    out.push_back(std::move(c));
  }
  HS_RETURN_IF_ERROR(hsync::ValidateExchanges(out));
  config->exchanges = std::move(out);
  return Status::Ok();
}

}  // namespace

const std::vector<SettingInfo>& Settings() {
  static const std::vector<SettingInfo> infos = [] {
    std::vector<SettingInfo> v;
    for (const auto& s : Table()) v.push_back(s.info);
    return v;
  }();
  return infos;
}

Status LoadConfigFile(const std::string& path, ServerConfig* config) {
  HS_RETURN_IF_ERROR(CheckRegularFile("--config", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": read error");
  return LoadConfigText(text.str(), path, config);
}

Status LoadConfigText(const std::string& text, const std::string& path, ServerConfig* config) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(path + ":" + std::to_string(e.source().begin.line) + ": " +
                                   std::string(e.description()));
  } catch (const std::exception& e) {
    return Status::IOError(path + ": " + e.what());
  }
  for (const auto& [section, node] : root) {
    if (section.str() == "exchange") {
      HS_RETURN_IF_ERROR(LoadExchanges(node, config).WithContext(path));
      continue;
    }
    const toml::table* table = node.as_table();
    bool known_section = false;
    for (const auto& s : Table()) known_section |= s.info.section == section.str();
    if (!known_section) return Status::InvalidArgument(path + ": unknown section [" + std::string(section.str()) + "]");
    if (!table) return Status::InvalidArgument(path + ": " + std::string(section.str()) + " must be a [section]");
    for (const auto& [key, value] : *table) {
      const Setting* match = nullptr;
      for (const auto& s : Table()) {
        if (s.info.section == section.str() && s.info.key == key.str()) match = &s;
      }
      if (!match) {
        return Status::InvalidArgument(path + ": unknown key " + std::string(section.str()) + "." + std::string(key.str()));
      }
      HS_RETURN_IF_ERROR(SetFromNode(*match, value, config).WithContext(path));
    }
  }
  return Status::Ok();
}

Status ApplyFlags(const std::vector<std::string>& args, ServerConfig* config) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) return Status::InvalidArgument("unexpected argument '" + a + "'");
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    const Setting* match = nullptr;
    for (const auto& s : Table()) if (s.info.flag == name) match = &s;
    if (!match) return Status::InvalidArgument("unknown flag --" + name + " (see --help)");
    if (!has_value) {
      if (IsBool(*match)) {
        value = "true";
      } else {
        if (i + 1 >= args.size()) return Status::InvalidArgument("--" + name + " needs a value");
        value = args[++i];
      }
    }
    HS_RETURN_IF_ERROR(SetFromText(*match, value, config));
  }
  return Status::Ok();
}

Status ParseListen(const std::string& listen, std::string* host, int* port) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument("server.listen: '" + listen + "' is not host:port");
  }
  std::string h = listen.substr(0, colon);
  if (h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  std::string p = listen.substr(colon + 1);
  int v = -1;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
  if (ec != std::errc() || ptr != p.data() + p.size() || v < 0 || v > 65535) {
    return Status::InvalidArgument("server.listen: '" + p + "' is not a port (0..65535)");
  }
  *host = h;
  *port = v;
  return Status::Ok();
}

Status ValidateConfig(const ServerConfig& c) {
  std::string host;
  int port = 0;
  HS_RETURN_IF_ERROR(ParseListen(c.listen, &host, &port));
  if (c.plain_http) {
    if (!base::IsLoopbackHost(host)) {
      return Status::InvalidArgument("server.plain_http: refused on non-loopback address " + host +
                                     " (serve HTTPS with tls_cert and tls_key)");
    }
  } else if (c.tls_cert.empty() || c.tls_key.empty()) {
    return Status::InvalidArgument("server.tls_cert and server.tls_key are required for HTTPS (or plain_http on loopback)");
  } else {
    HS_RETURN_IF_ERROR(CheckRegularFile("server.tls_cert", c.tls_cert));
    HS_RETURN_IF_ERROR(CheckRegularFile("server.tls_key", c.tls_key));
  }
  if (!c.hmac_key_file.empty()) HS_RETURN_IF_ERROR(CheckRegularFile("audit.hmac_key_file", c.hmac_key_file));
  if (c.data_dir.empty()) return Status::InvalidArgument("server.data_dir: must not be empty");
  HS_RETURN_IF_ERROR(ValidateRetention(c));
  std::vector<std::string> exempt_lists;
  HS_RETURN_IF_ERROR(FloodDetector::ParseExemptLists(c.quarantine_exempt_lists, &exempt_lists));
  if (!c.metrics_listen.empty()) {
    Status s = ParseListen(c.metrics_listen, &host, &port);
    if (!s.ok()) return Status::InvalidArgument("metrics.listen: '" + c.metrics_listen + "' is not host:port");
    if (!c.metrics_allow_remote && !base::IsLoopbackHost(host)) {
      return Status::InvalidArgument("metrics.listen: refused on non-loopback address " + host +
                                     " (metrics need no key; set metrics.allow_remote = true to serve them remotely)");
    }
  }
  if (c.follow_url.empty() && (!c.follow_key_file.empty() || !c.follow_cacert.empty())) {
    return Status::InvalidArgument("follow.key_file and follow.cacert need follow.url");
  }
  if (!c.follow_url.empty() && c.follow_key_file.empty()) {
    return Status::InvalidArgument("follow.url needs follow.key_file (a file holding a replica key of the primary)");
  }
  if (!c.follow_url.empty() && !c.exchanges.empty()) {
    return Status::InvalidArgument("[[exchange]] tables need a primary: a follower (follow.url) copies the primary's "
                                   "lists, exchanges included");
  }
  if (c.body_buffer_bytes < c.max_body_bytes) {
    return Status::InvalidArgument("limits.body_buffer_bytes: " + std::to_string(c.body_buffer_bytes) +
                                   " is less than limits.max_body_bytes (" + std::to_string(c.max_body_bytes) + ")");
  }
  if (c.body_buffer_per_key_bytes != 0 &&
      (c.body_buffer_per_key_bytes < c.max_body_bytes || c.body_buffer_per_key_bytes > c.body_buffer_bytes)) {
    return Status::InvalidArgument("limits.body_buffer_per_key_bytes: " + std::to_string(c.body_buffer_per_key_bytes) +
                                   " must be 0 or between limits.max_body_bytes (" + std::to_string(c.max_body_bytes) +
                                   ") and limits.body_buffer_bytes (" + std::to_string(c.body_buffer_bytes) + ")");
  }
  return Status::Ok();
}

Status ValidateRetention(const ServerConfig& c) {
  if (c.retain_days != 0 && c.retain_days < 365 && !c.allow_short_retention) {
    return Status::InvalidArgument("audit.retain_days: " + std::to_string(c.retain_days) +
                                   " is under 365 days (records of matches and reports must usually be kept at least a "
                                   "year); set audit.allow_short_retention = true to accept it");
  }
  return Status::Ok();
}

int64_t BodyBufferPerKey(const ServerConfig& c) {
  if (c.body_buffer_per_key_bytes != 0) return c.body_buffer_per_key_bytes;
  return std::min(c.body_buffer_bytes, std::max(2 * c.max_body_bytes, c.body_buffer_bytes / 4));
}

}  // namespace server
