// StopNciiClient: the wire side of the `stopncii` kind, StopNCII.org's hash
// exchange (JSON), as python-threatexchange's client and HMA read it
// (docs/exchanges.md has the details):
//   request   GET {base_url}/FetchHashes?startTimestamp=S&pageSize=N
//             [&nextPageToken=T], headers x-functions-key (the FetchHashes
//             function's key) and Ocp-Apim-Subscription-Key;
//   answer    {"count", "nextSetTimestamp", "nextPageToken",
//             "hasMoreRecords", "hashRecords": [{"lastModtimestamp",
//             "hashValue", "hashStatus", "signalType", "caseNumbers":
//             {CASE: STATUS}, "CSPFeedbacks": [{"source", "feedbackValue",
//             "tags"}]}]};
//   records   a snapshot per (signalType, hashValue): a later one replaces
//             the earlier; hashStatus Withdrawn or Deleted (or every case
//             Withdrawn/Deleted) withdraws the hash (pytx tests hashValue
//             there, a bug that never withdraws anything).
// Only ImagePDQ is matched (hashscreen screens images); VideoMD5, VideoTMK,
// Text, URL records are counted and skipped.
//
// Thread-safety: ParseStopNciiPage is pure; a client fetches from one thread
// at a time, Cancel from any.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/hash_lists.h"
#include "sync/exchange/exchange_config.h"
#include "sync/exchange/http_fetcher.h"
#include "sync/exchange/partner_update.h"

namespace hsync {

// entry.ref: the first case number; meta: other platforms' feedback tags,
// lastModtimestamp as first_seen_ms.
struct StopNciiRecord : PartnerUpdate {};

struct StopNciiPage {
  std::vector<StopNciiRecord> records;
  int64_t next_set_timestamp = -1;  // -1: absent
  std::string next_page_token;
  bool has_more = false;
  uint64_t skipped = 0;  // signal types hashscreen does not match
};

// InvalidArgument ("StopNCII page: ...") for a body that is not such a page
// (not JSON, no hashRecords, a record without hashValue/hashStatus/
// signalType, an ImagePDQ that is not 64 hex digits, hasMoreRecords without
// a token): a page is applied whole or not at all.
Status ParseStopNciiPage(std::string_view body, StopNciiPage* out);

class StopNciiClient {
 public:
  // Reads the two key files now.
  static Status Create(const ExchangeConfig& config, std::unique_ptr<StopNciiClient>* out);
  StopNciiClient(const StopNciiClient&) = delete;
  StopNciiClient& operator=(const StopNciiClient&) = delete;

  // One FetchHashes page. Unavailable for HTTP errors (*retry_after_s from a
  // 429/503), InvalidArgument for a page that does not parse.
  Status Fetch(int64_t start_timestamp, const std::string& page_token, StopNciiPage* out, int64_t* retry_after_s);
  void Cancel() { fetcher_.Cancel(); }

 private:
  explicit StopNciiClient(const ExchangeConfig& c) : config_(c) {}
  ExchangeConfig config_;
  std::string fetch_key_, subscription_key_;
  HttpFetcher fetcher_;
};

}  // namespace hsync
