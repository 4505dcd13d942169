// The feed's binary wire encoding: how GET /v1/feed answers a follower that
// sends `Accept: application/x-hashscreen-feed` (people get JSON). It is
// what makes bootstrap fast: a PDQ add is ~37 bytes (JSON: ~130, and a
// parse per field), and decoding is a bounds-checked walk, no allocation
// beyond the page itself (docs/sync.md has the layout and numbers).
//
//   "HSF1"  u64 next.record  u64 next.change  u64 head.record  i64 head_time_ms
//   u16 n + primary instance id   u32 items, each:
//     u8 kind  u64 feed seq  i64 time_ms
//     kind 1 (list_put): u64 list id, u32 n + the list record (store/key_encoding.h)
//     kind 2 (batch):    u64 list id, u64 first change, u64 last change,
//                        u64 seq of the item's first change, u32 changes, each:
//                          u8 op (1 add, 2 remove; | 0x80: an i64 time follows,
//                          else the change's time is the record's; | 0x40, adds
//                          only: the entry's partner metadata follows the ref),
//                          u8 type, hash (16 or 32 bytes by type), [i64 time],
//                          u16 n + ref, [i64 first_seen_ms, u8 tags, each u8 n + tag]
// A follower older than the 0x40 flag refuses a page holding one (bad op):
// upgrade followers before their primary.
// Integers are big-endian (base/coding.h).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "store/feed.h"

namespace hsync {

using base::Status;

inline constexpr const char* kFeedMediaType = "application/x-hashscreen-feed";

void EncodeFeedPage(const store::FeedPage& page, std::string_view primary_id, std::string* out);

// Decodes an answer of a primary. Anything malformed, truncated or
// inconsistent (unknown kinds, wrong hash lengths, counts beyond the bytes
// present, seqs outside the record, trailing bytes) is InvalidArgument: a
// hostile or broken peer gets an error, never a crash or a huge allocation.
Status DecodeFeedPage(std::string_view bytes, store::FeedPage* page, std::string* primary_id);

}  // namespace hsync
