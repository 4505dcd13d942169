#include "store/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <chrono>

#include <rocksdb/iterator.h>

#include "hashing/hex.h"

namespace store {

namespace {

constexpr std::string_view kPrefix = "hsk_";
constexpr size_t kIdHex = 16, kSecretHex = 64;

void PutU64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetU64(const std::string& s, size_t pos) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(s[pos + i]);
  return v;
}

std::array<uint8_t, 32> Sha256(std::string_view s) {
  std::array<uint8_t, 32> d{};
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
  return d;
}

// Value: role(1) created(8) revoked(8) sha256(32) partner(rest).
std::string Encode(const ApiKey& k, const std::array<uint8_t, 32>& digest) {
  std::string v;
  v.push_back(static_cast<char>(k.role));
  PutU64(&v, static_cast<uint64_t>(k.created_ms));
  PutU64(&v, static_cast<uint64_t>(k.revoked_ms));
  v.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  v.append(k.partner);
  return v;
}

Status Decode(const std::string& id, const std::string& v, ApiKey* k, std::array<uint8_t, 32>* digest) {
  if (v.size() < 49 || v[0] < 1 || v[0] > 5) return Status::Corruption("key record " + id + " is damaged");
  k->id = id;
  k->role = static_cast<Role>(v[0]);
  k->created_ms = static_cast<int64_t>(GetU64(v, 1));
  k->revoked_ms = static_cast<int64_t>(GetU64(v, 9));
  std::copy(v.begin() + 17, v.begin() + 49, digest->begin());
  k->partner = v.substr(49);
  return Status::Ok();
}

bool ValidPartner(const std::string& p) {
  if (p.empty() || p.size() > 64) return false;
  for (char c : p) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

bool IsHex(std::string_view s) {
  for (char c : s) if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kIngest: return "ingest";
    case Role::kReviewer: return "reviewer";
    case Role::kPartner: return "partner";
    case Role::kReplica: return "replica";
    case Role::kAdmin: return "admin";
  }
  return "unknown";
}

Status ParseRole(std::string_view name, Role* out) {
  for (Role r : {Role::kIngest, Role::kReviewer, Role::kPartner, Role::kReplica, Role::kAdmin}) {
    if (RoleName(r) == name) {
      *out = r;
      return Status::Ok();
    }
  }
  return Status::InvalidArgument("unknown role '" + std::string(name) +
                                 "' (ingest, reviewer, partner, replica, admin)");
}

Status ApiKeys::Create(Role role, const std::string& partner, ApiKey* key, std::string* secret) {
  if (role == Role::kPartner && partner.empty()) return Status::InvalidArgument("a partner key needs --partner NAME");
  if (!partner.empty() && !ValidPartner(partner)) {
    return Status::InvalidArgument("partner name must be 1-64 letters, digits, '-', '_' or '.'");
  }
  uint8_t id_bytes[kIdHex / 2], secret_bytes[kSecretHex / 2];
  if (RAND_bytes(id_bytes, sizeof id_bytes) != 1 || RAND_bytes(secret_bytes, sizeof secret_bytes) != 1) {
    return Status::IOError("no randomness for a key");
  }
  ApiKey k;
  k.id = hashing::HexEncode(id_bytes);
  k.role = role;
  k.partner = partner;
  k.created_ms = NowMs();
  std::string s = std::string(kPrefix) + k.id + "_" + hashing::HexEncode(secret_bytes);
  OPENSSL_cleanse(secret_bytes, sizeof secret_bytes);
  rocksdb::WriteBatch batch;
  batch.Put(db_->family(Database::kKeys), k.id, Encode(k, Sha256(s)));
  HS_RETURN_IF_ERROR(db_->Write(&batch, /*sync=*/true));
  *key = k;
  *secret = std::move(s);
  return Status::Ok();
}

Status ApiKeys::Authenticate(std::string_view secret, ApiKey* out) const {
  const Status unknown = Status::NotFound("unknown or revoked API key");
  if (secret.size() != kPrefix.size() + kIdHex + 1 + kSecretHex || !secret.starts_with(kPrefix) ||
      secret[kPrefix.size() + kIdHex] != '_') {
    return unknown;
  }
  std::string id(secret.substr(kPrefix.size(), kIdHex));
  if (!IsHex(id)) return unknown;
  std::string v;
  Status s = db_->Get(Database::kKeys, id, &v);
  if (s.code() == Status::Code::kNotFound) return unknown;
  HS_RETURN_IF_ERROR(s);
  ApiKey k;
  std::array<uint8_t, 32> stored{};
  HS_RETURN_IF_ERROR(Decode(id, v, &k, &stored));
  std::array<uint8_t, 32> presented = Sha256(secret);
  if (CRYPTO_memcmp(stored.data(), presented.data(), stored.size()) != 0 || k.revoked()) return unknown;
  *out = k;
  return Status::Ok();
}

Status ApiKeys::Get(const std::string& id, ApiKey* out) const {
  std::string v;
  Status s = db_->Get(Database::kKeys, id, &v);
  if (s.code() == Status::Code::kNotFound) return Status::NotFound("no key " + id);
  HS_RETURN_IF_ERROR(s);
  std::array<uint8_t, 32> digest{};
  return Decode(id, v, out, &digest);
}

Status ApiKeys::List(std::vector<ApiKey>* out) const {
  out->clear();
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->family(Database::kKeys)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ApiKey k;
    std::array<uint8_t, 32> digest{};
    HS_RETURN_IF_ERROR(Decode(it->key().ToString(), it->value().ToString(), &k, &digest));
    out->push_back(std::move(k));
  }
  return FromRocks(it->status(), "listing keys");
}

Status ApiKeys::Revoke(const std::string& id) {
  std::string v;
  Status s = db_->Get(Database::kKeys, id, &v);
  if (s.code() == Status::Code::kNotFound) return Status::NotFound("no key " + id);
  HS_RETURN_IF_ERROR(s);
  ApiKey k;
  std::array<uint8_t, 32> digest{};
  HS_RETURN_IF_ERROR(Decode(id, v, &k, &digest));
  if (k.revoked()) return Status::Ok();
  k.revoked_ms = NowMs();
  rocksdb::WriteBatch batch;
  batch.Put(db_->family(Database::kKeys), id, Encode(k, digest));
  return db_->Write(&batch, /*sync=*/true);
}

}  // namespace store
