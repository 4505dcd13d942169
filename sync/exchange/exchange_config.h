// ExchangeConfig: one `[[exchange]]` table of the server's TOML file, the
// settings of one partner exchange (docs/exchanges.md lists every key with
// its default). The TOML reader (server/config.cc) hands each table over as
// plain key/value pairs; ParseExchangeTable checks them: a key the exchange's
// kind does not know, a value of the wrong type or out of range, a missing
// required key, is an InvalidArgument naming `exchange[i].key`. Credentials
// are never values here: a setting names a file holding them (*_file).
//
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"

namespace hsync {

using base::Status;

enum class ExchangeKind { kUrl, kFile, kNcmec, kStopNcii, kThreatExchange, kTcap };

// "url", "file", "ncmec", "stopncii", "threatexchange", "tcap".
const char* ExchangeKindName(ExchangeKind kind);

struct ExchangeConfig {
  std::string name;  // 1..64 of [A-Za-z0-9_.-]; unique
  ExchangeKind kind = ExchangeKind::kUrl;
  std::string list;  // the local list it feeds (owner "exchange:NAME")
  int64_t interval_s = 300;
  int64_t pdq_threshold = 31;
  // url: the list's URL (https://, or http:// to a loopback host);
  // file: its path. format/type: how codec/ reads it (codec::ParseListFormat).
  std::string url;
  std::string path;
  std::string format = "auto";
  std::string type = "pdq";
  std::string cacert;     // CA file to trust for https; "" = the system's
  std::string auth_file;  // url: a file whose one line is sent as "Authorization: <line>"
  // threatexchange: the privacy group, a file holding the app token
  // ("APPID|SECRET"), the Graph API base, page size, the indicator types
  // asked for, and after how long without a success the checkpoint is stale
  // (deletions are kept ~90 days) and everything is fetched again.
  std::string privacy_group;
  std::string token_file;
  std::string base_url = "https://graph.facebook.com/v21.0";
  int64_t page_limit = 500;
  std::string types = "HASH_PDQ,HASH_MD5";
  int64_t stale_after_s = 85ll * 86400;
  // ncmec: base_url is the environment's (e.g. https://report.cybertip.org/
  // hashsharing; required); a file holding "user:password" for Basic auth;
  // a window whose first page announces more entries than
  // max_window_entries is split in four (never below 1 s); a saved paging
  // path older than paging_ttl_s restarts its window (NCMEC: < 12 h).
  std::string credentials_file;
  int64_t max_window_entries = 400000;
  int64_t paging_ttl_s = 6 * 3600;
  // stopncii: base_url (default https://api.stopncii.org/v1), the files
  // holding FetchHashes' function key (x-functions-key) and the API
  // subscription key (Ocp-Apim-Subscription-Key); page_limit is pageSize;
  // stale_after_s defaults to 30 days (pytx's margin: StopNCII documents no
  // tombstone retention).
  std::string fetch_key_file;
  std::string subscription_key_file;
  // tcap: base_url (default https://beta.terrorismanalytics.org), the login
  // and hash-list paths under it, the account's username, the file holding
  // its password, an optional ideology filter (islamist, far-right, all);
  // page_limit is `page_size` (TCAP's `limit`); stale_after_s defaults to 30
  // days (TCAP documents no tombstone retention).
  std::string username;
  std::string password_file;
  std::string token_path = "/token-auth/tcap/";
  std::string list_path = "/api/hash-list/v2/all";
  std::string ideology;
  // Reviewers' feedback (ncmec, stopncii, threatexchange; not tcap, whose
  // feedback call is not documented; sync/exchange/
  // feedback_queue.h): attempts before an item is failed; ncmec: the reason
  // GUID a downvote (false positive) carries ("" = false positives on this
  // exchange fail, naming the setting); stopncii: the file holding the
  // SubmitFeedback function's key ("" = fetch_key_file's).
  int64_t feedback_attempts = 24;  // 6 to 10 hours of retries (FeedbackRetryDelayMs)
  std::string feedback_reason;
  std::string feedback_key_file;
  int64_t max_bytes = 256ll << 20;  // largest snapshot fetched or read (threatexchange: one page)
  int64_t timeout_s = 60;           // a whole fetch, connection to last byte
};

using ExchangeValue = std::variant<std::string, int64_t, bool>;
using ExchangeTable = std::vector<std::pair<std::string, ExchangeValue>>;

// Checks table number `index` (0-based, for messages) into *out.
Status ParseExchangeTable(const ExchangeTable& table, size_t index, ExchangeConfig* out);
// Cross-table checks: names unique (each feeds its own list: owners differ).
Status ValidateExchanges(const std::vector<ExchangeConfig>& exchanges);

// The owner of the list an exchange feeds: "exchange:NAME".
std::string ExchangeOwner(const std::string& name);

}  // namespace hsync
