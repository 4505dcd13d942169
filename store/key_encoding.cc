#include "store/key_encoding.h"

namespace store::keys {

namespace {
constexpr uint8_t kListFormat = 1;

void PutU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}
uint16_t GetU16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) << 8 | static_cast<uint8_t>(p[1]));
}
}  // namespace

void PutU64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (56 - 8 * i));
  out->append(b, 8);
}

uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(p[i]);
  return v;
}

std::string U64(uint64_t v) {
  std::string s;
  PutU64(&s, v);
  return s;
}

std::string ListKey(uint64_t list_id) { return U64(list_id); }
std::string ListPrefix(uint64_t list_id) { return U64(list_id); }

std::string SignalKey(uint64_t list_id, SignalType type, std::string_view hash) {
  std::string k;
  k.reserve(9 + hash.size());
  PutU64(&k, list_id);
  k.push_back(static_cast<char>(type));
  k.append(hash);
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

std::string ChangeKey(uint64_t list_id, uint64_t seq) {
  std::string k = U64(list_id);
  PutU64(&k, seq);
  return k;
}

std::string BatchKey(uint64_t list_id, std::string_view batch_id) {
  std::string k = U64(list_id);
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

std::string EncodeSignalValue(int64_t added_ms, std::string_view ref) {
  std::string v = U64(static_cast<uint64_t>(added_ms));
  v.append(ref);
  return v;
}

Status DecodeSignalValue(std::string_view value, int64_t* added_ms, std::string* ref) {
  if (value.size() < 8) return Status::Corruption("signal record is damaged");
  *added_ms = static_cast<int64_t>(GetU64(value.data()));
  ref->assign(value.substr(8));
  return Status::Ok();
}

void AppendChange(std::string* out, bool add, SignalType type, std::string_view hash, int64_t time_ms,
                  std::string_view ref) {
  out->push_back(add ? 1 : 2);
  out->push_back(static_cast<char>(type));
  out->push_back(static_cast<char>(hash.size()));
  out->append(hash);
  PutU64(out, static_cast<uint64_t>(time_ms));
  out->append(ref);
}

std::string EncodeChange(const Change& c) {
  std::string v;
  AppendChange(&v, c.add, c.type, c.hash, c.time_ms, c.ref);
  return v;
}

Status DecodeChange(uint64_t seq, std::string_view v, Change* out) {
  auto bad = [seq] { return Status::Corruption("change record " + std::to_string(seq) + " is damaged"); };
  if (v.size() < 3) return bad();
  uint8_t op = static_cast<uint8_t>(v[0]), type = static_cast<uint8_t>(v[1]), len = static_cast<uint8_t>(v[2]);
  if ((op != 1 && op != 2) || !IsValidSignalType(type)) return bad();
  if (len != SignalHashBytes(static_cast<SignalType>(type)) || v.size() < 3u + len + 8) return bad();
  out->seq = seq;
  out->add = op == 1;
  out->type = static_cast<SignalType>(type);
  out->hash.assign(v.substr(3, len));
  out->time_ms = static_cast<int64_t>(GetU64(v.data() + 3 + len));
  out->ref.assign(v.substr(3 + len + 8));
  return Status::Ok();
}

std::string EncodeBatchResult(const BatchResult& r) {
  std::string v;
  for (uint64_t x : {r.seq, r.added, r.removed, r.already_present, r.not_found}) PutU64(&v, x);
  return v;
}

Status DecodeBatchResult(std::string_view v, BatchResult* out) {
  if (v.size() != 40) return Status::Corruption("batch record is damaged");
  out->seq = GetU64(v.data());
  out->added = GetU64(v.data() + 8);
  out->removed = GetU64(v.data() + 16);
  out->already_present = GetU64(v.data() + 24);
  out->not_found = GetU64(v.data() + 32);
  return Status::Ok();
}

}  // namespace store::keys
