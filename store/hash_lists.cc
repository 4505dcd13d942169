#include "store/hash_lists.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include <rocksdb/iterator.h>

#include "store/atomic_batch.h"
#include "store/key_encoding.h"

namespace store {

namespace {

constexpr size_t kMaxNameBytes = 256;
constexpr size_t kMaxBatchIdBytes = 128;
// From this many changes a batch's index update runs beside its write.
constexpr size_t kParallelIndexUpdate = 4096;

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

}  // namespace

HashLists::HashLists(Database* db, const Options& options)
    : db_(db), ingest_from_changes_(options.ingest_from_changes), index_(options.index) {}
HashLists::~HashLists() = default;

Status HashLists::Open(Database* db, std::unique_ptr<HashLists>* out) { return Open(db, Options(), out); }

Status HashLists::Open(Database* db, const Options& options, std::unique_ptr<HashLists>* out) {
  std::unique_ptr<HashLists> lists(new HashLists(db, options));
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

  // Which entries take effect, found by sorting instead of a map of strings:
  // `adds` and `rems` are request positions ordered by (type, hash) and then
  // position, so equal signals are neighbours and the first of them in
  // request order comes first.
  auto less = [](const SignalEntry& a, const SignalEntry& b) {
    if (a.type != b.type) return a.type < b.type;
    return std::memcmp(a.hash.data(), b.hash.data(), a.hash.size()) < 0;
  };
  auto same = [](const SignalEntry& a, const SignalEntry& b) { return a.type == b.type && a.hash == b.hash; };
  auto sorted_positions = [&](const std::vector<SignalEntry>& v) {
    // Sorted as compact records (type, first 8 hash bytes, position): the
    // hashes themselves are scattered over the heap, and comparing through
    // them would miss the cache on nearly every comparison.
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
  };
  const std::vector<uint32_t> adds = sorted_positions(batch.add);
  const std::vector<uint32_t> rems = sorted_positions(batch.remove);

  // Presence in the list before the batch, one index look-up per distinct signal.
  std::vector<SignalRef> queries;
  queries.reserve(adds.size() + rems.size());
  for (uint32_t i : adds) queries.push_back({batch.add[i].type, batch.add[i].hash});
  for (uint32_t i : rems) queries.push_back({batch.remove[i].type, batch.remove[i].hash});
  std::vector<uint8_t> present;
  index_.ContainsMany(list_id, queries, &present);

  // add_effect[i]: add i takes effect (absent before, first of its signal in the batch).
  std::vector<uint8_t> add_effect(batch.add.size(), 0), rem_effect(batch.remove.size(), 0);
  for (size_t k = 0; k < adds.size(); ++k) {
    const bool first = k == 0 || !same(batch.add[adds[k - 1]], batch.add[adds[k]]);
    if (first && !present[k]) add_effect[adds[k]] = 1;
  }
  // For a remove: the add of this batch that took effect for its signal (its
  // ref is the one removed), found by merging the two sorted orders.
  std::vector<const SignalEntry*> rem_added(batch.remove.size(), nullptr);
  for (size_t k = 0, a = 0; k < rems.size(); ++k) {
    const SignalEntry& r = batch.remove[rems[k]];
    const bool first = k == 0 || !same(batch.remove[rems[k - 1]], r);
    while (a < adds.size() && less(batch.add[adds[a]], r)) ++a;
    // adds[a] is the first (in request order) add of an equal signal, if any.
    const bool added_here = a < adds.size() && same(batch.add[adds[a]], r) && add_effect[adds[a]];
    if (added_here) rem_added[rems[k]] = &batch.add[adds[a]];
    if (first && (present[adds.size() + k] || added_here)) rem_effect[rems[k]] = 1;
  }

  size_t effective = 0;
  for (uint8_t e : add_effect) effective += e;
  for (uint8_t e : rem_effect) effective += e;
  // Sizes: ~ key and value per change and signal write, plus WriteBatch framing.
  size_t reserve = 64;
  for (const SignalEntry& e : batch.add) reserve += 2 * (e.hash.size() + e.ref.size()) + 64;
  for (const SignalEntry& e : batch.remove) reserve += e.hash.size() + e.ref.size() + 64;
  AtomicBatch wb(db_, effective >= ingest_from_changes_ ? AtomicBatch::Mode::kIngest : AtomicBatch::Mode::kWriteBatch,
                 reserve);
  std::vector<SignalRef> added, removed;
  added.reserve(batch.add.size());
  // Change records, seqs in request order (adds, then removes). Keys and
  // values are encoded into reused buffers: no allocation per entry.
  std::string key, value;
  auto put_change = [&](bool add, const SignalEntry& e, std::string_view ref) {
    ++seq;
    key.clear();
    keys::PutU64(&key, list_id);
    keys::PutU64(&key, seq);
    value.clear();
    keys::AppendChange(&value, add, e.type, e.hash, now, ref);
    wb.Put(Database::kChanges, key, value);
  };
  for (size_t i = 0; i < batch.add.size(); ++i) {
    const SignalEntry& e = batch.add[i];
    if (!add_effect[i]) {
      ++result.already_present;
      continue;
    }
    put_change(true, e, e.ref);
    added.push_back({e.type, e.hash});
    ++result.added;
  }
  std::vector<std::string> removed_refs(batch.remove.size());
  for (size_t i = 0; i < batch.remove.size(); ++i) {
    const SignalEntry& e = batch.remove[i];
    if (!rem_effect[i]) {
      ++result.not_found;
      continue;
    }
    std::string& ref = removed_refs[i];
    if (rem_added[i]) {
      ref = rem_added[i]->ref;
    } else {
      std::string stored;
      int64_t added_ms;
      HS_RETURN_IF_ERROR(db_->Get(Database::kSignals, keys::SignalKey(list_id, e.type, e.hash), &stored));
      HS_RETURN_IF_ERROR(keys::DecodeSignalValue(stored, &added_ms, &ref));
    }
    put_change(false, e, ref);
    removed.push_back({e.type, e.hash});
    ++result.removed;
  }
  // Signal writes go in sorted by key, each key once (an SST file needs
  // that; the memtable skiplist then inserts a sorted run from its last
  // position instead of searching from the top for every random hash). adds
  // and rems are already in key order; merge them. A signal both added and
  // removed here is written only as its delete.
  auto signal_key = [&](const SignalEntry& e) {
    key.clear();
    keys::PutU64(&key, list_id);
    key.push_back(static_cast<char>(e.type));
    key.append(e.hash);
  };
  size_t a = 0, r = 0;
  while (a < adds.size() || r < rems.size()) {
    const bool take_add = r == rems.size() || (a < adds.size() && !less(batch.remove[rems[r]], batch.add[adds[a]]));
    if (take_add) {
      const SignalEntry& e = batch.add[adds[a++]];
      if (!add_effect[&e - batch.add.data()]) continue;
      // rems[r] is the first remove of an equal or greater signal: the
      // effective one, if this signal is removed at all.
      if (r < rems.size() && same(batch.remove[rems[r]], e) && rem_effect[rems[r]]) continue;
      signal_key(e);
      value.clear();
      keys::PutU64(&value, static_cast<uint64_t>(now));
      value.append(e.ref);
      wb.Put(Database::kSignals, key, value);
    } else {
      const SignalEntry& e = batch.remove[rems[r++]];
      if (!rem_effect[&e - batch.remove.data()]) continue;
      signal_key(e);
      wb.Delete(Database::kSignals, key);
    }
  }
  info.last_seq = seq;
  info.signal_count = info.signal_count + result.added - result.removed;
  result.seq = seq;
  wb.Put(Database::kLists, keys::ListKey(list_id), keys::EncodeList(info));
  wb.Put(Database::kBatches, batch_key, keys::EncodeBatchResult(result));
  // The batch's index segment is built while the batch is written (on
  // another thread for a large batch), and published only once the write is
  // durable. Merging segments happens later, on the index's merger thread.
  std::unique_ptr<MatchIndex::Prepared> prepared;
  Status written;
  if (added.size() + removed.size() >= kParallelIndexUpdate) {
    std::thread builder([&] { prepared = index_.Prepare(list_id, added, removed); });
    written = wb.Commit();
    builder.join();
  } else {
    written = wb.Commit();
    if (written.ok()) prepared = index_.Prepare(list_id, added, removed);
  }
  HS_RETURN_IF_ERROR(written);
  index_.Commit(std::move(prepared));

  {
    std::unique_lock l(mu_);
    li->second = std::move(info);
  }
  *out = result;
  return Status::Ok();
}

Status HashLists::Changes(uint64_t list_id, uint64_t after_seq, size_t limit, std::vector<Change>* out,
                          uint64_t* next) const {
  // Changes up to the list's last seq as published: a batch being committed
  // (an ingestion can show one family's file before another's) stays unseen
  // until ApplyBatch has returned.
  uint64_t last_seq;
  {
    std::shared_lock l(mu_);
    auto li = lists_.find(list_id);
    if (li == lists_.end()) return Status::NotFound("no list " + std::to_string(list_id));
    last_seq = li->second.last_seq;
  }
  out->clear();
  *next = after_seq;
  if (limit == 0 || after_seq >= last_seq) return Status::Ok();
  const std::string prefix = keys::ListPrefix(list_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->family(Database::kChanges)));
  for (it->Seek(keys::ChangeKey(list_id, after_seq + 1)); it->Valid() && out->size() < limit; it->Next()) {
    rocksdb::Slice k = it->key();
    if (k.size() != 16 || !k.starts_with(prefix)) break;
    const uint64_t seq = keys::GetU64(k.data() + 8);
    if (seq > last_seq) break;
    Change c;
    HS_RETURN_IF_ERROR(keys::DecodeChange(seq, it->value().ToStringView(), &c));
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
void HashLists::WaitForIndexMerges() { index_.WaitForMerges(); }
size_t HashLists::IndexMemoryBytes() const { return index_.MemoryBytes(); }

}  // namespace store
