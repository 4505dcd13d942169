#include "store/api_keys.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <bit>
#include <cmath>

#include <rocksdb/iterator.h>

#include "base/clock.h"
#include "base/coding.h"
#include "base/crypto.h"
#include "base/hex.h"

namespace store {

namespace {

constexpr std::string_view kPrefix = "hsk_";
constexpr size_t kIdHex = 16, kSecretHex = 64;
constexpr size_t kMaxLabelBytes = 256;

// Record formats (value of the `keys` family, key = id):
//   first:  role(1) created(8) revoked(8) sha256(32) partner(rest)
//   second: 0xF2 role(1) flags(1) created(8) revoked(8) expires(8)
//           last_used(8) blocked(8) rate(8, IEEE double bits) sha256(32)
//           partner(length-prefixed) label(length-prefixed)
// A first-format record starts with a role (1..5), so the marker tells them
// apart; first-format records are read as keys without label, expiry or
// permissions, and rewritten in the second format at their next change.
constexpr uint8_t kFormat2 = 0xF2;
constexpr uint8_t kFlagHashQueries = 1, kFlagProbingExempt = 2;

bool ValidRoleByte(uint8_t r) { return r >= 1 && r <= 5; }

ApiKey KeyOf(const KeySpec& spec, std::string id, int64_t now) {
  ApiKey k;
  k.id = std::move(id);
  k.role = spec.role;
  k.partner = spec.partner;
  k.label = spec.label;
  k.created_ms = now;
  k.expires_ms = spec.expires_ms;
  k.hash_queries = spec.hash_queries;
  k.probing_exempt = spec.probing_exempt;
  k.rate_per_s = spec.rate_per_s;
  return k;
}

std::string Encode(const ApiKey& k, const std::array<uint8_t, 32>& digest) {
  std::string v;
  v.push_back(static_cast<char>(kFormat2));
  v.push_back(static_cast<char>(k.role));
  v.push_back(static_cast<char>((k.hash_queries ? kFlagHashQueries : 0) | (k.probing_exempt ? kFlagProbingExempt : 0)));
  for (int64_t t : {k.created_ms, k.revoked_ms, k.expires_ms, k.last_used_ms, k.blocked_ms}) {
    base::PutU64(&v, static_cast<uint64_t>(t));
  }
  base::PutU64(&v, std::bit_cast<uint64_t>(k.rate_per_s));
  v.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  base::PutLengthPrefixed(&v, k.partner);
  base::PutLengthPrefixed(&v, k.label);
  return v;
}

Status Decode(const std::string& id, const std::string& v, ApiKey* k, std::array<uint8_t, 32>* digest) {
  const Status damaged = Status::Corruption("key record " + id + " is damaged");
  *k = ApiKey();
  k->id = id;
  if (v.empty()) return damaged;
  const uint8_t first = static_cast<uint8_t>(v[0]);
  if (ValidRoleByte(first)) {
    if (v.size() < 49) return damaged;
    k->role = static_cast<Role>(first);
    k->created_ms = static_cast<int64_t>(base::GetU64(v.data() + 1));
    k->revoked_ms = static_cast<int64_t>(base::GetU64(v.data() + 9));
    std::copy(v.begin() + 17, v.begin() + 49, digest->begin());
    k->partner = v.substr(49);
    return Status::Ok();
  }
  if (first != kFormat2) return damaged;
  base::ByteReader r(v);
  r.U8();
  const uint8_t role = r.U8(), flags = r.U8();
  k->created_ms = static_cast<int64_t>(r.U64());
  k->revoked_ms = static_cast<int64_t>(r.U64());
  k->expires_ms = static_cast<int64_t>(r.U64());
  k->last_used_ms = static_cast<int64_t>(r.U64());
  k->blocked_ms = static_cast<int64_t>(r.U64());
  k->rate_per_s = std::bit_cast<double>(r.U64());
  r.Array(digest);
  k->partner = std::string(r.LengthPrefixed(64));
  k->label = std::string(r.LengthPrefixed(kMaxLabelBytes));
  if (!r.done() || !ValidRoleByte(role) || (flags & ~(kFlagHashQueries | kFlagProbingExempt)) != 0 ||
      !std::isfinite(k->rate_per_s) || k->rate_per_s < 0) {
    return damaged;
  }
  k->role = static_cast<Role>(role);
  k->hash_queries = flags & kFlagHashQueries;
  k->probing_exempt = flags & kFlagProbingExempt;
  return Status::Ok();
}

Status ValidateSpec(const KeySpec& spec, int64_t now_ms) {
  if (spec.role == Role::kPartner && spec.partner.empty()) return Status::InvalidArgument("a partner key needs a partner name");
  if (!spec.partner.empty()) HS_RETURN_IF_ERROR(ValidatePartnerName(spec.partner));
  // A partner name on another role would mean nothing but show in listings as if it did.
  if (!spec.partner.empty() && spec.role != Role::kPartner) {
    return Status::InvalidArgument("partner applies to partner keys only, not to a " + std::string(RoleName(spec.role)) + " key");
  }
  if (spec.label.size() > kMaxLabelBytes) return Status::InvalidArgument("label is longer than 256 bytes");
  for (char c : spec.label) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return Status::InvalidArgument("label contains a control character");
  }
  if (spec.expires_ms < 0 || (spec.expires_ms != 0 && spec.expires_ms <= now_ms)) {
    return Status::InvalidArgument("expiry must be in the future");
  }
  if ((spec.hash_queries || spec.probing_exempt) && spec.role != Role::kIngest) {
    return Status::InvalidArgument("hash queries and the probing exemption apply to ingest keys only");
  }
  if (spec.rate_per_s != 0 && !(spec.rate_per_s >= kMinKeyRate && spec.rate_per_s <= kMaxKeyRate)) {
    return Status::InvalidArgument("rate must be 0 (the server's default) or 0.001..1000000 requests per second");
  }
  return Status::Ok();
}

}  // namespace

struct ApiKeys::Entry {
  ApiKey key;  // as stored (last_used_ms: the stored value)
  std::array<uint8_t, 32> digest{};
  // Newest use seen by Authenticate; newer than key.last_used_ms until flushed.
  mutable std::atomic<int64_t> last_used{0};
};

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

Status ValidatePartnerName(std::string_view p) {
  bool ok = !p.empty() && p.size() <= 64;
  for (char c : p) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
  if (!ok) return Status::InvalidArgument("partner name must be 1-64 letters, digits, '-', '_' or '.'");
  return Status::Ok();
}

ApiKeys::ApiKeys(Database* db) : db_(db) {}

Status ApiKeys::Open(Database* db, const Options& options, std::unique_ptr<ApiKeys>* out) {
  std::unique_ptr<ApiKeys> keys(new ApiKeys(db));
  HS_RETURN_IF_ERROR(keys->Load());
  if (options.flush_interval_ms > 0) {
    keys->flusher_ = std::thread([k = keys.get(), ms = options.flush_interval_ms] { k->FlusherLoop(ms); });
  }
  *out = std::move(keys);
  return Status::Ok();
}

ApiKeys::~ApiKeys() {
  {
    std::lock_guard l(flusher_mu_);
    stop_ = true;
  }
  flusher_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  static_cast<void>(FlushLastUsed());
}

Status ApiKeys::Load() {
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->family(Database::kKeys)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto e = std::make_unique<Entry>();
    HS_RETURN_IF_ERROR(Decode(it->key().ToString(), it->value().ToString(), &e->key, &e->digest));
    e->last_used.store(e->key.last_used_ms, std::memory_order_relaxed);
    entries_[e->key.id] = std::move(e);
  }
  return FromRocks(it->status(), "reading keys");
}

void ApiKeys::FlusherLoop(int64_t interval_ms) {
  std::unique_lock l(flusher_mu_);
  while (!stop_) {
    flusher_cv_.wait_for(l, std::chrono::milliseconds(interval_ms), [this] { return stop_; });
    if (stop_) break;
    l.unlock();
    // A failed write is retried at the next interval; the times stay in memory.
    static_cast<void>(FlushLastUsed());
    l.lock();
  }
}

Status ApiKeys::Store(const ApiKey& key, const std::array<uint8_t, 32>& digest, bool sync) {
  rocksdb::WriteBatch batch;
  batch.Put(db_->family(Database::kKeys), key.id, Encode(key, digest));
  HS_RETURN_IF_ERROR(db_->Write(&batch, sync));
  std::unique_lock l(mu_);
  auto& e = entries_[key.id];
  if (!e) {
    e = std::make_unique<Entry>();
    e->last_used.store(key.last_used_ms, std::memory_order_relaxed);
  }
  e->key = key;
  e->digest = digest;
  return Status::Ok();
}

Status ApiKeys::Create(const KeySpec& spec, ApiKey* key, std::string* secret) {
  const int64_t now = base::NowMs();
  HS_RETURN_IF_ERROR(ValidateSpec(spec, now));
  std::string s = NewSecret();
  const ApiKey k = KeyOf(spec, s.substr(kPrefix.size(), kIdHex), now);
  {
    std::lock_guard w(write_mu_);
    if (std::shared_lock l(mu_); entries_.count(k.id)) return Status::AlreadyExists("key id collision; try again");
    HS_RETURN_IF_ERROR(Store(k, base::Sha256(s), /*sync=*/true));
  }
  *key = k;
  *secret = std::move(s);
  return Status::Ok();
}

std::string ApiKeys::NewSecret() {
  uint8_t id_bytes[kIdHex / 2], secret_bytes[kSecretHex / 2];
  base::RandomBytes(id_bytes);
  base::RandomBytes(secret_bytes);
  std::string s = std::string(kPrefix) + base::HexEncode(id_bytes) + "_" + base::HexEncode(secret_bytes);
  OPENSSL_cleanse(secret_bytes, sizeof secret_bytes);  // no copy of the secret outlives the call
  return s;
}

Status ApiKeys::CheckSecretStrength(std::string_view secret) {
  auto lower_hex = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  };
  if (secret.size() != kPrefix.size() + kIdHex + 1 + kSecretHex || !secret.starts_with(kPrefix) ||
      secret[kPrefix.size() + kIdHex] != '_' || !lower_hex(secret.substr(kPrefix.size(), kIdHex)) ||
      !lower_hex(secret.substr(kPrefix.size() + kIdHex + 1))) {
    return Status::InvalidArgument("the secret must have the form hsk_<16 lowercase hex id>_<64 lowercase hex> "
                                   "(`hashscreend keys secret` makes one)");
  }
  const std::string_view tail = secret.substr(kPrefix.size() + kIdHex + 1);
  auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  int counts[16] = {};
  int steps = 0;
  for (size_t i = 0; i < tail.size(); ++i) {
    ++counts[digit(tail[i])];
    if (i > 0) {
      const int d = (digit(tail[i]) - digit(tail[i - 1]) + 16) % 16;
      if (d == 1 || d == 15) ++steps;
    }
  }
  const int distinct = static_cast<int>(std::count_if(std::begin(counts), std::end(counts), [](int n) { return n > 0; }));
  const int most = *std::max_element(std::begin(counts), std::end(counts));
  bool periodic = false;
  for (size_t p = 1; p <= 16 && !periodic; ++p) {
    periodic = true;
    for (size_t i = 0; i + p < tail.size() && periodic; ++i) periodic = tail[i] == tail[i + p];
  }
  if (distinct < 12 || most > 16 || periodic || steps > 24) {
    return Status::InvalidArgument("the secret's 64 hex digits do not look random (too few distinct digits, a "
                                   "repeated pattern or counting); make one with `hashscreend keys secret` or "
                                   "`openssl rand -hex 32`");
  }
  return Status::Ok();
}

Status ApiKeys::CreateWithSecret(const KeySpec& spec, std::string_view secret, ApiKey* key, bool* created) {
  const int64_t now = base::NowMs();
  HS_RETURN_IF_ERROR(ValidateSpec(spec, now));
  HS_RETURN_IF_ERROR(CheckSecretStrength(secret));
  const ApiKey k = KeyOf(spec, std::string(secret.substr(kPrefix.size(), kIdHex)), now);
  const std::array<uint8_t, 32> digest = base::Sha256(secret);
  std::lock_guard w(write_mu_);
  {
    std::shared_lock l(mu_);
    if (auto it = entries_.find(k.id); it != entries_.end()) {
      const Entry& e = *it->second;
      if (!base::ConstantTimeEquals(base::AsBytes(e.digest), base::AsBytes(digest))) {
        return Status::AlreadyExists("key id " + k.id + " already exists here with another secret");
      }
      if (e.key.revoked()) return Status::AlreadyExists("key " + k.id + " was revoked here; make a new secret");
      *key = e.key;
      *created = false;
      return Status::Ok();
    }
  }
  HS_RETURN_IF_ERROR(Store(k, digest, /*sync=*/true));
  *key = k;
  *created = true;
  return Status::Ok();
}

Status ApiKeys::Create(Role role, const std::string& partner, ApiKey* key, std::string* secret) {
  KeySpec spec;
  spec.role = role;
  spec.partner = partner;
  return Create(spec, key, secret);
}

Status ApiKeys::Authenticate(std::string_view secret, ApiKey* out) const {
  const Status unknown = Status::NotFound("unknown or revoked API key");
  if (secret.size() != kPrefix.size() + kIdHex + 1 + kSecretHex || !secret.starts_with(kPrefix) ||
      secret[kPrefix.size() + kIdHex] != '_') {
    return unknown;
  }
  const std::string_view id = secret.substr(kPrefix.size(), kIdHex);
  if (!base::IsHex(id)) return unknown;
  const std::array<uint8_t, 32> presented = base::Sha256(secret);
  std::shared_lock l(mu_);
  auto it = entries_.find(std::string(id));
  if (it == entries_.end()) return unknown;
  if (!base::ConstantTimeEquals(base::AsBytes(it->second->digest), base::AsBytes(presented))) return unknown;
  return ActiveUse(*it->second, out) ? Status::Ok() : unknown;
}

Status ApiKeys::AuthenticateId(const std::string& id, ApiKey* out) const {
  std::shared_lock l(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || !ActiveUse(*it->second, out)) return Status::NotFound("unknown or revoked API key");
  return Status::Ok();
}

bool ApiKeys::ActiveUse(const Entry& e, ApiKey* out) const {
  const int64_t now = base::NowMs();
  if (e.key.revoked() || e.key.expired(now)) return false;
  // Relaxed and racy on purpose: any recent use time is a correct answer.
  if (now > e.last_used.load(std::memory_order_relaxed)) {
    e.last_used.store(now, std::memory_order_relaxed);
  }
  *out = e.key;
  out->last_used_ms = now;
  return true;
}

Status ApiKeys::Get(const std::string& id, ApiKey* out) const {
  std::shared_lock l(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return Status::NotFound("no key " + id);
  *out = it->second->key;
  out->last_used_ms = std::max(out->last_used_ms, it->second->last_used.load(std::memory_order_relaxed));
  return Status::Ok();
}

Status ApiKeys::List(std::vector<ApiKey>* out) const {
  out->clear();
  {
    std::shared_lock l(mu_);
    for (const auto& [id, e] : entries_) {
      out->push_back(e->key);
      out->back().last_used_ms = std::max(e->key.last_used_ms, e->last_used.load(std::memory_order_relaxed));
    }
  }
  std::sort(out->begin(), out->end(), [](const ApiKey& a, const ApiKey& b) { return a.id < b.id; });
  return Status::Ok();
}

Status ApiKeys::Current(const std::string& id, ApiKey* key, std::array<uint8_t, 32>* digest) const {
  std::shared_lock l(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return Status::NotFound("no key " + id);
  *key = it->second->key;
  *digest = it->second->digest;
  return Status::Ok();
}

Status ApiKeys::Revoke(const std::string& id, ApiKey* out) {
  std::lock_guard w(write_mu_);
  ApiKey k;
  std::array<uint8_t, 32> digest{};
  HS_RETURN_IF_ERROR(Current(id, &k, &digest));
  if (!k.revoked()) {
    k.revoked_ms = base::NowMs();
    HS_RETURN_IF_ERROR(Store(k, digest, /*sync=*/true));
  }
  if (out) *out = k;
  return Status::Ok();
}

Status ApiKeys::SetBlocked(const std::string& id, int64_t blocked_ms) {
  std::lock_guard w(write_mu_);
  ApiKey k;
  std::array<uint8_t, 32> digest{};
  HS_RETURN_IF_ERROR(Current(id, &k, &digest));
  if (k.blocked_ms == blocked_ms) return Status::Ok();
  k.blocked_ms = blocked_ms;
  return Store(k, digest, /*sync=*/true);
}

Status ApiKeys::FlushLastUsed() {
  std::lock_guard w(write_mu_);
  std::vector<std::pair<ApiKey, std::array<uint8_t, 32>>> changed;
  {
    std::shared_lock l(mu_);
    for (const auto& [id, e] : entries_) {
      const int64_t used = e->last_used.load(std::memory_order_relaxed);
      if (used <= e->key.last_used_ms) continue;
      changed.emplace_back(e->key, e->digest);
      changed.back().first.last_used_ms = used;
    }
  }
  if (changed.empty()) return Status::Ok();
  rocksdb::WriteBatch batch;
  for (const auto& [k, digest] : changed) batch.Put(db_->family(Database::kKeys), k.id, Encode(k, digest));
  // Not synced: the WAL survives a process crash, and a last-use time lost to
  // a power failure costs nothing but precision.
  HS_RETURN_IF_ERROR(db_->Write(&batch, /*sync=*/false));
  std::unique_lock l(mu_);
  for (const auto& [k, digest] : changed) {
    auto it = entries_.find(k.id);
    if (it != entries_.end()) it->second->key.last_used_ms = std::max(it->second->key.last_used_ms, k.last_used_ms);
  }
  return Status::Ok();
}

}  // namespace store
