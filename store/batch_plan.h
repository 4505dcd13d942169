// BatchPlan: which entries of a signal batch take effect against a list as it
// stands, decided before anything is written. Pure: presence in the list
// comes from the caller (the match index), nothing is read from disk.
//
// Semantics (HashLists::ApplyBatch): adds apply before removes, each in
// request order. An add takes effect if its signal is absent and it is the
// first add of that signal in the batch; a remove takes effect if the signal
// is present before the batch or added by it, and it is the first remove of
// that signal. A remove that undoes an add of the same batch records that
// add's ref as the ref removed.
//
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "index/match_index.h"
#include "store/hash_lists.h"

namespace store {

struct BatchPlan {
  // Request positions in key order (type, hash), ties in request order:
  // the order signal records are written in (an SST file needs sorted keys).
  std::vector<uint32_t> adds_sorted, rems_sorted;
  // add_effect[i] / rem_effect[i]: entry i of batch.add / batch.remove takes effect.
  std::vector<uint8_t> add_effect, rem_effect;
  // For an effective remove of a signal this batch added: that add.
  std::vector<const SignalEntry*> removed_add;
  size_t added = 0, removed = 0;  // effective adds and removes
  size_t already_present = 0, not_found = 0;
  size_t effective() const { return added + removed; }
};

// Presence of each queried signal in the list before the batch:
// (*present)[i] for q[i].
using PresenceQuery = std::function<void(const std::vector<idx::SignalRef>& q, std::vector<uint8_t>* present)>;

BatchPlan PlanBatch(const BatchRequest& batch, const PresenceQuery& presence);

}  // namespace store
