#include "store/signal_holds.h"

#include <algorithm>

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

}  // namespace

const char* ExemptReasonName(ExemptReason reason) {
  return reason == ExemptReason::kReleased ? "released" : "confirmed";
}

std::string ExemptionKey(uint64_t list_id, SignalType type, std::string_view hash) {
  std::string k(kExemptPrefix);
  keys::AppendSignalKey(&k, list_id, type, hash);
  return k;
}

std::string EncodeExemption(const QuarantineExemption& e) {
  std::string v;
  v.push_back(static_cast<char>(kExemptFormat));
  v.push_back(static_cast<char>(e.reason));
  base::PutU64(&v, static_cast<uint64_t>(e.time_ms));
  base::PutU64(&v, e.source_seq);
  base::PutLengthPrefixed(&v, e.by);
  return v;
}

Status DecodeExemption(std::string_view key, std::string_view value, QuarantineExemption* out) {
  std::string_view hash;
  if (!key.starts_with(kExemptPrefix) ||
      !keys::ParseSignalKey(key.substr(kExemptPrefix.size()), &out->list_id, &out->type, &hash)) {
    return Status::Corruption("quarantine exemption: malformed key");
  }
  out->hash.assign(hash);
  base::ByteReader r(value);
  const uint8_t format = r.U8();
  const uint8_t reason = r.U8();
  out->time_ms = static_cast<int64_t>(r.U64());
  out->source_seq = r.U64();
  out->by.assign(r.LengthPrefixed(kMaxBy));
  if (!r.done() || format != kExemptFormat ||
      (reason != static_cast<uint8_t>(ExemptReason::kConfirmed) && reason != static_cast<uint8_t>(ExemptReason::kReleased))) {
    return Status::Corruption("quarantine exemption: malformed value");
  }
  out->reason = static_cast<ExemptReason>(reason);
  return Status::Ok();
}

const char* HoldReasonName(HoldReason reason) {
  return reason == HoldReason::kQuarantined ? "quarantined" : "suppressed";
}

std::string HoldKey(uint64_t list_id, SignalType type, std::string_view hash) {
  std::string k(kHoldPrefix);
  keys::AppendSignalKey(&k, list_id, type, hash);
  return k;
}

std::string EncodeHold(const SignalHold& h) {
  std::string v;
  v.push_back(static_cast<char>(kHoldFormat));
  v.push_back(static_cast<char>(h.reason));
  base::PutU64(&v, static_cast<uint64_t>(h.time_ms));
  base::PutU64(&v, h.source_seq);
  base::PutLengthPrefixed(&v, h.by);
  base::PutLengthPrefixed(&v, h.why);
  return v;
}

Status DecodeHold(std::string_view key, std::string_view value, SignalHold* out) {
  std::string_view hash;
  if (!key.starts_with(kHoldPrefix) ||
      !keys::ParseSignalKey(key.substr(kHoldPrefix.size()), &out->list_id, &out->type, &hash)) {
    return Status::Corruption("signal hold: malformed key");
  }
  out->hash.assign(hash);
  base::ByteReader r(value);
  const uint8_t format = r.U8();
  const uint8_t reason = r.U8();
  out->time_ms = static_cast<int64_t>(r.U64());
  out->source_seq = r.U64();
  out->by.assign(r.LengthPrefixed(kMaxBy));
  out->why.assign(r.LengthPrefixed(kMaxWhy));
  if (!r.done() || format != kHoldFormat ||
      (reason != static_cast<uint8_t>(HoldReason::kSuppressed) && reason != static_cast<uint8_t>(HoldReason::kQuarantined))) {
    return Status::Corruption("signal hold: malformed value");
  }
  out->reason = static_cast<HoldReason>(reason);
  return Status::Ok();
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
