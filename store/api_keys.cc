#include "store/api_keys.h"

#include <openssl/crypto.h>

#include <array>

#include <rocksdb/iterator.h>

#include "base/clock.h"
#include "base/coding.h"
#include "base/crypto.h"
#include "base/hex.h"

namespace store {

namespace {

constexpr std::string_view kPrefix = "hsk_";
constexpr size_t kIdHex = 16, kSecretHex = 64;

// Value: role(1) created(8) revoked(8) sha256(32) partner(rest).
std::string Encode(const ApiKey& k, const std::array<uint8_t, 32>& digest) {
  std::string v;
  v.push_back(static_cast<char>(k.role));
  base::PutU64(&v, static_cast<uint64_t>(k.created_ms));
  base::PutU64(&v, static_cast<uint64_t>(k.revoked_ms));
  v.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  v.append(k.partner);
  return v;
}

Status Decode(const std::string& id, const std::string& v, ApiKey* k, std::array<uint8_t, 32>* digest) {
  if (v.size() < 49 || v[0] < 1 || v[0] > 5) return Status::Corruption("key record " + id + " is damaged");
  k->id = id;
  k->role = static_cast<Role>(v[0]);
  k->created_ms = static_cast<int64_t>(base::GetU64(v.data() + 1));
  k->revoked_ms = static_cast<int64_t>(base::GetU64(v.data() + 9));
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
  base::RandomBytes(id_bytes);
  base::RandomBytes(secret_bytes);
  ApiKey k;
  k.id = base::HexEncode(id_bytes);
  k.role = role;
  k.partner = partner;
  k.created_ms = base::NowMs();
  std::string s = std::string(kPrefix) + k.id + "_" + base::HexEncode(secret_bytes);
  OPENSSL_cleanse(secret_bytes, sizeof secret_bytes);  // no copy of the secret outlives the call
  rocksdb::WriteBatch batch;
  batch.Put(db_->family(Database::kKeys), k.id, Encode(k, base::Sha256(s)));
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
  if (!base::IsHex(id)) return unknown;
  std::string v;
  Status s = db_->Get(Database::kKeys, id, &v);
  if (s.code() == Status::Code::kNotFound) return unknown;
  HS_RETURN_IF_ERROR(s);
  ApiKey k;
  std::array<uint8_t, 32> stored{};
  HS_RETURN_IF_ERROR(Decode(id, v, &k, &stored));
  const std::array<uint8_t, 32> presented = base::Sha256(secret);
  if (!base::ConstantTimeEquals(base::AsBytes(stored), base::AsBytes(presented)) || k.revoked()) return unknown;
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
  k.revoked_ms = base::NowMs();
  rocksdb::WriteBatch batch;
  batch.Put(db_->family(Database::kKeys), id, Encode(k, digest));
  return db_->Write(&batch, /*sync=*/true);
}

}  // namespace store
