// NcmecClient: the wire side of the `ncmec` kind, NCMEC's hash sharing API
// v2 (XML), as NCMEC's usage notes and python-threatexchange's client
// describe it (docs/exchanges.md has the details):
//   request   GET {base_url}/v2/entries?from=ISO&to=ISO   (UTC, from
//             exclusive, to inclusive), HTTP Basic auth;
//   answer    <queryResult> with <images> and <videos> holding <image>,
//             <video>, <deletedImage>, <deletedVideo> entries: <member id=N>,
//             <id>, <timestamp> (the entry's last change), <classification>,
//             <fingerprints> (<md5>, <sha1>, <pdna>, <pdq>, ...), and
//             <paging><next> (a path relative to base_url: from, to, start,
//             size, max) until the last page of the window;
//   order     entries inside a window are NOT in time order: only a window
//             read to its last page says anything about time.
// What hashscreen matches of an image entry: md5 and pdq. sha1, pdna,
// netclean and the large (href) fingerprints are ignored, and so are video
// entries (hashscreen screens images).
//
// XML from a partner is hostile input: parsed with expat, any DOCTYPE (so
// any DTD, entity declaration or external entity) refuses the page, nesting
// deeper than 32 refuses it, the body is capped by max_bytes before parsing.
//
// Thread-safety: ParseNcmecPage is pure; an NcmecClient fetches from one
// thread at a time, Cancel from any.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/hash_lists.h"
#include "sync/exchange/exchange_config.h"
#include "sync/exchange/http_fetcher.h"

namespace hsync {

struct NcmecEntry {
  bool deleted = false;
  std::string ref;                       // "MEMBER-ID": ids are unique per member only
  std::vector<base::SignalEntry> signals;  // md5 and/or pdq, ref set; empty for deletes
  store::SignalMeta meta;                // classification as a tag, timestamp as first_seen_ms
};

struct NcmecPage {
  std::vector<NcmecEntry> entries;  // images, in page order
  std::string next;                 // relative path, XML-unescaped; "" = the window's last page
  uint64_t skipped = 0;             // video entries (not matched by hashscreen)
  int64_t estimated = -1;           // entries in the window per next's max/start; -1 unknown
};

// InvalidArgument ("NCMEC page: ...") for a body that is not such a page:
// not XML, a DOCTYPE, a missing <id> or <member id>, a fingerprint that is not
// hex of its length, a timestamp that is not ISO 8601 UTC. A page is applied
// whole or not at all.
Status ParseNcmecPage(std::string_view body, NcmecPage* out);

// "2017-10-24T15:00:00Z" or with milliseconds ("...00.000Z") to Unix ms;
// false for anything else.
bool ParseNcmecTime(std::string_view text, int64_t* unix_ms);
// Unix seconds to "2017-10-24T15:00:00Z".
std::string FormatNcmecTime(int64_t unix_s);

class NcmecClient {
 public:
  // Reads the credentials file ("user:password", one line) now.
  static Status Create(const ExchangeConfig& config, std::unique_ptr<NcmecClient>* out);
  NcmecClient(const NcmecClient&) = delete;
  NcmecClient& operator=(const NcmecClient&) = delete;

  // The path of a window's first page.
  static std::string WindowPath(int64_t from_s, int64_t to_s);
  // GETs base_url + path (a path from WindowPath or a page's next; anything
  // that is not a /v2/entries path is refused, so the credentials never go
  // elsewhere) and parses it. Unavailable for HTTP errors (*status set,
  // *retry_after_s from a 429/503), InvalidArgument for a page that does not
  // parse.
  Status Fetch(const std::string& path, NcmecPage* out, int* status, int64_t* retry_after_s);
  void Cancel() { fetcher_.Cancel(); }

 private:
  explicit NcmecClient(const ExchangeConfig& c) : config_(c) {}
  ExchangeConfig config_;
  std::string user_, password_;
  HttpFetcher fetcher_;
};

}  // namespace hsync
