// TcapClient: the wire side of the `tcap` kind, Tech Against Terrorism's
// TCAP hash list v2 (JSON), as TAT's documentation and python-threatexchange's
// client describe it (docs/exchanges.md has the details and what is unknown):
//   login     POST {base_url}{token_path} {"username","password"} ->
//             {"token": JWT}; the JWT is held in memory only and sent as
//             "Authorization: Bearer JWT";
//   request   GET {base_url}{list_path}?order=asc&limit=N&after=CHECKPOINT
//             [&ideology=I];
//   answer    {"count", "next", "previous", "checkpoint": "EPOCH,ID",
//             "results": [{"id", "hash_digest", "algorithm", "ideology",
//             "file_type", "deleted", "updated_on"}]}, paged by sending the
//             answer's checkpoint as `after` while `next` is not null.
// PDQ, MD5 and SHA256 records are kept (lower-case hex); other algorithms
// (SHA512, ...) are counted and skipped, and so is a digest that is not a
// hash of its algorithm (counted apart: one bad record must not wedge the
// list). `deleted: true` withdraws the hash.
//
// The password and the token never appear in a Status, a log line or a
// request name.
//
// Thread-safety: ParseTcapPage is pure; a client fetches from one thread at
// a time, Cancel from any.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sync/exchange/exchange_config.h"
#include "sync/exchange/http_fetcher.h"
#include "sync/exchange/partner_update.h"

namespace hsync {

// entry.ref: the TCAP id; meta.tags: "ideology:I", "file_type:F";
// meta.first_seen_ms: updated_on (TCAP gives no first-seen time).
struct TcapRecord : PartnerUpdate {};

struct TcapPage {
  std::vector<TcapRecord> records;
  std::string checkpoint;  // "" when the answer has none (an empty page)
  bool has_next = false;   // `next` is not null
  uint64_t skipped = 0;    // algorithms hashscreen does not screen
  uint64_t invalid = 0;    // digests that are not a hash of their algorithm
  std::string first_invalid;  // "id N: why", for the log
};

// InvalidArgument ("TCAP page: ...") for a body that is not such a page (not
// JSON, no results array, a record without id/hash_digest/algorithm, a
// non-boolean deleted, a checkpoint that is not "EPOCH,ID", `next` without a
// checkpoint): a page is applied whole or not at all.
Status ParseTcapPage(std::string_view body, TcapPage* out);

// A checkpoint as TCAP writes it: "<seconds[.fraction]>,<id>", <= 64 bytes.
bool TcapCheckpointOk(std::string_view checkpoint);

class TcapClient {
 public:
  // Reads password_file now (refused when missing, empty, more than one line,
  // or readable by others).
  static Status Create(const ExchangeConfig& config, std::unique_ptr<TcapClient>* out);
  TcapClient(const TcapClient&) = delete;
  TcapClient& operator=(const TcapClient&) = delete;

  enum class Outcome { kPage, kCheckpointRefused };
  // One page after `after` ("" = from the beginning), logging in first when
  // no token is held. A 401/403 logs in again once and repeats the request;
  // a refusal after that, or of the login itself, is PermissionDenied.
  // *outcome kCheckpointRefused (Ok) when the server answers 400 or 410 to a
  // non-empty `after`. Unavailable for other HTTP errors (*retry_after_s
  // from a 429/503), InvalidArgument for a page that does not parse.
  Status Fetch(const std::string& after, TcapPage* out, Outcome* outcome, int64_t* retry_after_s);
  void Cancel() { fetcher_.Cancel(); }

 private:
  explicit TcapClient(const ExchangeConfig& c) : config_(c) {}
  Status Login(int64_t* retry_after_s);
  HttpRequest Base(std::string url, std::string name) const;

  ExchangeConfig config_;
  std::string password_;
  std::string token_;  // "" = log in before the next request
  HttpFetcher fetcher_;
};

}  // namespace hsync
