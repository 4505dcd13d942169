// ApiKeys: the API keys of one instance, in the `keys` column family.
//
// A key has an id (16 hex chars, public: it appears in logs and audit
// entries), a role, an optional partner name, and a secret shown once at
// creation. Only SHA-256(secret) is stored; a presented secret is hashed and
// compared in constant time (CRYPTO_memcmp). The secret has the form
// `hsk_<id>_<64 hex>` so the record is found without scanning; the id part
// is not secret.
//
// Thread-safety: all methods may be called concurrently. The Database must
// outlive the ApiKeys.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.h"

namespace store {

enum class Role : uint8_t { kIngest = 1, kReviewer = 2, kPartner = 3, kReplica = 4, kAdmin = 5 };

std::string_view RoleName(Role r);
// Parses "ingest", "reviewer", "partner", "replica", "admin".
Status ParseRole(std::string_view name, Role* out);

struct ApiKey {
  std::string id;
  Role role = Role::kIngest;
  std::string partner;  // required for kPartner, empty otherwise allowed
  int64_t created_ms = 0;
  int64_t revoked_ms = 0;  // 0 = active
  bool revoked() const { return revoked_ms != 0; }
};

class ApiKeys {
 public:
  explicit ApiKeys(Database* db) : db_(db) {}
  ApiKeys(const ApiKeys&) = delete;
  ApiKeys& operator=(const ApiKeys&) = delete;

  // Creates a key. A partner key needs a partner name (letters, digits, '-',
  // '_', '.', 1..64 chars); `secret` receives the only copy of the secret.
  Status Create(Role role, const std::string& partner, ApiKey* key, std::string* secret);

  // The active key whose secret is `secret`. NotFound for a malformed,
  // unknown, wrong or revoked secret: the caller cannot tell these apart.
  Status Authenticate(std::string_view secret, ApiKey* out) const;

  Status Get(const std::string& id, ApiKey* out) const;
  Status List(std::vector<ApiKey>* out) const;
  // Marks a key revoked (idempotent). NotFound for an unknown id.
  Status Revoke(const std::string& id);

 private:
  Database* const db_;
};

}  // namespace store
