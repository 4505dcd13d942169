#include "store/hash_lists.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include <rocksdb/iterator.h>

#include "base/clock.h"
#include "base/coding.h"
#include "store/atomic_batch.h"
#include "store/batch_encoder.h"
#include "store/batch_plan.h"
#include "store/feed.h"
#include "store/key_encoding.h"

namespace store {

namespace {

constexpr size_t kMaxNameBytes = 256;
constexpr size_t kMaxBatchIdBytes = 128;
// From this many changes a batch's index update runs beside its write.
constexpr size_t kParallelIndexUpdate = 4096;

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
    next_list_id_ = base::GetU64(v.data());
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
      HS_RETURN_IF_ERROR(keys::DecodeList(base::GetU64(it->key().data()), it->value().ToStringView(), &info));
      index_.PutList(SpecOf(info));
      lists_[info.id] = std::move(info);
    }
    HS_RETURN_IF_ERROR(FromRocks(it->status(), "reading lists"));
  }
  HS_RETURN_IF_ERROR(LoadSignals(/*check_counts=*/false));
  return LoadFeed();
}

Status HashLists::LoadSignals(bool check_counts) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 4 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->family(Database::kSignals)));
  // Every list gets a state, an empty one included (its signals may all
  // have been removed since the index last saw it).
  std::vector<uint64_t> ids;
  ids.reserve(lists_.size());
  for (const auto& [id, info] : lists_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  size_t next = 0;  // ids[next] is the first list not loaded yet
  uint64_t current = 0;
  SignalSet set;
  Status status;
  auto flush = [&] {
    if (current != 0) {
      const uint64_t expected = lists_.at(current).signal_count;
      if (check_counts && set.size() != expected) {
        if (status.ok()) {
          status = Status::Corruption("list " + std::to_string(current) + " holds " + std::to_string(set.size()) +
                                      " signals, its record says " + std::to_string(expected));
        }
      } else {
        index_.Load(current, std::move(set));
      }
    }
    set = SignalSet();
  };
  auto load_empty_before = [&](uint64_t id) {
    for (; next < ids.size() && ids[next] < id; ++next) {
      current = ids[next];
      flush();
    }
    if (next < ids.size() && ids[next] == id) ++next;
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
      auto li = lists_.find(list_id);
      if (li == lists_.end()) return Status::Corruption("signals of unknown list " + std::to_string(list_id));
      load_empty_before(list_id);
      current = list_id;
      set.pdq.reserve(li->second.signal_count);
    }
    set.Add(type, hash);
  }
  HS_RETURN_IF_ERROR(FromRocks(it->status(), "reading signals"));
  flush();
  load_empty_before(UINT64_MAX);
  return status;
}

Status HashLists::RebuildIndex() {
  std::lock_guard w(write_mu_);
  return LoadSignals(/*check_counts=*/true);
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
  info.created_ms = base::NowMs();
  FeedRecord record;
  record.seq = feed_head_ + 1;
  record.time_ms = info.created_ms;
  record.list = info;
  rocksdb::WriteBatch wb;
  wb.Put(db_->family(Database::kLists), keys::ListKey(info.id), keys::EncodeList(info));
  wb.Put(db_->family(Database::kMeta), std::string(keys::kNextListId), base::EncodeU64(info.id + 1));
  wb.Put(db_->family(Database::kFeed), keys::FeedKey(record.seq), keys::EncodeFeedRecord(record));
  HS_RETURN_IF_ERROR(db_->Write(&wb, /*sync=*/true));
  ++next_list_id_;
  index_.PutList(SpecOf(info));
  {
    std::unique_lock l(mu_);
    lists_[info.id] = info;
  }
  PublishFeed(record.seq, record.time_ms);
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
  FeedRecord record;
  record.seq = feed_head_ + 1;
  record.time_ms = base::NowMs();
  record.list = info;
  rocksdb::WriteBatch wb;
  wb.Put(db_->family(Database::kLists), keys::ListKey(id), keys::EncodeList(info));
  wb.Put(db_->family(Database::kFeed), keys::FeedKey(record.seq), keys::EncodeFeedRecord(record));
  HS_RETURN_IF_ERROR(db_->Write(&wb, /*sync=*/true));
  index_.PutList(SpecOf(info));
  {
    std::unique_lock l(mu_);
    it->second = std::move(info);
  }
  PublishFeed(record.seq, record.time_ms);
  return Status::Ok();
}

Status HashLists::ApplyBatch(uint64_t list_id, const BatchRequest& batch, BatchResult* out) {
  return ApplyBatch(list_id, batch, {}, {}, out);
}

Status HashLists::ApplyBatch(uint64_t list_id, const BatchRequest& batch, std::string_view meta_key,
                             std::string_view meta_value, BatchResult* out) {
  std::vector<MetaWrite> meta;
  if (!meta_key.empty()) meta.push_back({std::string(meta_key), std::string(meta_value)});
  return ApplyBatch(list_id, batch, std::move(meta), out);
}

Status HashLists::ApplyBatch(uint64_t list_id, const BatchRequest& batch, std::vector<MetaWrite> meta,
                             BatchResult* out) {
  // An ingested SST file takes its keys in increasing order.
  std::sort(meta.begin(), meta.end(), [](const MetaWrite& a, const MetaWrite& b) { return a.key < b.key; });
  for (size_t i = 0; i < meta.size(); ++i) {
    if (meta[i].key.empty() || meta[i].key == keys::kNextListId) {
      return Status::InvalidArgument("meta key '" + meta[i].key + "' is empty or the store's own");
    }
    if (i > 0 && meta[i].key == meta[i - 1].key) return Status::InvalidArgument("meta key '" + meta[i].key + "' twice");
  }
  if (batch.batch_id.empty() || batch.batch_id.size() > kMaxBatchIdBytes) {
    return Status::InvalidArgument("batch id must be 1.." + std::to_string(kMaxBatchIdBytes) + " bytes");
  }
  for (size_t i = 0; i < batch.add.size(); ++i) {
    HS_RETURN_IF_ERROR(ValidateSignal(batch.add[i]).WithContext("add[" + std::to_string(i) + "]"));
  }
  for (size_t i = 0; i < batch.remove.size(); ++i) {
    HS_RETURN_IF_ERROR(ValidateSignal(batch.remove[i]).WithContext("remove[" + std::to_string(i) + "]"));
  }
  if (!batch.add_meta.empty() && batch.add_meta.size() != batch.add.size()) {
    return Status::InvalidArgument("add_meta must be empty or one per add");
  }
  for (size_t i = 0; i < batch.add_meta.size(); ++i) {
    const SignalMeta& m = batch.add_meta[i];
    if (m.tags.size() > kMaxSignalTags) {
      return Status::InvalidArgument("add[" + std::to_string(i) + "]: more than " + std::to_string(kMaxSignalTags) + " tags");
    }
    for (const auto& t : m.tags) {
      if (t.empty() || t.size() > kMaxSignalTagBytes) {
        return Status::InvalidArgument("add[" + std::to_string(i) + "]: a tag must be 1.." +
                                       std::to_string(kMaxSignalTagBytes) + " bytes");
      }
    }
  }

  // Outside the writers' lock: one SHA-256 over the batch (~6 MB for 100,000 entries).
  const keys::BatchDigestBytes digest = keys::BatchDigest(batch);

  std::lock_guard w(write_mu_);
  auto li = lists_.find(list_id);
  if (li == lists_.end()) return Status::NotFound("no list " + std::to_string(list_id));
  ListInfo info = li->second;

  const std::string batch_key = keys::BatchKey(list_id, batch.batch_id);
  std::string prior;
  Status s = db_->Get(Database::kBatches, batch_key, &prior);
  if (s.ok()) {
    BatchResult first;
    std::optional<keys::BatchDigestBytes> prior_digest;
    HS_RETURN_IF_ERROR(keys::DecodeBatchResult(prior, &first, &prior_digest));
    if (prior_digest && *prior_digest != digest) {
      return Status::AlreadyExists("batch id '" + batch.batch_id + "' was already applied to list " +
                                   std::to_string(list_id) + " with different content (up to seq " +
                                   std::to_string(first.seq) + "); nothing of this batch was applied: use a new batch id");
    }
    first.replayed = true;
    first.content_verified = prior_digest.has_value();
    *out = first;
    return Status::Ok();
  }
  if (s.code() != Status::Code::kNotFound) return s;

  const BatchPlan plan = PlanBatch(batch, [&](const std::vector<idx::SignalRef>& q, std::vector<uint8_t>* present) {
    index_.ContainsMany(list_id, q, present);
  });
  std::vector<std::string> removed_refs;
  HS_RETURN_IF_ERROR(RemovedRefs(list_id, batch, plan, &removed_refs));

  // Sizes: ~ key and value per change and signal write, plus WriteBatch framing.
  size_t reserve = 64;
  for (const SignalEntry& e : batch.add) reserve += 2 * (e.hash.size() + e.ref.size()) + 64;
  for (const SignalEntry& e : batch.remove) reserve += e.hash.size() + e.ref.size() + 64;
  // Ingestion is the faster path for large batches; both are atomic, and
  // only WriteBatch stays safe after RocksDB stopped writes (Database::Ingest).
  const bool ingest = plan.effective() >= ingest_from_changes_ && db_->IngestionSafe();
  AtomicBatch wb(db_, ingest ? AtomicBatch::Mode::kIngest : AtomicBatch::Mode::kWriteBatch, reserve);
  EncodedBatch encoded;
  const int64_t now_ms = base::NowMs();
  const uint64_t first_change = info.last_seq + 1;
  EncodeBatch(list_id, info.last_seq, now_ms, batch, plan, removed_refs, &wb, &encoded);

  BatchResult result;
  result.added = plan.added;
  result.removed = plan.removed;
  result.already_present = plan.already_present;
  result.not_found = plan.not_found;
  result.seq = encoded.last_seq;
  info.last_seq = encoded.last_seq;
  info.signal_count = info.signal_count + result.added - result.removed;
  wb.Put(Database::kLists, keys::ListKey(list_id), keys::EncodeList(info));
  wb.Put(Database::kBatches, batch_key, keys::EncodeBatchResult(result, digest));
  // A batch that changed nothing has no feed record: followers need nothing.
  FeedRecord record;
  if (plan.effective() > 0) {
    record.seq = feed_head_ + 1;
    record.kind = FeedKind::kBatch;
    record.time_ms = now_ms;
    record.list_id = list_id;
    record.first_change = first_change;
    record.last_change = encoded.last_seq;
    wb.Put(Database::kFeed, keys::FeedKey(record.seq), keys::EncodeFeedRecord(record));
  }
  for (const MetaWrite& m : meta) {
    if (m.value) {
      wb.Put(Database::kMeta, m.key, *m.value);
    } else {
      wb.Delete(Database::kMeta, m.key);
    }
  }
  HS_RETURN_IF_ERROR(CommitAndPublish(list_id, &wb, encoded));
  {
    std::unique_lock l(mu_);
    li->second = std::move(info);
  }
  if (record.seq != 0) PublishFeed(record.seq, record.time_ms);
  *out = result;
  return Status::Ok();
}

Status HashLists::CommitAndPublish(uint64_t list_id, AtomicBatch* wb, const EncodedBatch& encoded) {
  // The batch's index segment is built while the batch is written (on
  // another thread for a large batch), and published only once the write is
  // durable. Merging segments happens later, on the index's merger thread.
  const auto& added = encoded.added;
  const auto& removed = encoded.removed;
  std::unique_ptr<MatchIndex::Prepared> prepared;
  Status written;
  if (added.size() + removed.size() >= kParallelIndexUpdate) {
    std::thread builder([&] { prepared = index_.Prepare(list_id, added, removed); });
    written = wb->Commit();
    builder.join();
  } else {
    written = wb->Commit();
    if (written.ok()) prepared = index_.Prepare(list_id, added, removed);
  }
  HS_RETURN_IF_ERROR(written);
  index_.Commit(std::move(prepared));
  return Status::Ok();
}

Status HashLists::RemovedRefs(uint64_t list_id, const BatchRequest& batch, const BatchPlan& plan,
                              std::vector<std::string>* refs) const {
  refs->assign(batch.remove.size(), std::string());
  for (size_t i = 0; i < batch.remove.size(); ++i) {
    if (!plan.rem_effect[i]) continue;
    if (plan.removed_add[i]) {
      (*refs)[i] = plan.removed_add[i]->ref;
      continue;
    }
    const SignalEntry& e = batch.remove[i];
    std::string stored;
    int64_t added_ms;
    HS_RETURN_IF_ERROR(db_->Get(Database::kSignals, keys::SignalKey(list_id, e.type, e.hash), &stored));
    HS_RETURN_IF_ERROR(keys::DecodeSignalValue(stored, &added_ms, &(*refs)[i]));
  }
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
    const uint64_t seq = base::GetU64(k.data() + 8);
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
  SignalMeta unused;
  return LookupSignal(list_id, type, hash, out, added_ms, &unused);
}

Status HashLists::LookupSignal(uint64_t list_id, SignalType type, std::string_view hash, SignalEntry* out,
                               int64_t* added_ms, SignalMeta* meta) const {
  if (!IsValidSignalType(static_cast<uint8_t>(type)) || hash.size() != SignalHashBytes(type)) {
    return Status::InvalidArgument("malformed signal");
  }
  std::string value;
  HS_RETURN_IF_ERROR(db_->Get(Database::kSignals, keys::SignalKey(list_id, type, hash), &value));
  out->type = type;
  out->hash.assign(hash);
  return keys::DecodeSignalValue(value, added_ms, &out->ref, meta);
}

Status HashLists::ListSignals(uint64_t list_id, std::vector<SignalEntry>* out) const {
  {
    std::shared_lock l(mu_);
    if (!lists_.count(list_id)) return Status::NotFound("no list " + std::to_string(list_id));
  }
  out->clear();
  const std::string prefix = keys::ListPrefix(list_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->family(Database::kSignals)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    uint64_t id;
    SignalEntry e;
    std::string_view hash;
    if (!keys::ParseSignalKey(it->key().ToStringView(), &id, &e.type, &hash)) {
      return Status::Corruption("signal key of list " + std::to_string(list_id) + " is damaged");
    }
    e.hash.assign(hash);
    int64_t added_ms;
    HS_RETURN_IF_ERROR(keys::DecodeSignalValue(it->value().ToStringView(), &added_ms, &e.ref));
    out->push_back(std::move(e));
  }
  return FromRocks(it->status(), "reading signals");
}

ScreenResult HashLists::Screen(const ScreenQuery& query) const { return index_.Screen(query); }

size_t HashLists::IndexedPdqHashes() const { return index_.pdq_hashes(); }
void HashLists::WaitForIndexMerges() { index_.WaitForMerges(); }
size_t HashLists::IndexMemoryBytes() const { return index_.MemoryBytes(); }

}  // namespace store
