#include "store/signal_holds.h"

#include <algorithm>
#include <type_traits>

#include "base/coding.h"
#include "store/key_encoding.h"

namespace store {

namespace {

constexpr std::string_view kHoldPrefix = "signal_hold/";
constexpr std::string_view kExemptPrefix = "quarantine_exempt/";
constexpr uint8_t kHoldFormat = 1;
constexpr uint8_t kExemptFormat = 1;
constexpr size_t kMaxWhy = 4096;
constexpr size_t kMaxBy = 256;

std::string MapKey(uint64_t list_id, SignalType type, std::string_view hash) {
  return keys::SignalKey(list_id, type, hash);
}

Status CheckSignal(SignalType type, std::string_view hash, std::string_view by, const char* what) {
  if (!base::IsValidSignalType(static_cast<uint8_t>(type)) || hash.size() != base::SignalHashBytes(type)) {
    return Status::InvalidArgument(std::string(what) + ": the hash has the wrong length for its type");
  }
  if (by.size() > kMaxBy) return Status::InvalidArgument(std::string(what) + ": by is longer than 256 bytes");
  return Status::Ok();
}

// Holds and exemptions are stored alike: the key is a prefix and the
// signal's key; the value a format byte, the reason (1 or 2), the time, the
// source seq and `by`, and for a hold its `why`.
std::string RecordKey(std::string_view prefix, uint64_t list_id, SignalType type, std::string_view hash) {
  std::string k(prefix);
  keys::AppendSignalKey(&k, list_id, type, hash);
  return k;
}

template <typename Record>
std::string EncodeRecord(uint8_t format, const Record& r) {
  std::string v;
  v.push_back(static_cast<char>(format));
  v.push_back(static_cast<char>(r.reason));
  base::PutU64(&v, static_cast<uint64_t>(r.time_ms));
  base::PutU64(&v, r.source_seq);
  base::PutLengthPrefixed(&v, r.by);
  if constexpr (std::is_same_v<Record, SignalHold>) base::PutLengthPrefixed(&v, r.why);
  return v;
}

// Corruption naming `what` for a key without `prefix`, a value that does not
// decode, another format or a reason other than 1 or 2.
template <typename Record>
Status DecodeRecord(std::string_view prefix, uint8_t format, const char* what, std::string_view key, std::string_view value,
                    Record* out) {
  std::string_view hash;
  if (!key.starts_with(prefix) || !keys::ParseSignalKey(key.substr(prefix.size()), &out->list_id, &out->type, &hash)) {
    return Status::Corruption(std::string(what) + ": malformed key");
  }
  out->hash.assign(hash);
  base::ByteReader r(value);
  const uint8_t stored_format = r.U8();
  const uint8_t reason = r.U8();
  out->time_ms = static_cast<int64_t>(r.U64());
  out->source_seq = r.U64();
  out->by.assign(r.LengthPrefixed(kMaxBy));
  if constexpr (std::is_same_v<Record, SignalHold>) out->why.assign(r.LengthPrefixed(kMaxWhy));
  if (!r.done() || stored_format != format || reason < 1 || reason > 2) {
    return Status::Corruption(std::string(what) + ": malformed value");
  }
  out->reason = static_cast<decltype(out->reason)>(reason);
  return Status::Ok();
}

}  // namespace

const char* ExemptReasonName(ExemptReason reason) {
  return reason == ExemptReason::kReleased ? "released" : "confirmed";
}

std::string ExemptionKey(uint64_t list_id, SignalType type, std::string_view hash) {
  return RecordKey(kExemptPrefix, list_id, type, hash);
}

std::string EncodeExemption(const QuarantineExemption& e) { return EncodeRecord(kExemptFormat, e); }

Status DecodeExemption(std::string_view key, std::string_view value, QuarantineExemption* out) {
  return DecodeRecord(kExemptPrefix, kExemptFormat, "quarantine exemption", key, value, out);
}

const char* HoldReasonName(HoldReason reason) {
  return reason == HoldReason::kQuarantined ? "quarantined" : "suppressed";
}

std::string HoldKey(uint64_t list_id, SignalType type, std::string_view hash) {
  return RecordKey(kHoldPrefix, list_id, type, hash);
}

std::string EncodeHold(const SignalHold& h) { return EncodeRecord(kHoldFormat, h); }

Status DecodeHold(std::string_view key, std::string_view value, SignalHold* out) {
  return DecodeRecord(kHoldPrefix, kHoldFormat, "signal hold", key, value, out);
}

Status SignalHolds::Open(Database* db, std::unique_ptr<SignalHolds>* out) {
  std::unique_ptr<SignalHolds> holds(new SignalHolds(db));
  auto map = std::make_shared<Map>();
  std::unique_ptr<rocksdb::Iterator> it(db->db()->NewIterator(rocksdb::ReadOptions(), db->family(Database::kMeta)));
  for (it->Seek(rocksdb::Slice(kHoldPrefix.data(), kHoldPrefix.size())); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (!key.starts_with(kHoldPrefix)) break;
    SignalHold h;
    HS_RETURN_IF_ERROR(DecodeHold(key, std::string_view(it->value().data(), it->value().size()), &h));
    std::string k = MapKey(h.list_id, h.type, h.hash);
    map->emplace(std::move(k), std::move(h));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "loading signal holds");
  auto exempt = std::make_shared<ExemptMap>();
  for (it->Seek(rocksdb::Slice(kExemptPrefix.data(), kExemptPrefix.size())); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (!key.starts_with(kExemptPrefix)) break;
    QuarantineExemption e;
    HS_RETURN_IF_ERROR(DecodeExemption(key, std::string_view(it->value().data(), it->value().size()), &e));
    std::string k = MapKey(e.list_id, e.type, e.hash);
    exempt->emplace(std::move(k), std::move(e));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "loading quarantine exemptions");
  holds->exempt_.store(std::move(exempt), std::memory_order_release);
  holds->Publish(std::move(map));
  *out = std::move(holds);
  return Status::Ok();
}

void SignalHolds::Publish(std::shared_ptr<const Map> next) {
  const size_t n = next->size();
  map_.store(std::move(next), std::memory_order_release);
  count_.store(n, std::memory_order_release);
}

Status SignalHolds::Put(const SignalHold& hold, bool* added) {
  *added = false;
  HS_RETURN_IF_ERROR(CheckSignal(hold.type, hold.hash, hold.by, "signal hold"));
  if (hold.why.size() > kMaxWhy) return Status::InvalidArgument("signal hold: why is longer than 4096 bytes");
  std::lock_guard<std::mutex> lock(write_mu_);
  std::shared_ptr<const Map> current = map();
  std::string k = MapKey(hold.list_id, hold.type, hold.hash);
  if (current->contains(k)) return Status::Ok();
  rocksdb::WriteBatch batch;
  batch.Put(db_->family(Database::kMeta), HoldKey(hold.list_id, hold.type, hold.hash), EncodeHold(hold));
  HS_RETURN_IF_ERROR(db_->Write(&batch, true));
  auto next = std::make_shared<Map>(*current);
  next->emplace(std::move(k), hold);
  Publish(std::move(next));
  *added = true;
  return Status::Ok();
}

Status SignalHolds::Release(uint64_t list_id, SignalType type, std::string_view hash, SignalHold* released) {
  std::lock_guard<std::mutex> lock(write_mu_);
  std::shared_ptr<const Map> current = map();
  const std::string k = MapKey(list_id, type, hash);
  auto found = current->find(k);
  if (found == current->end()) return Status::NotFound("the signal is not held");
  rocksdb::WriteBatch batch;
  batch.Delete(db_->family(Database::kMeta), HoldKey(list_id, type, hash));
  HS_RETURN_IF_ERROR(db_->Write(&batch, true));
  *released = found->second;
  auto next = std::make_shared<Map>(*current);
  next->erase(k);
  Publish(std::move(next));
  return Status::Ok();
}

bool SignalHolds::Held(uint64_t list_id, SignalType type, std::string_view hash) const {
  if (count_.load(std::memory_order_acquire) == 0) return false;
  // The key is built only for a signal a screen would report: a hit.
  return map()->contains(MapKey(list_id, type, hash));
}

Status SignalHolds::Get(uint64_t list_id, SignalType type, std::string_view hash, SignalHold* out) const {
  std::shared_ptr<const Map> m = map();
  auto found = m->find(MapKey(list_id, type, hash));
  if (found == m->end()) return Status::NotFound("the signal is not held");
  *out = found->second;
  return Status::Ok();
}

std::vector<SignalHold> SignalHolds::List() const {
  std::shared_ptr<const Map> m = map();
  std::vector<std::pair<std::string, const SignalHold*>> sorted;
  sorted.reserve(m->size());
  for (const auto& [k, h] : *m) sorted.emplace_back(k, &h);
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<SignalHold> out;
  out.reserve(sorted.size());
  for (const auto& [k, h] : sorted) out.push_back(*h);
  return out;
}

std::vector<SignalHold> SignalHolds::FromSource(uint64_t source_seq) const {
  std::vector<SignalHold> out;
  for (const SignalHold& h : List()) {
    if (h.reason == HoldReason::kSuppressed && h.source_seq == source_seq) out.push_back(h);
  }
  return out;
}

size_t SignalHolds::Count(HoldReason reason) const {
  std::shared_ptr<const Map> m = map();
  return static_cast<size_t>(std::count_if(m->begin(), m->end(), [&](const auto& kv) { return kv.second.reason == reason; }));
}

Status SignalHolds::Exempt(const QuarantineExemption& exemption, bool* added) {
  *added = false;
  HS_RETURN_IF_ERROR(CheckSignal(exemption.type, exemption.hash, exemption.by, "quarantine exemption"));
  std::lock_guard<std::mutex> lock(write_mu_);
  std::shared_ptr<const ExemptMap> current = exempt_.load(std::memory_order_acquire);
  std::string k = MapKey(exemption.list_id, exemption.type, exemption.hash);
  if (current->contains(k)) return Status::Ok();
  rocksdb::WriteBatch batch;
  batch.Put(db_->family(Database::kMeta), ExemptionKey(exemption.list_id, exemption.type, exemption.hash),
            EncodeExemption(exemption));
  HS_RETURN_IF_ERROR(db_->Write(&batch, true));
  auto next = std::make_shared<ExemptMap>(*current);
  next->emplace(std::move(k), exemption);
  exempt_.store(std::move(next), std::memory_order_release);
  *added = true;
  return Status::Ok();
}

bool SignalHolds::QuarantineExempt(uint64_t list_id, SignalType type, std::string_view hash) const {
  std::shared_ptr<const ExemptMap> m = exempt_.load(std::memory_order_acquire);
  return !m->empty() && m->contains(MapKey(list_id, type, hash));
}

std::vector<QuarantineExemption> SignalHolds::Exemptions() const {
  std::shared_ptr<const ExemptMap> m = exempt_.load(std::memory_order_acquire);
  std::vector<std::pair<std::string, const QuarantineExemption*>> sorted;
  sorted.reserve(m->size());
  for (const auto& [k, e] : *m) sorted.emplace_back(k, &e);
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<QuarantineExemption> out;
  out.reserve(sorted.size());
  for (const auto& [k, e] : sorted) out.push_back(*e);
  return out;
}

}  // namespace store
