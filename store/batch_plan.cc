#include "store/batch_plan.h"

#include <algorithm>
#include <cstring>

namespace store {

namespace {

bool Less(const SignalEntry& a, const SignalEntry& b) {
  if (a.type != b.type) return a.type < b.type;
  return std::memcmp(a.hash.data(), b.hash.data(), a.hash.size()) < 0;
}

bool Same(const SignalEntry& a, const SignalEntry& b) { return a.type == b.type && a.hash == b.hash; }

// Positions of `v` ordered by (type, hash), ties by position. Sorted as
// compact records (type, first 8 hash bytes, position): the hashes themselves
// are scattered over the heap, and comparing through them would miss the
// cache on nearly every comparison.
std::vector<uint32_t> SortedPositions(const std::vector<SignalEntry>& v) {
  struct Rec {
    uint64_t head;
    uint32_t pos;
    uint8_t type;
  };
  std::vector<Rec> recs(v.size());
  for (uint32_t i = 0; i < recs.size(); ++i) {
    uint64_t head = 0;
    for (size_t b = 0; b < 8 && b < v[i].hash.size(); ++b) head = head << 8 | static_cast<uint8_t>(v[i].hash[b]);
    recs[i] = {head, i, static_cast<uint8_t>(v[i].type)};
  }
  std::sort(recs.begin(), recs.end(), [&](const Rec& a, const Rec& b) {
    if (a.type != b.type) return a.type < b.type;
    if (a.head != b.head) return a.head < b.head;
    int c = std::memcmp(v[a.pos].hash.data(), v[b.pos].hash.data(), v[a.pos].hash.size());
    return c != 0 ? c < 0 : a.pos < b.pos;
  });
  std::vector<uint32_t> order(v.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = recs[i].pos;
  return order;
}

}  // namespace

BatchPlan PlanBatch(const BatchRequest& batch, const PresenceQuery& presence) {
  BatchPlan p;
  p.adds_sorted = SortedPositions(batch.add);
  p.rems_sorted = SortedPositions(batch.remove);
  const auto& adds = p.adds_sorted;
  const auto& rems = p.rems_sorted;

  // Presence before the batch: one index look-up per entry, in key order.
  std::vector<idx::SignalRef> queries;
  queries.reserve(adds.size() + rems.size());
  for (uint32_t i : adds) queries.push_back({batch.add[i].type, batch.add[i].hash});
  for (uint32_t i : rems) queries.push_back({batch.remove[i].type, batch.remove[i].hash});
  std::vector<uint8_t> present;
  presence(queries, &present);

  p.add_effect.assign(batch.add.size(), 0);
  p.rem_effect.assign(batch.remove.size(), 0);
  p.removed_add.assign(batch.remove.size(), nullptr);
  for (size_t k = 0; k < adds.size(); ++k) {
    const bool first = k == 0 || !Same(batch.add[adds[k - 1]], batch.add[adds[k]]);
    if (first && !present[k]) p.add_effect[adds[k]] = 1;
  }
  // Merging the two sorted orders finds, for each remove, the add of an equal
  // signal that took effect in this batch (if any).
  for (size_t k = 0, a = 0; k < rems.size(); ++k) {
    const SignalEntry& r = batch.remove[rems[k]];
    const bool first = k == 0 || !Same(batch.remove[rems[k - 1]], r);
    while (a < adds.size() && Less(batch.add[adds[a]], r)) ++a;
    // adds[a] is the first (in request order) add of an equal signal, if any.
    const bool added_here = a < adds.size() && Same(batch.add[adds[a]], r) && p.add_effect[adds[a]];
    if (first && (present[adds.size() + k] || added_here)) {
      p.rem_effect[rems[k]] = 1;
      if (added_here) p.removed_add[rems[k]] = &batch.add[adds[a]];
    }
  }
  for (uint8_t e : p.add_effect) p.added += e;
  for (uint8_t e : p.rem_effect) p.removed += e;
  p.already_present = batch.add.size() - p.added;
  p.not_found = batch.remove.size() - p.removed;
  return p;
}

}  // namespace store
