#include <doctest/doctest.h>

#include "store/api_keys.h"
#include "tests/test_support.h"

using store::ApiKey;
using store::ApiKeys;
using store::Database;
using store::Role;
using Code = base::Status::Code;

TEST_CASE("a created key authenticates by its secret, and only by it") {
  testing_support::TempDir dir;
  std::unique_ptr<Database> db;
  REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
  ApiKeys keys(db.get());
  ApiKey k;
  std::string secret;
  REQUIRE(keys.Create(Role::kPartner, "acme", &k, &secret).ok());
  std::string expected_prefix = "hsk_";
  expected_prefix += k.id;
  expected_prefix += '_';
  CHECK(secret.rfind(expected_prefix, 0) == 0);
  ApiKey got;
  REQUIRE(keys.Authenticate(secret, &got).ok());
  CHECK(got.id == k.id);
  CHECK(got.role == Role::kPartner);
  CHECK(got.partner == "acme");

  std::string wrong = secret;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  CHECK(keys.Authenticate(wrong, &got).code() == Code::kNotFound);
  CHECK(keys.Authenticate("", &got).code() == Code::kNotFound);
  CHECK(keys.Authenticate("hsk_", &got).code() == Code::kNotFound);
  CHECK(keys.Authenticate(secret.substr(0, secret.size() - 1), &got).code() == Code::kNotFound);
  std::string other_id = secret;
  other_id[4] = other_id[4] == 'a' ? 'b' : 'a';
  CHECK(keys.Authenticate(other_id, &got).code() == Code::kNotFound);

  // Nothing on disk holds the secret itself.
  std::string stored;
  REQUIRE(db->Get(Database::kKeys, k.id, &stored).ok());
  CHECK(stored.find(secret.substr(22)) == std::string::npos);
}

TEST_CASE("a revoked key no longer authenticates, revoke is idempotent") {
  testing_support::TempDir dir;
  std::unique_ptr<Database> db;
  REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
  ApiKeys keys(db.get());
  ApiKey k;
  std::string secret;
  REQUIRE(keys.Create(Role::kIngest, "", &k, &secret).ok());
  REQUIRE(keys.Revoke(k.id).ok());
  REQUIRE(keys.Revoke(k.id).ok());
  ApiKey got;
  CHECK(keys.Authenticate(secret, &got).code() == Code::kNotFound);
  CHECK(keys.Revoke("0000000000000000").code() == Code::kNotFound);
  std::vector<ApiKey> all;
  REQUIRE(keys.List(&all).ok());
  REQUIRE(all.size() == 1);
  CHECK(all[0].revoked());
}

TEST_CASE("roles parse by name, partner keys need a valid partner") {
  Role r;
  CHECK(store::ParseRole("reviewer", &r).ok());
  CHECK(r == Role::kReviewer);
  CHECK(store::ParseRole("root", &r).code() == Code::kInvalidArgument);
  testing_support::TempDir dir;
  std::unique_ptr<Database> db;
  REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
  ApiKeys keys(db.get());
  ApiKey k;
  std::string secret;
  CHECK(keys.Create(Role::kPartner, "", &k, &secret).code() == Code::kInvalidArgument);
  CHECK(keys.Create(Role::kPartner, "bad name", &k, &secret).code() == Code::kInvalidArgument);
  CHECK(keys.Create(Role::kAdmin, "", &k, &secret).ok());
}
