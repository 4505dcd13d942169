// The feed: one ordered log of everything a follower needs to mirror a
// primary's lists, read with one cursor (docs/sync.md). Each record has a
// global, consecutive u64 feed seq and is one of:
//   list_put  the whole list record (name, owner, kind, threshold, enabled,
//             created, last seq, signal count) after a CreateList/UpdateList;
//   batch     a list id and the range of its change seqs (first..last) one
//             ApplyBatch added: the entries themselves are read from the
//             per-list `changes` family, so no hash is stored twice.
// Records are written in the same atomic write as the change they describe
// (store/hash_lists.h), so the feed and the lists can never disagree.
//
// A FeedCursor is a position in the feed: (record, 0) means "every record up
// to and including `record` is delivered"; (record, c) with c > 0 means
// "records before `record` are delivered, and of batch record `record` its
// changes up to change seq c". A large batch thus spans pages. Clients treat
// the text form ("R" or "R.C") as opaque.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/hash_lists.h"

namespace store {

struct FeedCursor {
  uint64_t record = 0;
  uint64_t change = 0;
  bool operator==(const FeedCursor&) const = default;
};

std::string FormatFeedCursor(const FeedCursor& c);
// Parses "R" or "R.C" (decimal); InvalidArgument naming `what` otherwise.
Status ParseFeedCursor(std::string_view text, const char* what, FeedCursor* out);

enum class FeedKind : uint8_t { kListPut = 1, kBatch = 2 };

// One stored feed record.
struct FeedRecord {
  uint64_t seq = 0;
  FeedKind kind = FeedKind::kListPut;
  int64_t time_ms = 0;
  ListInfo list;                  // kListPut
  uint64_t list_id = 0;           // kBatch (and list.id for kListPut)
  uint64_t first_change = 0;      // kBatch: change seqs first..last of the list
  uint64_t last_change = 0;
};

// One item of a page: a list_put, or the part of a batch record that fits.
struct FeedItem {
  FeedRecord record;
  // kBatch: consecutive changes of record.list_id, a sub-range of
  // record.first_change..record.last_change, in seq order.
  std::vector<Change> changes;
  // kBatch: this item ends with the record's last change.
  bool completes() const { return record.kind != FeedKind::kBatch || (!changes.empty() && changes.back().seq == record.last_change); }
};

struct FeedPage {
  std::vector<FeedItem> items;
  FeedCursor next;            // the cursor after this page (== the request's when empty)
  FeedCursor head;            // the newest complete record: (head, 0)
  int64_t head_time_ms = 0;   // time of the newest record (0: empty feed)
  size_t entries = 0;         // list_puts + changes in the page
};

namespace keys {
std::string FeedKey(uint64_t seq);
std::string EncodeFeedRecord(const FeedRecord& r);
Status DecodeFeedRecord(uint64_t seq, std::string_view value, FeedRecord* out);
}  // namespace keys

}  // namespace store
