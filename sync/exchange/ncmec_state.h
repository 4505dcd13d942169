// NcmecState: what the `ncmec` kind keeps beyond ExchangeState, all in the
// meta family and written in the same atomic write as the list changes:
//
//   checkpoint  (ExchangeState::checkpoint) "DONE" when no window is open, or
//               "DONE TO SAVED_MS NEXT" inside a window: every window up to
//               DONE (Unix s) was read to its last page; the open window is
//               (DONE, TO], and NEXT its next page's path, saved at SAVED_MS
//               (a paging path is a naive offset into one exact query: it is
//               only resumed verbatim and while young, else the window
//               restarts at DONE).
//   entry index "exchange/NAME/ref/MEMBER-ID" -> the signals (type byte +
//               hash bytes, length-prefixed) that entry holds, and
//               "exchange/NAME/sig/TYPE HASH" -> the entries holding that
//               signal. NCMEC deletes name only the entry, and two members
//               may share a hash: a signal leaves the list when the last
//               entry holding it is deleted or changed.
//
// NcmecIndexBatch stages one page: Apply each entry in page order (a later
// occurrence of an entry wins), then the batch holds the net list changes
// (a signal added and removed again inside the page is neither) and
// Writes() the index records to store with it.
//
// Thread-safety: NcmecIndexBatch is used by one thread; the rest is pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "store/database.h"
#include "store/hash_lists.h"
#include "sync/exchange/ncmec_client.h"

namespace hsync {

struct NcmecCheckpoint {
  int64_t done_s = 0;
  int64_t to_s = 0;       // with next: the open window's end
  int64_t saved_ms = 0;   // when next was saved
  std::string next;       // "" = no window open
};

std::string EncodeNcmecCheckpoint(const NcmecCheckpoint& c);
// A damaged checkpoint reads as {done_s = 0}: everything is read again
// (harmless: adds and deletes are idempotent).
NcmecCheckpoint DecodeNcmecCheckpoint(const std::string& text);

class NcmecIndexBatch {
 public:
  NcmecIndexBatch(const store::Database* db, std::string exchange_name)
      : db_(db), name_(std::move(exchange_name)) {}
  NcmecIndexBatch(const NcmecIndexBatch&) = delete;
  NcmecIndexBatch& operator=(const NcmecIndexBatch&) = delete;

  // Stages one entry: its signals replace what the entry held before
  // (a delete holds none).
  Status Apply(const NcmecEntry& entry);
  // The net list changes of everything staged (adds with their metadata).
  store::BatchRequest Batch() const;
  // The index records to write with the batch.
  std::vector<store::HashLists::MetaWrite> Writes() const;

 private:
  Status Load(const std::string& key, std::vector<std::string>** out);

  const store::Database* db_;
  const std::string name_;
  // key -> value staged (empty: delete the record); loaded on first touch.
  std::map<std::string, std::vector<std::string>> records_;
  std::map<std::string, bool> touched_;  // index key -> whether it existed before
  // Signal key -> (present before the page, the entry that last added it).
  struct Sig {
    bool before = false;
    base::SignalEntry entry;
    store::SignalMeta meta;
  };
  std::map<std::string, Sig> sigs_;
};

}  // namespace hsync
