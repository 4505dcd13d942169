#include "store/key_encoding.h"

#include <cstring>

#include "base/coding.h"
#include "base/crypto.h"

namespace store::keys {

using base::EncodeU64;
using base::GetU16;
using base::GetU64;
using base::PutU16;
using base::PutU64;

namespace {
constexpr uint8_t kListFormat = 1;
}  // namespace

std::string ListKey(uint64_t list_id) { return EncodeU64(list_id); }
std::string ListPrefix(uint64_t list_id) { return EncodeU64(list_id); }

void AppendSignalKey(std::string* out, uint64_t list_id, SignalType type, std::string_view hash) {
  PutU64(out, list_id);
  out->push_back(static_cast<char>(type));
  out->append(hash);
}

std::string SignalKey(uint64_t list_id, SignalType type, std::string_view hash) {
  std::string k;
  k.reserve(9 + hash.size());
  AppendSignalKey(&k, list_id, type, hash);
  return k;
}

bool ParseSignalKey(std::string_view key, uint64_t* list_id, SignalType* type, std::string_view* hash) {
  if (key.size() < 9) return false;
  uint8_t t = static_cast<uint8_t>(key[8]);
  if (!IsValidSignalType(t)) return false;
  *type = static_cast<SignalType>(t);
  if (key.size() != 9 + SignalHashBytes(*type)) return false;
  *list_id = GetU64(key.data());
  *hash = key.substr(9);
  return true;
}

void AppendChangeKey(std::string* out, uint64_t list_id, uint64_t seq) {
  PutU64(out, list_id);
  PutU64(out, seq);
}

std::string ChangeKey(uint64_t list_id, uint64_t seq) {
  std::string k;
  AppendChangeKey(&k, list_id, seq);
  return k;
}

std::string BatchKey(uint64_t list_id, std::string_view batch_id) {
  std::string k = EncodeU64(list_id);
  k.append(batch_id);
  return k;
}

std::string EncodeList(const ListInfo& info) {
  std::string v;
  v.push_back(static_cast<char>(kListFormat));
  v.push_back(static_cast<char>(info.kind));
  v.push_back(static_cast<char>(info.pdq_threshold));
  v.push_back(info.enabled ? 1 : 0);
  PutU64(&v, info.last_seq);
  PutU64(&v, info.signal_count);
  PutU64(&v, static_cast<uint64_t>(info.created_ms));
  PutU16(&v, static_cast<uint16_t>(info.name.size()));
  v.append(info.name);
  PutU16(&v, static_cast<uint16_t>(info.owner.size()));
  v.append(info.owner);
  return v;
}

Status DecodeList(uint64_t id, std::string_view v, ListInfo* out) {
  auto bad = [id] { return Status::Corruption("list record " + std::to_string(id) + " is damaged"); };
  if (v.size() < 4 + 24 + 2 || static_cast<uint8_t>(v[0]) != kListFormat) return bad();
  out->id = id;
  uint8_t kind = static_cast<uint8_t>(v[1]);
  if (kind > 1) return bad();
  out->kind = static_cast<ListKind>(kind);
  out->pdq_threshold = static_cast<uint8_t>(v[2]);
  out->enabled = v[3] != 0;
  out->last_seq = GetU64(v.data() + 4);
  out->signal_count = GetU64(v.data() + 12);
  out->created_ms = static_cast<int64_t>(GetU64(v.data() + 20));
  size_t p = 28;
  uint16_t n = GetU16(v.data() + p);
  p += 2;
  if (v.size() < p + n + 2) return bad();
  out->name.assign(v.substr(p, n));
  p += n;
  n = GetU16(v.data() + p);
  p += 2;
  if (v.size() != p + n) return bad();
  out->owner.assign(v.substr(p, n));
  return Status::Ok();
}

namespace {
constexpr char kSignalValueV2Marker = static_cast<char>(0xFF);
constexpr uint8_t kSignalValueV2 = 2;
}  // namespace

void AppendSignalValue(std::string* out, int64_t added_ms, std::string_view ref, const SignalMeta* meta) {
  if (meta == nullptr || meta->empty()) {
    PutU64(out, static_cast<uint64_t>(added_ms));
    out->append(ref);
    return;
  }
  out->push_back(kSignalValueV2Marker);
  out->push_back(static_cast<char>(kSignalValueV2));
  PutU64(out, static_cast<uint64_t>(added_ms));
  base::PutLengthPrefixed(out, ref);
  PutU64(out, static_cast<uint64_t>(meta->first_seen_ms));
  base::PutU16(out, static_cast<uint16_t>(meta->tags.size()));
  for (const auto& t : meta->tags) base::PutLengthPrefixed(out, t);
}

std::string EncodeSignalValue(int64_t added_ms, std::string_view ref) {
  std::string v;
  AppendSignalValue(&v, added_ms, ref);
  return v;
}

Status DecodeSignalValue(std::string_view value, int64_t* added_ms, std::string* ref, SignalMeta* meta) {
  if (meta) *meta = SignalMeta();
  if (!value.empty() && value[0] == kSignalValueV2Marker) {
    base::ByteReader in(value.substr(1));
    if (in.U8() != kSignalValueV2) return Status::Corruption("signal record has an unknown version");
    const int64_t added = static_cast<int64_t>(in.U64());
    std::string r(in.LengthPrefixed(base::kMaxRefBytes));
    SignalMeta m;
    m.first_seen_ms = static_cast<int64_t>(in.U64());
    const uint16_t n = in.U16();
    for (uint16_t i = 0; i < n && i <= kMaxSignalTags; ++i) m.tags.emplace_back(in.LengthPrefixed(kMaxSignalTagBytes));
    if (n > kMaxSignalTags || !in.done()) return Status::Corruption("signal record is damaged");
    *added_ms = added;
    *ref = std::move(r);
    if (meta) *meta = std::move(m);
    return Status::Ok();
  }
  if (value.size() < 8) return Status::Corruption("signal record is damaged");
  *added_ms = static_cast<int64_t>(GetU64(value.data()));
  ref->assign(value.substr(8));
  return Status::Ok();
}

namespace {
constexpr uint8_t kChangeAdd = 1, kChangeRemove = 2, kChangeAddWithMeta = 3;
}  // namespace

void AppendChange(std::string* out, bool add, SignalType type, std::string_view hash, int64_t time_ms,
                  std::string_view ref, const SignalMeta* meta) {
  const bool with_meta = add && meta != nullptr && !meta->empty();
  out->push_back(static_cast<char>(with_meta ? kChangeAddWithMeta : add ? kChangeAdd : kChangeRemove));
  out->push_back(static_cast<char>(type));
  out->push_back(static_cast<char>(hash.size()));
  out->append(hash);
  PutU64(out, static_cast<uint64_t>(time_ms));
  if (!with_meta) {
    out->append(ref);
    return;
  }
  base::PutLengthPrefixed(out, ref);
  PutU64(out, static_cast<uint64_t>(meta->first_seen_ms));
  base::PutU16(out, static_cast<uint16_t>(meta->tags.size()));
  for (const auto& t : meta->tags) base::PutLengthPrefixed(out, t);
}

std::string EncodeChange(const Change& c) {
  std::string v;
  AppendChange(&v, c.add, c.type, c.hash, c.time_ms, c.ref, &c.meta);
  return v;
}

Status DecodeChange(uint64_t seq, std::string_view v, Change* out) {
  auto bad = [seq] { return Status::Corruption("change record " + std::to_string(seq) + " is damaged"); };
  if (v.size() < 3) return bad();
  uint8_t op = static_cast<uint8_t>(v[0]), type = static_cast<uint8_t>(v[1]), len = static_cast<uint8_t>(v[2]);
  if ((op != kChangeAdd && op != kChangeRemove && op != kChangeAddWithMeta) || !IsValidSignalType(type)) return bad();
  if (len != SignalHashBytes(static_cast<SignalType>(type)) || v.size() < 3u + len + 8) return bad();
  out->seq = seq;
  out->add = op != kChangeRemove;
  out->type = static_cast<SignalType>(type);
  out->hash.assign(v.substr(3, len));
  out->time_ms = static_cast<int64_t>(GetU64(v.data() + 3 + len));
  out->meta = SignalMeta();
  if (op != kChangeAddWithMeta) {
    out->ref.assign(v.substr(3 + len + 8));
    return Status::Ok();
  }
  base::ByteReader in(v.substr(3 + len + 8));
  out->ref.assign(in.LengthPrefixed(base::kMaxRefBytes));
  out->meta.first_seen_ms = static_cast<int64_t>(in.U64());
  const uint16_t n = in.U16();
  if (n > kMaxSignalTags) return bad();
  for (uint16_t i = 0; i < n; ++i) out->meta.tags.emplace_back(in.LengthPrefixed(kMaxSignalTagBytes));
  if (!in.done()) return bad();
  return Status::Ok();
}

BatchDigestBytes BatchDigest(const BatchRequest& batch) {
  size_t bytes = 64;
  for (const auto* list : {&batch.add, &batch.remove}) {
    for (const SignalEntry& e : *list) bytes += 1 + 16 + e.hash.size() + e.ref.size();
  }
  std::string canonical;
  canonical.reserve(bytes);
  canonical.append("hashscreen batch v1");
  for (const auto* list : {&batch.add, &batch.remove}) {
    PutU64(&canonical, list->size());
    for (const SignalEntry& e : *list) {
      canonical.push_back(static_cast<char>(e.type));
      base::PutLengthPrefixed(&canonical, e.hash);
      base::PutLengthPrefixed(&canonical, e.ref);
    }
  }
  // Metadata only when present, so digests of batches without it (every
  // batch stored before it existed) stay what they were.
  if (!batch.add_meta.empty()) {
    canonical.append("meta");
    PutU64(&canonical, batch.add_meta.size());
    for (const SignalMeta& m : batch.add_meta) {
      PutU64(&canonical, static_cast<uint64_t>(m.first_seen_ms));
      PutU64(&canonical, m.tags.size());
      for (const auto& t : m.tags) base::PutLengthPrefixed(&canonical, t);
    }
  }
  return base::Sha256(canonical);
}

std::string EncodeBatchResult(const BatchResult& r, const BatchDigestBytes& digest) {
  std::string v;
  for (uint64_t x : {r.seq, r.added, r.removed, r.already_present, r.not_found}) PutU64(&v, x);
  v.append(base::AsBytes(digest));
  return v;
}

Status DecodeBatchResult(std::string_view v, BatchResult* out, std::optional<BatchDigestBytes>* digest) {
  if (v.size() != 40 && v.size() != 72) return Status::Corruption("batch record is damaged");
  out->seq = GetU64(v.data());
  out->added = GetU64(v.data() + 8);
  out->removed = GetU64(v.data() + 16);
  out->already_present = GetU64(v.data() + 24);
  out->not_found = GetU64(v.data() + 32);
  digest->reset();
  if (v.size() == 72) {
    BatchDigestBytes d;
    std::memcpy(d.data(), v.data() + 40, d.size());
    *digest = d;
  }
  return Status::Ok();
}

}  // namespace store::keys
