// ThreatExchange: the wire side of the `threatexchange` kind, Meta's Graph
// API `GET /{privacy_group}/threat_updates` (JSON). What python-threatexchange
// and Meta's docs describe:
//   request   {base_url}/{privacy_group}/threat_updates/?access_token=TOKEN
//             &limit=N&types=HASH_PDQ,HASH_MD5&fields=id,indicator,type,
//             last_updated,should_delete,descriptors{id,tags,status}
//             [&start_time=UNIX_S]  (none: the whole group, the first sync)
//   answer    {"data": [{"id", "indicator", "type", "last_updated",
//             "should_delete", "descriptors": {"data": [{"id", "tags", ..}]}}],
//             "paging": {"next": ABSOLUTE_URL}}   (no next: the last page)
//   deletes   should_delete true, or no descriptors (pytx's workaround for
//             descriptors that became invisible) withdraw the indicator.
//   order     by update time, so the largest last_updated applied is a
//             checkpoint to resume from (start_time, inclusive: re-fetching
//             an update is harmless, adds and withdrawals are idempotent).
// Indicator types read: HASH_PDQ (64 hex) and HASH_MD5 (32 hex); others are
// counted and skipped. Tags: a plain list or Graph's {"data":[{"text"}]}.
// Descriptor ids (a string of digits, or a number) are kept as tags
// "descriptor:ID" ahead of the tags (sync/exchange/partner_update.h): the
// feedback reacts on them; one that is not 1..32 digits is left out.
//
// Thread-safety: ParseThreatUpdates is pure; a ThreatExchangeClient fetches
// from one thread at a time, Cancel from any.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/hash_lists.h"
#include "sync/exchange/exchange_config.h"
#include "sync/exchange/http_fetcher.h"
#include "sync/exchange/partner_update.h"

namespace hsync {

// entry.ref: the update's (indicator's) id; meta: its descriptors' ids and
// tags.
struct ThreatUpdate : PartnerUpdate {
  int64_t last_updated = 0;
};

struct ThreatUpdatePage {
  std::vector<ThreatUpdate> updates;
  std::string next;  // "" = the last page
  uint64_t skipped_types = 0;
  int64_t max_last_updated = 0;  // over every update of the page, skipped types included
};

// InvalidArgument ("threat_updates page: ...") for a body that is not such
// a page, or an update whose indicator is not a hash of its type: a page is
// applied whole or not at all.
Status ParseThreatUpdates(std::string_view body, ThreatUpdatePage* out);

class ThreatExchangeClient {
 public:
  // Reads the token file now.
  static Status Create(const ExchangeConfig& config, std::unique_ptr<ThreatExchangeClient>* out);
  // The first page's URL; no start_time: the whole group.
  std::string FirstUrl(std::optional<int64_t> start_time) const;
  // GETs `url` and parses it. Unavailable for HTTP errors (with the Graph
  // error's message; *retry_after_s from a 429/503), InvalidArgument for a
  // page that does not parse. `next` is only followed if it is on base_url's
  // origin (the token must not be sent elsewhere).
  Status Fetch(const std::string& url, ThreatUpdatePage* out, int64_t* retry_after_s);
  void Cancel() { fetcher_.Cancel(); }

 private:
  explicit ThreatExchangeClient(const ExchangeConfig& c) : config_(c) {}
  ExchangeConfig config_;
  std::string token_;
  HttpFetcher fetcher_;
};

}  // namespace hsync
