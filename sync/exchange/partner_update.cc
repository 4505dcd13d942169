#include "sync/exchange/partner_update.h"

namespace hsync {

namespace {
std::string KeyOf(const base::SignalEntry& e) {
  std::string k(1, static_cast<char>(e.type));
  k += e.hash;
  return k;
}
}  // namespace

bool IsThreatDescriptorId(std::string_view id) {
  return !id.empty() && id.size() <= 32 && id.find_first_not_of("0123456789") == std::string_view::npos;
}

std::vector<std::string> ThreatDescriptorIds(const std::vector<std::string>& tags) {
  std::vector<std::string> ids;
  for (const std::string& t : tags) {
    if (!t.starts_with(kThreatDescriptorTag)) continue;
    const std::string_view id = std::string_view(t).substr(kThreatDescriptorTag.size());
    if (IsThreatDescriptorId(id)) ids.emplace_back(id);
  }
  return ids;
}

Status DeltaBatch(const store::HashLists& lists, uint64_t list_id, const std::vector<const PartnerUpdate*>& updates,
                  store::BatchRequest* out) {
  std::unordered_map<std::string, const PartnerUpdate*> last;
  std::vector<std::string> order;
  for (const PartnerUpdate* u : updates) {
    const std::string k = KeyOf(u->entry);
    if (!last.count(k)) order.push_back(k);
    last[k] = u;
  }
  store::BatchRequest batch;
  for (const auto& k : order) {
    const PartnerUpdate* u = last[k];
    base::SignalEntry stored;
    int64_t added_ms;
    Status present = lists.LookupSignal(list_id, u->entry.type, u->entry.hash, &stored, &added_ms);
    if (!present.ok() && present.code() != Status::Code::kNotFound) return present;
    if (u->remove && present.ok()) {
      batch.remove.push_back(u->entry);
    } else if (!u->remove && !present.ok()) {
      batch.add.push_back(u->entry);
      batch.add_meta.push_back(u->meta);
    }
  }
  *out = std::move(batch);
  return Status::Ok();
}

void WholeList::Add(const PartnerUpdate& u) {
  const std::string k = KeyOf(u.entry);
  auto it = where_.find(k);
  if (u.remove) {
    if (it != where_.end()) it->second = SIZE_MAX;
    return;
  }
  if (it != where_.end() && it->second != SIZE_MAX) {
    entries_[it->second] = u.entry;
    meta_[it->second] = u.meta;
  } else {
    where_[k] = entries_.size();
    entries_.push_back(u.entry);
    meta_.push_back(u.meta);
  }
  bytes_ += static_cast<int64_t>(u.entry.hash.size() + u.entry.ref.size() + 64);
}

void WholeList::Take(std::vector<base::SignalEntry>* entries, std::vector<store::SignalMeta>* meta) {
  entries->clear();
  meta->clear();
  for (const auto& [k, i] : where_) {
    if (i == SIZE_MAX) continue;
    entries->push_back(std::move(entries_[i]));
    meta->push_back(std::move(meta_[i]));
  }
  *this = WholeList();
}

}  // namespace hsync
