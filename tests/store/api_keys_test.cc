#include <doctest/doctest.h>

#include <atomic>
#include <cctype>
#include <cmath>
#include <limits>
#include <thread>

#include "base/clock.h"
#include "base/coding.h"
#include "base/crypto.h"
#include "store/api_keys.h"
#include "tests/test_support.h"

using store::ApiKey;
using store::ApiKeys;
using store::Database;
using store::KeySpec;
using store::Role;
using Code = base::Status::Code;

namespace {

struct Keys {
  testing_support::TempDir dir;
  std::unique_ptr<Database> db;
  std::unique_ptr<ApiKeys> keys;
  Keys() {
    REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
    Reopen();
  }
  void Reopen() {
    keys.reset();
    REQUIRE(ApiKeys::Open(db.get(), &keys).ok());
  }
};

}  // namespace

TEST_CASE("a created key authenticates by its secret, and only by it") {
  Keys t;
  ApiKey k;
  std::string secret;
  REQUIRE(t.keys->Create(Role::kPartner, "acme", &k, &secret).ok());
  std::string expected_prefix = "hsk_";
  expected_prefix += k.id;
  expected_prefix += '_';
  CHECK(secret.rfind(expected_prefix, 0) == 0);
  ApiKey got;
  REQUIRE(t.keys->Authenticate(secret, &got).ok());
  CHECK(got.id == k.id);
  CHECK(got.role == Role::kPartner);
  CHECK(got.partner == "acme");

  std::string wrong = secret;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  CHECK(t.keys->Authenticate(wrong, &got).code() == Code::kNotFound);
  CHECK(t.keys->Authenticate("", &got).code() == Code::kNotFound);
  CHECK(t.keys->Authenticate("hsk_", &got).code() == Code::kNotFound);
  CHECK(t.keys->Authenticate(secret.substr(0, secret.size() - 1), &got).code() == Code::kNotFound);
  std::string other_id = secret;
  other_id[4] = other_id[4] == 'a' ? 'b' : 'a';
  CHECK(t.keys->Authenticate(other_id, &got).code() == Code::kNotFound);

  // Nothing on disk holds the secret itself.
  std::string stored;
  REQUIRE(t.db->Get(Database::kKeys, k.id, &stored).ok());
  CHECK(stored.find(secret.substr(22)) == std::string::npos);
  // And a reopened store (the records, not the memory copy) knows the key.
  t.Reopen();
  REQUIRE(t.keys->Authenticate(secret, &got).ok());
  CHECK(got.partner == "acme");
}

TEST_CASE("a revoked key no longer authenticates, at once and after a reopen, revoke is idempotent") {
  Keys t;
  ApiKey k;
  std::string secret;
  REQUIRE(t.keys->Create(Role::kIngest, "", &k, &secret).ok());
  ApiKey got;
  REQUIRE(t.keys->Authenticate(secret, &got).ok());
  REQUIRE(t.keys->Revoke(k.id).ok());
  CHECK(t.keys->Authenticate(secret, &got).code() == Code::kNotFound);
  REQUIRE(t.keys->Revoke(k.id).ok());
  CHECK(t.keys->Revoke("0000000000000000").code() == Code::kNotFound);
  std::vector<ApiKey> all;
  REQUIRE(t.keys->List(&all).ok());
  REQUIRE(all.size() == 1);
  CHECK(all[0].revoked());
  t.Reopen();
  CHECK(t.keys->Authenticate(secret, &got).code() == Code::kNotFound);
}

TEST_CASE("a revocation holds for every authentication that starts after it, under concurrent use") {
  Keys t;
  ApiKey k;
  std::string secret;
  REQUIRE(t.keys->Create(Role::kIngest, "", &k, &secret).ok());
  std::atomic<bool> revoked{false}, stop{false};
  std::atomic<int> accepted_after{0}, calls{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      while (!stop) {
        const bool after = revoked.load();
        ApiKey got;
        if (t.keys->Authenticate(secret, &got).ok() && after) ++accepted_after;
        ++calls;
      }
    });
  }
  while (calls < 1000) std::this_thread::yield();
  REQUIRE(t.keys->Revoke(k.id).ok());
  revoked = true;
  const int at_revoke = calls;
  while (calls < at_revoke + 1000) std::this_thread::yield();
  stop = true;
  for (auto& th : threads) th.join();
  CHECK(accepted_after == 0);
}

TEST_CASE("records of the first format (before labels, expiry and permissions) still decode and authenticate") {
  Keys t;
  // role(1) created(8) revoked(8) sha256(32) partner: what the first release wrote.
  const std::string id = "0123456789abcdef";
  const std::string secret = "hsk_" + id + "_" + std::string(64, '7');
  std::string v;
  v.push_back(static_cast<char>(Role::kPartner));
  base::PutU64(&v, 1700000000000);
  base::PutU64(&v, 0);
  v += base::AsBytes(base::Sha256(secret));
  v += "acme";
  rocksdb::WriteBatch batch;
  batch.Put(t.db->family(Database::kKeys), id, v);
  REQUIRE(t.db->Write(&batch, true).ok());
  t.Reopen();
  ApiKey got;
  REQUIRE(t.keys->Authenticate(secret, &got).ok());
  CHECK(got.id == id);
  CHECK(got.role == Role::kPartner);
  CHECK(got.partner == "acme");
  CHECK(got.created_ms == 1700000000000);
  CHECK(got.label.empty());
  CHECK(got.expires_ms == 0);
  CHECK_FALSE(got.hash_queries);
  // Its next change rewrites it in the current format, keeping everything.
  REQUIRE(t.keys->SetBlocked(id, 42).ok());
  t.Reopen();
  REQUIRE(t.keys->Get(id, &got).ok());
  CHECK(got.blocked_ms == 42);
  CHECK(got.partner == "acme");
  CHECK(got.created_ms == 1700000000000);
  CHECK(t.keys->Authenticate(secret, &got).ok());

  // A damaged record stops the open, naming it, rather than vanishing.
  rocksdb::WriteBatch bad;
  bad.Put(t.db->family(Database::kKeys), "fedcba9876543210", std::string("\xF2\x01", 2));
  REQUIRE(t.db->Write(&bad, true).ok());
  std::unique_ptr<ApiKeys> reopened;
  base::Status s = ApiKeys::Open(t.db.get(), &reopened);
  CHECK(s.code() == Code::kCorruption);
  CHECK(s.message().find("fedcba9876543210") != std::string::npos);
}

TEST_CASE("a key's label, expiry, permissions and own rate are stored, an expired key is unknown") {
  Keys t;
  KeySpec spec;
  spec.role = Role::kIngest;
  spec.label = "pipeline eu-1";
  spec.expires_ms = base::NowMs() + 86400000;
  spec.hash_queries = true;
  spec.probing_exempt = true;
  spec.rate_per_s = 250.5;
  ApiKey k;
  std::string secret;
  REQUIRE(t.keys->Create(spec, &k, &secret).ok());
  t.Reopen();
  ApiKey got;
  REQUIRE(t.keys->Authenticate(secret, &got).ok());
  CHECK(got.label == "pipeline eu-1");
  CHECK(got.expires_ms == spec.expires_ms);
  CHECK(got.hash_queries);
  CHECK(got.probing_exempt);
  CHECK(got.rate_per_s == 250.5);

  REQUIRE(t.keys->FlushLastUsed().ok());  // so the close below has nothing to rewrite
  // Move the stored expiry into the past (second format: marker, role,
  // flags, created, revoked, then expires at byte 19).
  std::string v;
  REQUIRE(t.db->Get(Database::kKeys, k.id, &v).ok());
  std::string past;
  base::PutU64(&past, static_cast<uint64_t>(base::NowMs() - 1));
  v.replace(19, 8, past);
  rocksdb::WriteBatch batch;
  batch.Put(t.db->family(Database::kKeys), k.id, v);
  REQUIRE(t.db->Write(&batch, true).ok());
  t.Reopen();
  CHECK(t.keys->Authenticate(secret, &got).code() == Code::kNotFound);
  REQUIRE(t.keys->Get(k.id, &got).ok());
  CHECK(got.expired(base::NowMs()));
}

TEST_CASE("last use is noted in memory and written by FlushLastUsed and at close") {
  Keys t;
  ApiKey k;
  std::string secret;
  REQUIRE(t.keys->Create(Role::kReviewer, "", &k, &secret).ok());
  ApiKey got;
  REQUIRE(t.keys->Get(k.id, &got).ok());
  CHECK(got.last_used_ms == 0);
  const int64_t before = base::NowMs();
  REQUIRE(t.keys->Authenticate(secret, &got).ok());
  REQUIRE(t.keys->Get(k.id, &got).ok());
  CHECK(got.last_used_ms >= before);
  const int64_t used = got.last_used_ms;
  // Not on disk yet: authentication writes nothing.
  std::string v;
  REQUIRE(t.db->Get(Database::kKeys, k.id, &v).ok());
  CHECK(base::GetU64(v.data() + 27) == 0);  // last_used at byte 27
  REQUIRE(t.keys->FlushLastUsed().ok());
  REQUIRE(t.db->Get(Database::kKeys, k.id, &v).ok());
  CHECK(static_cast<int64_t>(base::GetU64(v.data() + 27)) == used);
  // Use after the flush is written when the store closes.
  while (base::NowMs() == used) std::this_thread::yield();
  REQUIRE(t.keys->Authenticate(secret, &got).ok());
  t.Reopen();
  REQUIRE(t.keys->Get(k.id, &got).ok());
  CHECK(got.last_used_ms > used);
}

TEST_CASE("a probing block is stored on the key and can be cleared") {
  Keys t;
  ApiKey k;
  std::string secret;
  REQUIRE(t.keys->Create(Role::kIngest, "", &k, &secret).ok());
  REQUIRE(t.keys->SetBlocked(k.id, 1234).ok());
  ApiKey got;
  REQUIRE(t.keys->Authenticate(secret, &got).ok());  // blocking is the server's decision, not authentication's
  CHECK(got.blocked_ms == 1234);
  t.Reopen();
  REQUIRE(t.keys->Get(k.id, &got).ok());
  CHECK(got.blocked_ms == 1234);
  REQUIRE(t.keys->SetBlocked(k.id, 0).ok());
  REQUIRE(t.keys->Authenticate(secret, &got).ok());
  CHECK(got.blocked_ms == 0);
  CHECK(t.keys->SetBlocked("0000000000000000", 1).code() == Code::kNotFound);
}

TEST_CASE("roles parse by name, key specs are validated, naming the problem") {
  Role r;
  CHECK(store::ParseRole("reviewer", &r).ok());
  CHECK(r == Role::kReviewer);
  CHECK(store::ParseRole("root", &r).code() == Code::kInvalidArgument);
  Keys t;
  ApiKey k;
  std::string secret;
  CHECK(t.keys->Create(Role::kPartner, "", &k, &secret).code() == Code::kInvalidArgument);
  CHECK(t.keys->Create(Role::kPartner, "bad name", &k, &secret).code() == Code::kInvalidArgument);
  // The operator's owner name is no partner name: no partner key can claim it.
  CHECK(t.keys->Create(Role::kPartner, std::string(store::kOperatorOwner), &k, &secret).code() == Code::kInvalidArgument);
  CHECK(!store::ValidatePartnerName(store::kOperatorOwner).ok());
  CHECK(t.keys->Create(Role::kAdmin, "", &k, &secret).ok());
  // A partner name on another role is refused (offline CLI and API alike), naming the field.
  for (Role role : {Role::kAdmin, Role::kIngest, Role::kReviewer, Role::kReplica}) {
    auto s = t.keys->Create(role, "acme", &k, &secret);
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK(s.message().find("partner") != std::string::npos);
  }

  auto refused = [&](KeySpec spec, const char* needle) {
    base::Status s = t.keys->Create(spec, &k, &secret);
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK_MESSAGE(s.message().find(needle) != std::string::npos, s.message());
  };
  KeySpec spec;
  spec.label = std::string(257, 'x');
  refused(spec, "label");
  spec.label = "tab\there";
  refused(spec, "control");
  spec = KeySpec();
  spec.expires_ms = base::NowMs() - 1;
  refused(spec, "expiry");
  spec.expires_ms = -5;
  refused(spec, "expiry");
  spec = KeySpec();
  spec.role = Role::kReviewer;
  spec.hash_queries = true;
  refused(spec, "ingest keys only");
  spec.hash_queries = false;
  spec.probing_exempt = true;
  refused(spec, "ingest keys only");
  for (double rate : {1e-300, 0.0001, -1.0, 2e6, std::numeric_limits<double>::infinity(),
                      std::numeric_limits<double>::quiet_NaN()}) {
    CAPTURE(rate);
    spec = KeySpec();
    spec.rate_per_s = rate;
    refused(spec, "rate");
  }
  std::vector<ApiKey> all;
  REQUIRE(t.keys->List(&all).ok());
  CHECK(all.size() == 1);  // only the admin key
}

TEST_CASE("a secret chosen by the operator: the same key on two databases, repeatable, checked for strength") {
  const std::string secret = ApiKeys::NewSecret();
  REQUIRE(ApiKeys::CheckSecretStrength(secret).ok());
  Keys a, b;
  KeySpec spec;
  spec.role = Role::kIngest;
  spec.hash_queries = true;
  ApiKey ka, kb, got;
  bool created = false;
  REQUIRE(a.keys->CreateWithSecret(spec, secret, &ka, &created).ok());
  CHECK(created);
  REQUIRE(b.keys->CreateWithSecret(spec, secret, &kb, &created).ok());
  CHECK(created);
  CHECK(ka.id == kb.id);
  CHECK(ka.id == secret.substr(4, 16));
  for (Keys* t : {&a, &b}) {
    t->Reopen();
    REQUIRE(t->keys->Authenticate(secret, &got).ok());
    CHECK(got.role == Role::kIngest);
    CHECK(got.hash_queries);
  }
  // Provisioning again (an init container at every start) changes nothing.
  REQUIRE(a.keys->CreateWithSecret(spec, secret, &got, &created).ok());
  CHECK_FALSE(created);
  CHECK(got.created_ms == ka.created_ms);
  // The same id with another secret, or a revoked key, is refused.
  std::string other = ApiKeys::NewSecret();
  other.replace(4, 16, secret.substr(4, 16));
  REQUIRE(ApiKeys::CheckSecretStrength(other).ok());
  CHECK(a.keys->CreateWithSecret(spec, other, &got, &created).code() == Code::kAlreadyExists);
  CHECK(a.keys->Authenticate(other, &got).code() == Code::kNotFound);
  REQUIRE(b.keys->Revoke(kb.id).ok());
  CHECK(b.keys->CreateWithSecret(spec, secret, &got, &created).code() == Code::kAlreadyExists);
  CHECK(b.keys->Authenticate(secret, &got).code() == Code::kNotFound);
  // The spec is validated as for Create.
  KeySpec partner;
  partner.role = Role::kPartner;
  CHECK(a.keys->CreateWithSecret(partner, ApiKeys::NewSecret(), &got, &created).code() == Code::kInvalidArgument);
}

TEST_CASE("secret strength: generated secrets pass, malformed and patterned ones are refused without echoing them") {
  for (int i = 0; i < 2000; ++i) {
    const std::string s = ApiKeys::NewSecret();
    REQUIRE_MESSAGE(ApiKeys::CheckSecretStrength(s).ok(), s);
  }
  const std::string id = "0123456789abcdef";
  auto with_tail = [&](const std::string& tail) { return "hsk_" + id + "_" + tail; };
  std::string counting, words, few;
  for (int i = 0; i < 4; ++i) counting += "0123456789abcdef";
  for (int i = 0; i < 8; ++i) words += "deadbeef";
  for (int i = 0; i < 64; ++i) few.push_back("01234567"[(i * 5 + i / 3) % 8]);
  std::string shifted = ApiKeys::NewSecret().substr(21);  // a random tail...
  shifted = shifted.substr(0, 13) + shifted.substr(0, 13) + shifted.substr(0, 13) + shifted.substr(0, 13) +
            shifted.substr(0, 12);  // ...repeated with period 13
  const std::string good = ApiKeys::NewSecret();
  std::string upper = good;
  for (size_t i = 21; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  for (const std::string& bad :
       {with_tail(std::string(64, '0')), with_tail(counting), with_tail(words), with_tail(few), with_tail(shifted),
        upper, good.substr(1), good + "0", "hsk-" + good.substr(4), good.substr(0, 20) + "-" + good.substr(21),
        "hsk_0123456789abcdeg_" + good.substr(21), std::string("correct horse battery staple"), std::string()}) {
    CAPTURE(bad);
    const base::Status s = ApiKeys::CheckSecretStrength(bad);
    CHECK(s.code() == Code::kInvalidArgument);
    if (bad.size() > 21) CHECK(s.message().find(bad.substr(21)) == std::string::npos);
  }
}
