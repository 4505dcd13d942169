#include "store/batch_encoder.h"

#include <cstring>

#include "store/key_encoding.h"

namespace store {

namespace {
bool Less(const SignalEntry& a, const SignalEntry& b) {
  if (a.type != b.type) return a.type < b.type;
  return std::memcmp(a.hash.data(), b.hash.data(), a.hash.size()) < 0;
}
bool Same(const SignalEntry& a, const SignalEntry& b) { return a.type == b.type && a.hash == b.hash; }
}  // namespace

void EncodeBatch(uint64_t list_id, uint64_t last_seq, int64_t now_ms, const BatchRequest& batch,
                 const BatchPlan& plan, const std::vector<std::string>& removed_refs, AtomicBatch* out,
                 EncodedBatch* encoded) {
  encoded->added.clear();
  encoded->removed.clear();
  encoded->added.reserve(plan.added);
  encoded->removed.reserve(plan.removed);
  std::string key, value;
  uint64_t seq = last_seq;
  auto put_change = [&](bool add, const SignalEntry& e, std::string_view ref, const SignalMeta* meta) {
    key.clear();
    keys::AppendChangeKey(&key, list_id, ++seq);
    value.clear();
    keys::AppendChange(&value, add, e.type, e.hash, now_ms, ref, meta);
    out->Put(Database::kChanges, key, value);
  };
  for (size_t i = 0; i < batch.add.size(); ++i) {
    if (!plan.add_effect[i]) continue;
    put_change(true, batch.add[i], batch.add[i].ref, batch.add_meta.empty() ? nullptr : &batch.add_meta[i]);
    encoded->added.push_back({batch.add[i].type, batch.add[i].hash});
  }
  for (size_t i = 0; i < batch.remove.size(); ++i) {
    if (!plan.rem_effect[i]) continue;
    put_change(false, batch.remove[i], removed_refs[i], nullptr);
    encoded->removed.push_back({batch.remove[i].type, batch.remove[i].hash});
  }
  encoded->last_seq = seq;

  // Signal records: merge the two key orders. rems[r] is the first remove of
  // an equal or greater signal: the effective one, if that signal is removed.
  const auto& adds = plan.adds_sorted;
  const auto& rems = plan.rems_sorted;
  size_t a = 0, r = 0;
  while (a < adds.size() || r < rems.size()) {
    const bool take_add = r == rems.size() || (a < adds.size() && !Less(batch.remove[rems[r]], batch.add[adds[a]]));
    if (take_add) {
      const uint32_t i = adds[a++];
      const SignalEntry& e = batch.add[i];
      if (!plan.add_effect[i]) continue;
      if (r < rems.size() && Same(batch.remove[rems[r]], e) && plan.rem_effect[rems[r]]) continue;
      key.clear();
      keys::AppendSignalKey(&key, list_id, e.type, e.hash);
      value.clear();
      keys::AppendSignalValue(&value, now_ms, e.ref, batch.add_meta.empty() ? nullptr : &batch.add_meta[i]);
      out->Put(Database::kSignals, key, value);
    } else {
      const uint32_t i = rems[r++];
      if (!plan.rem_effect[i]) continue;
      key.clear();
      keys::AppendSignalKey(&key, list_id, batch.remove[i].type, batch.remove[i].hash);
      out->Delete(Database::kSignals, key);
    }
  }
}

}  // namespace store
