#include "store/hash_lists.h"

#include <algorithm>
#include <chrono>

#include <rocksdb/iterator.h>

#include "store/key_encoding.h"

namespace store {

namespace {

constexpr size_t kMaxNameBytes = 256;
constexpr size_t kMaxBatchIdBytes = 128;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ListIndexSpec SpecOf(const ListInfo& info) {
  return ListIndexSpec{info.id, info.kind, info.pdq_threshold, info.enabled};
}

Status CheckThreshold(int t) {
  if (t < 0 || t > kMaxPdqThreshold) {
    return Status::InvalidArgument("PDQ threshold " + std::to_string(t) + " outside 0.." +
                                   std::to_string(kMaxPdqThreshold));
  }
  return Status::Ok();
}

Status CheckName(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return Status::InvalidArgument("list name must be 1.." + std::to_string(kMaxNameBytes) + " bytes");
  }
  return Status::Ok();
}

std::string PendingKey(const SignalEntry& e) {
  std::string k(1, static_cast<char>(e.type));
  k += e.hash;
  return k;
}

}  // namespace

HashLists::HashLists(Database* db, const MatchIndex::Options& index_options) : db_(db), index_(index_options) {}
HashLists::~HashLists() = default;

Status HashLists::Open(Database* db, std::unique_ptr<HashLists>* out) { return Open(db, MatchIndex::Options(), out); }

Status HashLists::Open(Database* db, const MatchIndex::Options& index_options, std::unique_ptr<HashLists>* out) {
  std::unique_ptr<HashLists> lists(new HashLists(db, index_options));
  HS_RETURN_IF_ERROR(lists->Load());
  *out = std::move(lists);
  return Status::Ok();
}

Status HashLists::Load() {
  std::string v;
  Status s = db_->Get(Database::kMeta, std::string(keys::kNextListId), &v);
  if (s.ok()) {
    if (v.size() != 8) return Status::Corruption("next_list_id is damaged");
    next_list_id_ = keys::GetU64(v.data());
  } else if (s.code() != Status::Code::kNotFound) {
    return s;
  }

  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 4 << 20;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->family(Database::kLists)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 8) return Status::Corruption("list key is damaged");
      ListInfo info;
      HS_RETURN_IF_ERROR(keys::DecodeList(keys::GetU64(it->key().data()), it->value().ToStringView(), &info));
      index_.PutList(SpecOf(info));
      lists_[info.id] = std::move(info);
    }
    HS_RETURN_IF_ERROR(FromRocks(it->status(), "reading lists"));
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->family(Database::kSignals)));
    uint64_t current = 0;
    SignalSet set;
    auto flush = [&] {
      if (current != 0) index_.Load(current, std::move(set));
      set = SignalSet();
    };
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      uint64_t list_id;
      SignalType type;
      std::string_view hash;
      if (!keys::ParseSignalKey(it->key().ToStringView(), &list_id, &type, &hash)) {
        return Status::Corruption("signal key is damaged");
      }
      if (list_id != current) {
        flush();
        current = list_id;
        auto li = lists_.find(list_id);
        if (li == lists_.end()) return Status::Corruption("signals of unknown list " + std::to_string(list_id));
        set.pdq.reserve(li->second.signal_count);
      }
      set.Add(type, hash);
    }
    HS_RETURN_IF_ERROR(FromRocks(it->status(), "reading signals"));
    flush();
  }
  return Status::Ok();
}

Status HashLists::CheckNameFree(const std::string& owner, const std::string& name, uint64_t except_id) const {
  for (const auto& [id, info] : lists_) {
    if (id != except_id && info.owner == owner && info.name == name) {
      return Status::AlreadyExists("partner '" + owner + "' already has a list named '" + name + "'");
    }
  }
  return Status::Ok();
}

Status HashLists::CreateList(const ListSpec& spec, ListInfo* out) {
  HS_RETURN_IF_ERROR(CheckName(spec.name));
  HS_RETURN_IF_ERROR(CheckThreshold(spec.pdq_threshold));
  if (spec.owner.size() > kMaxNameBytes) return Status::InvalidArgument("owner name too long");
  std::lock_guard w(write_mu_);
  HS_RETURN_IF_ERROR(CheckNameFree(spec.owner, spec.name, 0));
  ListInfo info;
  info.id = next_list_id_;
  info.name = spec.name;
  info.owner = spec.owner;
  info.kind = spec.kind;
  info.pdq_threshold = spec.pdq_threshold;
  info.created_ms = NowMs();
  rocksdb::WriteBatch wb;
  wb.Put(db_->family(Database::kLists), keys::ListKey(info.id), keys::EncodeList(info));
  wb.Put(db_->family(Database::kMeta), std::string(keys::kNextListId), keys::U64(info.id + 1));
  HS_RETURN_IF_ERROR(db_->Write(&wb, /*sync=*/true));
  ++next_list_id_;
  index_.PutList(SpecOf(info));
  {
    std::unique_lock l(mu_);
    lists_[info.id] = info;
  }
  *out = std::move(info);
  return Status::Ok();
}

Status HashLists::GetList(uint64_t id, ListInfo* out) const {
  std::shared_lock l(mu_);
  auto it = lists_.find(id);
  if (it == lists_.end()) return Status::NotFound("no list " + std::to_string(id));
  *out = it->second;
  return Status::Ok();
}

std::vector<ListInfo> HashLists::Lists() const {
  std::vector<ListInfo> all;
  {
    std::shared_lock l(mu_);
    for (const auto& [id, info] : lists_) all.push_back(info);
  }
  std::sort(all.begin(), all.end(), [](const ListInfo& a, const ListInfo& b) { return a.id < b.id; });
  return all;
}

Status HashLists::UpdateList(uint64_t id, std::optional<std::string> name, std::optional<bool> enabled,
                             std::optional<int> pdq_threshold) {
  if (name) HS_RETURN_IF_ERROR(CheckName(*name));
  if (pdq_threshold) HS_RETURN_IF_ERROR(CheckThreshold(*pdq_threshold));
  std::lock_guard w(write_mu_);
  auto it = lists_.find(id);
  if (it == lists_.end()) return Status::NotFound("no list " + std::to_string(id));
  ListInfo info = it->second;
  if (name) {
    HS_RETURN_IF_ERROR(CheckNameFree(info.owner, *name, id));
    info.name = *name;
  }
  if (enabled) info.enabled = *enabled;
  if (pdq_threshold) info.pdq_threshold = *pdq_threshold;
  rocksdb::WriteBatch wb;
  wb.Put(db_->family(Database::kLists), keys::ListKey(id), keys::EncodeList(info));
  HS_RETURN_IF_ERROR(db_->Write(&wb, /*sync=*/true));
  index_.PutList(SpecOf(info));
  std::unique_lock l(mu_);
  it->second = std::move(info);
  return Status::Ok();
}

Status HashLists::ApplyBatch(uint64_t list_id, const BatchRequest& batch, BatchResult* out) {
  if (batch.batch_id.empty() || batch.batch_id.size() > kMaxBatchIdBytes) {
    return Status::InvalidArgument("batch id must be 1.." + std::to_string(kMaxBatchIdBytes) + " bytes");
  }
  for (size_t i = 0; i < batch.add.size(); ++i) {
    HS_RETURN_IF_ERROR(ValidateSignal(batch.add[i]).WithContext("add[" + std::to_string(i) + "]"));
  }
  for (size_t i = 0; i < batch.remove.size(); ++i) {
    HS_RETURN_IF_ERROR(ValidateSignal(batch.remove[i]).WithContext("remove[" + std::to_string(i) + "]"));
  }

  std::lock_guard w(write_mu_);
  auto li = lists_.find(list_id);
  if (li == lists_.end()) return Status::NotFound("no list " + std::to_string(list_id));
  ListInfo info = li->second;

  const std::string batch_key = keys::BatchKey(list_id, batch.batch_id);
  std::string prior;
  Status s = db_->Get(Database::kBatches, batch_key, &prior);
  if (s.ok()) {
    HS_RETURN_IF_ERROR(keys::DecodeBatchResult(prior, out));
    out->replayed = true;
    return Status::Ok();
  }
  if (s.code() != Status::Code::kNotFound) return s;

  const int64_t now = NowMs();
  BatchResult result;
  uint64_t seq = info.last_seq;
  rocksdb::WriteBatch wb;
  auto* signals = db_->family(Database::kSignals);
  auto* changes = db_->family(Database::kChanges);
  // Presence of signals this batch touched: true = added, false = removed.
  // Each entry points at the request entry that set it (for its ref).
  std::unordered_map<std::string, std::pair<bool, const SignalEntry*>> pending;
  std::vector<SignalRef> added, removed;
  // Signal writes go into the WriteBatch sorted by key (stable: an add then a
  // remove of one hash keep their order): the memtable skiplist inserts a
  // sorted run from its last position instead of searching from the top for
  // every random hash, which is most of the cost of a large batch.
  struct SignalWrite {
    std::string key, value;
    bool put;
  };
  std::vector<SignalWrite> signal_writes;
  signal_writes.reserve(batch.add.size() + batch.remove.size());
  auto present = [&](const SignalEntry& e, const std::string& key) {
    auto it = pending.find(key);
    return it != pending.end() ? it->second.first : index_.Contains(list_id, e.type, e.hash);
  };
  for (const SignalEntry& e : batch.add) {
    std::string key = PendingKey(e);
    if (present(e, key)) {
      ++result.already_present;
      continue;
    }
    pending[key] = {true, &e};
    ++seq;
    signal_writes.push_back({keys::SignalKey(list_id, e.type, e.hash), keys::EncodeSignalValue(now, e.ref), true});
    wb.Put(changes, keys::ChangeKey(list_id, seq), keys::EncodeChange(Change{seq, true, e.type, e.hash, e.ref, now}));
    added.push_back({e.type, e.hash});
    ++result.added;
  }
  for (const SignalEntry& e : batch.remove) {
    std::string key = PendingKey(e);
    if (!present(e, key)) {
      ++result.not_found;
      continue;
    }
    std::string ref;
    auto it = pending.find(key);
    if (it != pending.end()) {
      ref = it->second.second->ref;
    } else {
      std::string value;
      int64_t added_ms;
      HS_RETURN_IF_ERROR(db_->Get(Database::kSignals, keys::SignalKey(list_id, e.type, e.hash), &value));
      HS_RETURN_IF_ERROR(keys::DecodeSignalValue(value, &added_ms, &ref));
    }
    pending[key] = {false, &e};
    ++seq;
    signal_writes.push_back({keys::SignalKey(list_id, e.type, e.hash), {}, false});
    wb.Put(changes, keys::ChangeKey(list_id, seq), keys::EncodeChange(Change{seq, false, e.type, e.hash, ref, now}));
    removed.push_back({e.type, e.hash});
    ++result.removed;
  }
  std::stable_sort(signal_writes.begin(), signal_writes.end(),
                   [](const SignalWrite& a, const SignalWrite& b) { return a.key < b.key; });
  for (const SignalWrite& sw : signal_writes) {
    if (sw.put) {
      wb.Put(signals, sw.key, sw.value);
    } else {
      wb.Delete(signals, sw.key);
    }
  }
  info.last_seq = seq;
  info.signal_count = info.signal_count + result.added - result.removed;
  result.seq = seq;
  wb.Put(db_->family(Database::kLists), keys::ListKey(list_id), keys::EncodeList(info));
  wb.Put(db_->family(Database::kBatches), batch_key, keys::EncodeBatchResult(result));
  HS_RETURN_IF_ERROR(db_->Write(&wb, /*sync=*/true));

  index_.Apply(list_id, added, removed);
  {
    std::unique_lock l(mu_);
    li->second = std::move(info);
  }
  *out = result;
  return Status::Ok();
}

Status HashLists::Changes(uint64_t list_id, uint64_t after_seq, size_t limit, std::vector<Change>* out,
                          uint64_t* next) const {
  {
    std::shared_lock l(mu_);
    if (!lists_.count(list_id)) return Status::NotFound("no list " + std::to_string(list_id));
  }
  out->clear();
  *next = after_seq;
  if (limit == 0 || after_seq == UINT64_MAX) return Status::Ok();
  const std::string prefix = keys::ListPrefix(list_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->family(Database::kChanges)));
  for (it->Seek(keys::ChangeKey(list_id, after_seq + 1)); it->Valid() && out->size() < limit; it->Next()) {
    rocksdb::Slice k = it->key();
    if (k.size() != 16 || !k.starts_with(prefix)) break;
    Change c;
    HS_RETURN_IF_ERROR(keys::DecodeChange(keys::GetU64(k.data() + 8), it->value().ToStringView(), &c));
    *next = c.seq;
    out->push_back(std::move(c));
  }
  return FromRocks(it->status(), "reading changes");
}

Status HashLists::LookupSignal(uint64_t list_id, SignalType type, std::string_view hash, SignalEntry* out,
                               int64_t* added_ms) const {
  if (!IsValidSignalType(static_cast<uint8_t>(type)) || hash.size() != SignalHashBytes(type)) {
    return Status::InvalidArgument("malformed signal");
  }
  std::string value;
  HS_RETURN_IF_ERROR(db_->Get(Database::kSignals, keys::SignalKey(list_id, type, hash), &value));
  out->type = type;
  out->hash.assign(hash);
  return keys::DecodeSignalValue(value, added_ms, &out->ref);
}

ScreenResult HashLists::Screen(const ScreenQuery& query) const { return index_.Screen(query); }

size_t HashLists::IndexedPdqHashes() const { return index_.pdq_hashes(); }
size_t HashLists::IndexMemoryBytes() const { return index_.MemoryBytes(); }

}  // namespace store
