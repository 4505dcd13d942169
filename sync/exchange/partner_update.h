// PartnerUpdate: one record of a paged partner feed (threatexchange,
// stopncii): a hash added with its metadata, or withdrawn. Two ways to apply
// a feed's pages, shared by those kinds:
//   DeltaBatch  one page of increments: the latest update of each hash in
//               the page wins, and only what changes the list is kept (a
//               resumed fetch sees updates it applied before; a batch of
//               no-ops would be a batch record and a generation per poll);
//   WholeList   a whole-feed fetch (first sync, stale checkpoint) gathered
//               page by page, the latest update per hash winning, then
//               applied as a full list (what the list holds beyond it is
//               withdrawn).
//
// Thread-safety: DeltaBatch reads the list (thread-safe); a WholeList is
// used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/hash_lists.h"

namespace hsync {

using base::Status;

// ThreatExchange takes feedback on descriptors (one per uploader of an
// indicator), not on the indicator the entry's ref names, so their ids ride
// in the entry's partner metadata as tags "descriptor:ID" (ID: 1..32
// digits, the first kMaxThreatDescriptors of the indicator, ahead of the
// partner's own tags, which may not use the prefix). Reviewers see them as
// tags; the feedback sender reacts on each.
inline constexpr std::string_view kThreatDescriptorTag = "descriptor:";
inline constexpr size_t kMaxThreatDescriptors = 16;
// True for a Graph object id we may put in a URL path: 1..32 digits.
bool IsThreatDescriptorId(std::string_view id);
// The descriptor ids among an entry's tags, in order.
std::vector<std::string> ThreatDescriptorIds(const std::vector<std::string>& tags);

struct PartnerUpdate {
  bool remove = false;
  base::SignalEntry entry;
  store::SignalMeta meta;
};

Status DeltaBatch(const store::HashLists& lists, uint64_t list_id, const std::vector<const PartnerUpdate*>& updates,
                  store::BatchRequest* out);

class WholeList {
 public:
  void Add(const PartnerUpdate& u);
  // Roughly the memory held: callers cap a whole fetch with it.
  int64_t bytes() const { return bytes_; }
  // The live entries and their metadata (one per entry).
  void Take(std::vector<base::SignalEntry>* entries, std::vector<store::SignalMeta>* meta);

 private:
  std::vector<base::SignalEntry> entries_;
  std::vector<store::SignalMeta> meta_;
  std::unordered_map<std::string, size_t> where_;  // type + hash -> index (SIZE_MAX: withdrawn)
  int64_t bytes_ = 0;
};

}  // namespace hsync
