// SnapshotSource: where the url and file kinds get the whole list from.
//   url   GET with If-None-Match / If-Modified-Since from the last applied
//         answer (HttpFetcher: time and size caps, cancel); 304 = unchanged;
//         429 and 503 are Unavailable with the server's Retry-After; any
//         other non-200 is Unavailable naming the status.
//   file  a regular file read whole (at most max_bytes); unchanged when its
//         size and modification time are the last applied ones.
// The checkpoint a fetch returns is only stored once its snapshot is applied.
//
// Thread-safety: Fetch from one thread at a time; Cancel from any.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sync/exchange/exchange_config.h"
#include "sync/exchange/http_fetcher.h"

namespace hsync {

struct Snapshot {
  bool not_modified = false;
  std::string text;        // the list, when modified
  std::string checkpoint;  // to store with it
};

class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  // On Unavailable, *retry_after_s is the server's Retry-After (else -1).
  virtual Status Fetch(const std::string& checkpoint, Snapshot* out, int64_t* retry_after_s) = 0;
  virtual void Cancel() = 0;
};

// For kinds url and file; reads the url kind's auth_file now.
Status MakeSnapshotSource(const ExchangeConfig& config, std::unique_ptr<SnapshotSource>* out);

}  // namespace hsync
