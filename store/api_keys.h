// ApiKeys: the API keys of one instance, in the `keys` column family, with
// an in-memory copy that answers every authentication.
//
// A key has an id (16 hex chars, public: it appears in logs and audit
// entries), a role, an optional partner name, a label, an optional expiry,
// permissions, and a secret shown once at creation. Only SHA-256(secret) is
// stored; a presented secret is hashed and compared in constant time. The
// secret has the form `hsk_<id>_<64 hex>` so the record is found without
// scanning; the id part is not secret.
//
// The in-memory copy is loaded at Open and written through by every change
// (Create, Revoke, SetBlocked) before the change returns. Only this process
// can write the database (RocksDB's lock), so the copy is never stale: a
// revocation is in effect for the next request.
//
// Last use is kept in memory (exact, milliseconds) and written to the record
// by FlushLastUsed, which a background thread runs every
// Options::flush_interval_ms and the destructor runs once more. A crash
// loses at most one interval of last-use times, nothing else.
//
// Thread-safety: all methods may be called concurrently; Authenticate never
// waits for a writer's disk write. The Database must outlive the ApiKeys.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/database.h"

namespace store {

enum class Role : uint8_t { kIngest = 1, kReviewer = 2, kPartner = 3, kReplica = 4, kAdmin = 5 };

std::string_view RoleName(Role r);
// Parses "ingest", "reviewer", "partner", "replica", "admin".
Status ParseRole(std::string_view name, Role* out);

// The owner name of lists the operator creates (admin keys). A partner name
// is 1-64 letters, digits, '-', '_' or '.', so no partner key (and no list a
// partner key creates) can ever carry it.
inline constexpr std::string_view kOperatorOwner = "@operator";
// InvalidArgument unless `name` is a valid partner name.
Status ValidatePartnerName(std::string_view name);

// The range of a key's own request rate (requests per second), and of the
// server's default (server/config.cc).
inline constexpr double kMinKeyRate = 0.001, kMaxKeyRate = 1e6;

// What a new key may do; validated by Create.
struct KeySpec {
  Role role = Role::kIngest;
  std::string partner;          // required for kPartner
  std::string label;            // free text for people, <= 256 bytes, no control characters
  int64_t expires_ms = 0;       // Unix ms after which the key is unknown; 0 = never
  bool hash_queries = false;    // may call POST /v1/screen/hashes (ingest keys only)
  bool probing_exempt = false;  // not watched by the probing detector (ingest keys only)
  double rate_per_s = 0;        // own request rate; 0 = the server's limits.rate_per_key
};

struct ApiKey {
  std::string id;
  Role role = Role::kIngest;
  std::string partner;
  std::string label;
  int64_t created_ms = 0;
  int64_t revoked_ms = 0;    // 0 = active
  int64_t expires_ms = 0;    // 0 = never
  int64_t last_used_ms = 0;  // 0 = never used
  int64_t blocked_ms = 0;    // when the probing detector blocked it; 0 = not blocked
  bool hash_queries = false;
  bool probing_exempt = false;
  double rate_per_s = 0;
  bool revoked() const { return revoked_ms != 0; }
  bool expired(int64_t now_ms) const { return expires_ms != 0 && now_ms >= expires_ms; }
};

class ApiKeys {
 public:
  struct Options {
    // Period of the background write of last-use times; 0 = no thread (the
    // offline commands), FlushLastUsed and the destructor still write them.
    int64_t flush_interval_ms = 0;
  };

  // Loads every key record of `db` (old records of the first format too).
  static Status Open(Database* db, const Options& options, std::unique_ptr<ApiKeys>* out);
  static Status Open(Database* db, std::unique_ptr<ApiKeys>* out) { return Open(db, Options(), out); }
  ApiKeys(const ApiKeys&) = delete;
  ApiKeys& operator=(const ApiKeys&) = delete;
  // Stops the flusher and writes the last-use times once more (errors are
  // dropped here; call FlushLastUsed first to see them).
  ~ApiKeys();

  // Creates a key; `secret` receives the only copy of the secret.
  // InvalidArgument for a partner key without a valid partner name, a label
  // over 256 bytes or with control characters, an expiry not in the future,
  // permissions on a role they do not apply to, or a rate outside
  // (0, 1e6] per second.
  Status Create(const KeySpec& spec, ApiKey* key, std::string* secret);
  Status Create(Role role, const std::string& partner, ApiKey* key, std::string* secret);
  // Creates a key with a secret the operator chose: the way one key is
  // accepted by several instances (a primary and its followers behind a load
  // balancer each hold their own keys), the same secret provisioned on each
  // (docs/deploy.md). The secret must have the generated form
  // (`hsk_<16 hex id>_<64 hex>`, lowercase; NewSecret makes one) and pass
  // CheckSecretStrength. Repeatable: if this database already holds the id
  // with the same secret and it is active, nothing changes and *created is
  // false (an init container may run it at every start). AlreadyExists if the
  // id is held with another secret or is revoked; InvalidArgument as Create,
  // or for a malformed or weak secret (the message never contains it).
  Status CreateWithSecret(const KeySpec& spec, std::string_view secret, ApiKey* key, bool* created);
  // A fresh secret of the generated form, stored nowhere.
  static std::string NewSecret();
  // Ok if `secret` has the generated form and its 64-hex tail looks random:
  // at least 12 distinct digits, none more than 16 times, no period of 1..16
  // digits, at most 24 steps of +1 or -1 (mod 16) between neighbours. A
  // uniformly random tail fails with probability below 1e-6; a typed or patterned one
  // (repeated words, counting, a short string repeated) fails. It cannot
  // prove entropy: generate secrets with NewSecret (`hashscreend keys secret`)
  // or `openssl rand -hex 32`.
  static Status CheckSecretStrength(std::string_view secret);

  // The active key whose secret is `secret`, and notes its use. NotFound for
  // a malformed, unknown, wrong, revoked or expired secret: the caller cannot
  // tell these apart. Reads memory only.
  Status Authenticate(std::string_view secret, ApiKey* out) const;
  // The same for a caller that proved the secret earlier (a console session
  // signed in with it): the active key `id`, its use noted. NotFound for an
  // unknown, revoked or expired key.
  Status AuthenticateId(const std::string& id, ApiKey* out) const;

  Status Get(const std::string& id, ApiKey* out) const;
  // Every key, ordered by id.
  Status List(std::vector<ApiKey>* out) const;
  // Marks a key revoked (idempotent). NotFound for an unknown id. *out (if
  // given) receives the key as stored.
  Status Revoke(const std::string& id, ApiKey* out = nullptr);
  // Records that the probing detector blocked the key at `blocked_ms`, or
  // clears that with 0. NotFound for an unknown id.
  Status SetBlocked(const std::string& id, int64_t blocked_ms);

  // Writes the in-memory last-use times that are newer than the stored ones.
  Status FlushLastUsed();

 private:
  struct Entry;
  explicit ApiKeys(Database* db);
  // For Authenticate*: false for a revoked or expired key; else notes its
  // use and copies it to *out. Caller holds mu_ (shared is enough).
  bool ActiveUse(const Entry& e, ApiKey* out) const;
  Status Load();
  // Writes `key` (with `digest`) durably, then publishes it in memory.
  // Caller holds write_mu_.
  Status Store(const ApiKey& key, const std::array<uint8_t, 32>& digest, bool sync);
  // The current record of key `id` and its secret's digest (NotFound when
  // unknown). Caller holds write_mu_, so the copy stays current until Store.
  Status Current(const std::string& id, ApiKey* key, std::array<uint8_t, 32>* digest) const;
  void FlusherLoop(int64_t interval_ms);

  Database* const db_;
  // Serialises writers (the read-modify-write of a record).
  std::mutex write_mu_;
  // Guards the map; Authenticate holds it shared.
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;

  std::mutex flusher_mu_;
  std::condition_variable flusher_cv_;
  bool stop_ = false;
  std::thread flusher_;
};

}  // namespace store
