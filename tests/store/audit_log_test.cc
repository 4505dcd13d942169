#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <set>
#include <thread>

#include "base/coding.h"
#include "base/crypto.h"

#include "store/audit_log.h"
#include "tests/test_support.h"

using store::AuditCheckpoint;
using store::AuditEntry;
using store::AuditLog;
using store::AuditVerifyResult;
using store::Database;

namespace {

const std::string kKey = "server-side secret, 32 bytes....";

struct Fixture {
  testing_support::TempDir dir;
  std::unique_ptr<Database> db;
  std::unique_ptr<AuditLog> log;
  void Open(const AuditLog::Options& options = {}) {
    log.reset();
    db.reset();
    REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
    auto s = AuditLog::Open(db.get(), options, &log);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
};

void Put(Fixture& f, Database::Family family, const std::string& key, const std::string& value) {
  rocksdb::WriteBatch batch;
  batch.Put(f.db->family(family), key, value);
  REQUIRE(f.db->Write(&batch, true).ok());
}

void Delete(Fixture& f, Database::Family family, const std::string& key) {
  rocksdb::WriteBatch batch;
  batch.Delete(f.db->family(family), key);
  REQUIRE(f.db->Write(&batch, true).ok());
}

std::string HeadRecord(Fixture& f) {
  std::string v;
  REQUIRE(f.db->Get(Database::kMeta, "audit_head", &v).ok());
  return v;
}

void PutHead(Fixture& f, const std::string& record) { Put(f, Database::kMeta, "audit_head", record); }

// An attacker with disk access but no key: changes entry `from` with
// `mutate` (on its canonical bytes), recomputes its hash and every later
// entry's links and hashes, keeps the old HMACs (it cannot make new ones)
// and points the head (without a MAC) at the new last hash. Stored value:
// canonical, prev(32), hash(32), u8 HMAC length, HMAC.
template <typename Mutate>
void RebuildFrom(Fixture& f, uint64_t from, Mutate mutate) {
  std::array<uint8_t, 32> prev{};
  uint64_t seq = from;
  if (from > 1) {
    std::string v;
    REQUIRE(f.db->Get(Database::kAudit, store::AuditKey(from - 1), &v).ok());
    const size_t mac_len = static_cast<uint8_t>(v[v.size() - 33]) == 32 ? 32 : 0;
    std::memcpy(prev.data(), v.data() + v.size() - 1 - mac_len - 32, 32);
  }
  for (;; ++seq) {
    std::string v;
    if (!f.db->Get(Database::kAudit, store::AuditKey(seq), &v).ok()) break;
    const size_t mac_len = static_cast<uint8_t>(v[v.size() - 33]) == 32 ? 32 : 0;
    const size_t trailer = 32 + 32 + 1 + mac_len;
    std::string canonical = v.substr(0, v.size() - trailer);
    if (seq == from) mutate(&canonical);
    const auto hash = base::Sha256Of({base::AsBytes(prev), canonical});
    std::string rebuilt = canonical;
    rebuilt.append(base::AsBytes(prev));
    rebuilt.append(base::AsBytes(hash));
    rebuilt.append(v.substr(v.size() - 1 - mac_len));
    Put(f, Database::kAudit, store::AuditKey(seq), rebuilt);
    prev = hash;
  }
  PutHead(f, store::AuditKey(seq - 1) + std::string(base::AsBytes(prev)));
}

AuditEntry Screen(const std::string& ref, const std::string& verdict = "no_match") {
  AuditEntry e;
  e.key_id = "0123456789abcdef";
  e.source = "image";
  e.caller_ref = ref;
  e.verdict = verdict;
  e.pdq_hex = std::string(64, 'a');
  e.quality = 100;
  e.pdq_used = true;
  e.format = "jpeg";
  e.width = 640;
  e.height = 480;
  e.size_bytes = 12345;
  if (verdict == "match") {
    store::AuditHit h;
    h.list_id = 7;
    h.list_name = "known";
    h.partner = "acme";
    h.partner_ref = "item-1";
    h.list_kind = "block";
    h.signal = "pdq";
    h.hash_hex = std::string(64, 'b');
    h.distance = 4;
    h.variant = 2;
    e.hits.push_back(h);
  }
  return e;
}

}  // namespace

TEST_CASE("appended entries are numbered, chained, readable and survive a reopen") {
  Fixture f;
  f.Open();
  AuditEntry a = Screen("a"), b = Screen("b", "match");
  REQUIRE(f.log->Append(&a).ok());
  REQUIRE(f.log->Append(&b).ok());
  CHECK(a.seq == 1);
  CHECK(b.seq == 2);
  CHECK(b.prev_hash == a.entry_hash);
  CHECK(a.prev_hash == std::array<uint8_t, 32>{});
  f.Open();
  CHECK(f.log->last_seq() == 2);
  AuditEntry got;
  REQUIRE(f.log->Get(2, &got).ok());
  CHECK(got.caller_ref == "b");
  REQUIRE(got.hits.size() == 1);
  CHECK(got.hits[0].partner_ref == "item-1");
  CHECK(got.hits[0].variant == 2);
  CHECK(got.entry_hash == b.entry_hash);
  CHECK(f.log->Get(3, &got).code() == base::Status::Code::kNotFound);
  auto v = f.log->Verify();
  CHECK(v.ok);
  CHECK(v.entries == 2);
  CHECK(v.head == b.entry_hash);
}

TEST_CASE("altering one byte of a stored entry breaks verification at that entry") {
  Fixture f;
  f.Open();
  for (int i = 0; i < 5; ++i) {
    AuditEntry e = Screen("item-" + std::to_string(i));
    REQUIRE(f.log->Append(&e).ok());
  }
  REQUIRE(f.log->Verify().ok);
  std::string v;
  REQUIRE(f.db->Get(Database::kAudit, store::AuditKey(3), &v).ok());
  auto pos = v.find("item-2");
  REQUIRE(pos != std::string::npos);
  v[pos + 5] = '9';  // item-2 -> item-9: same length, still parses
  rocksdb::WriteBatch batch;
  batch.Put(f.db->family(Database::kAudit), store::AuditKey(3), v);
  REQUIRE(f.db->Write(&batch, true).ok());
  auto r = f.log->Verify();
  CHECK_FALSE(r.ok);
  CHECK(r.first_bad_seq == 3);
  CHECK(r.problem.find("altered") != std::string::npos);
}

TEST_CASE("a deleted entry or a removed tail is detected") {
  Fixture f;
  f.Open();
  for (int i = 0; i < 4; ++i) {
    AuditEntry e = Screen("x");
    REQUIRE(f.log->Append(&e).ok());
  }
  SUBCASE("middle") {
    rocksdb::WriteBatch batch;
    batch.Delete(f.db->family(Database::kAudit), store::AuditKey(2));
    REQUIRE(f.db->Write(&batch, true).ok());
    auto r = f.log->Verify();
    CHECK_FALSE(r.ok);
    CHECK(r.first_bad_seq == 2);
  }
  SUBCASE("tail") {
    rocksdb::WriteBatch batch;
    batch.Delete(f.db->family(Database::kAudit), store::AuditKey(4));
    REQUIRE(f.db->Write(&batch, true).ok());
    auto r = f.log->Verify();
    CHECK_FALSE(r.ok);
    CHECK(r.problem.find("head") != std::string::npos);
    // And the next start refuses to extend a chain whose head is gone.
    f.log.reset();
    std::unique_ptr<AuditLog> reopened;
    CHECK(AuditLog::Open(f.db.get(), {}, &reopened).code() == base::Status::Code::kCorruption);
  }
}

TEST_CASE("with an HMAC key, a chain rebuilt without the key fails verification, and another key is refused") {
  Fixture f;
  AuditLog::Options keyed;
  keyed.hmac_key = kKey;
  f.Open(keyed);
  for (int i = 0; i < 4; ++i) {
    AuditEntry e = Screen("item-" + std::to_string(i));
    REQUIRE(f.log->Append(&e).ok());
    CHECK(e.hmac.size() == 32);
  }
  CHECK(f.log->Verify().ok);
  // Entry 2 rewritten and every hash after it recomputed, the head too: a
  // consistent chain, but the attacker has no key for the HMACs.
  // (The server is running with its key while the disk is edited.)
  RebuildFrom(f, 2, [](std::string* canonical) {
    auto pos = canonical->find("item-1");
    REQUIRE(pos != std::string::npos);
    (*canonical)[pos + 5] = '9';
  });
  auto r = f.log->Verify();
  CHECK_FALSE(r.ok);
  CHECK(r.outcome == AuditVerifyResult::Outcome::kFailed);
  CHECK(r.first_bad_seq == 2);
  CHECK(r.problem.find("HMAC") != std::string::npos);
  // Restarted with the key, it refuses to extend the rebuilt chain.
  f.log.reset();
  std::unique_ptr<AuditLog> reopened;
  CHECK(AuditLog::Open(f.db.get(), keyed, &reopened).code() == base::Status::Code::kCorruption);
  // Without the key, the chain holds but verify does not say ok.
  REQUIRE(AuditLog::Open(f.db.get(), {}, &reopened).ok());
  CHECK(reopened->Verify().outcome == AuditVerifyResult::Outcome::kHmacUnchecked);

  // A server configured with another key does not extend the chain.
  Fixture g;
  g.Open(keyed);
  AuditEntry e = Screen("a");
  REQUIRE(g.log->Append(&e).ok());
  g.log.reset();
  AuditLog::Options other;
  other.hmac_key = "attacker's guess, 32 bytes long!";
  auto s = AuditLog::Open(g.db.get(), other, &reopened);
  CHECK(s.code() == base::Status::Code::kCorruption);
  CHECK(s.message().find("wrong key") != std::string::npos);
}

TEST_CASE("deleting the newest entries and rewriting the head is detected with the key, and not ok without it") {
  Fixture f;
  AuditLog::Options keyed;
  keyed.hmac_key = kKey;
  f.Open(keyed);
  std::string head_at_7;
  for (int i = 1; i <= 10; ++i) {
    AuditEntry e = Screen("item-" + std::to_string(i));
    REQUIRE(f.log->Append(&e).ok());
    if (i == 7) head_at_7 = HeadRecord(f);
  }
  const AuditCheckpoint at_10 = f.log->Checkpoint();
  REQUIRE(f.log->Verify().ok);
  CHECK(f.log->Verify().head_authenticated);
  // The server keeps running with its key while the disk is edited.
  std::unique_ptr<AuditLog> running = std::move(f.log);
  for (uint64_t seq = 8; seq <= 10; ++seq) Delete(f, Database::kAudit, store::AuditKey(seq));
  std::string value7;
  REQUIRE(f.db->Get(Database::kAudit, store::AuditKey(7), &value7).ok());
  const std::string hash7 = value7.substr(value7.size() - 33 - 32, 32);
  std::string head40 = store::AuditKey(7) + hash7;

  SUBCASE("head rewritten without a MAC") {
    PutHead(f, head40);
    auto r = running->Verify();
    CHECK_FALSE(r.ok);
    CHECK(r.outcome == AuditVerifyResult::Outcome::kFailed);
    CHECK(r.first_bad_seq == 8);
    CHECK(r.problem.find("no MAC") != std::string::npos);
    std::unique_ptr<AuditLog> log;
    auto s = AuditLog::Open(f.db.get(), keyed, &log);
    CHECK(s.code() == base::Status::Code::kCorruption);
    CHECK(s.message().find("has no MAC") != std::string::npos);
    REQUIRE(AuditLog::Open(f.db.get(), {}, &log).ok());  // no key: opens, but does not say ok
    r = log->Verify();
    CHECK_FALSE(r.ok);
    CHECK(r.outcome == AuditVerifyResult::Outcome::kHmacUnchecked);
  }
  SUBCASE("head rewritten with a made-up MAC") {
    PutHead(f, head40 + std::string(32, 'm'));
    auto r = running->Verify();
    CHECK(r.outcome == AuditVerifyResult::Outcome::kFailed);
    CHECK(r.first_bad_seq == 8);
    CHECK(r.problem.find("MAC is wrong") != std::string::npos);
    std::unique_ptr<AuditLog> log;
    auto s = AuditLog::Open(f.db.get(), keyed, &log);
    CHECK(s.code() == base::Status::Code::kCorruption);
    CHECK(s.message().find("MAC") != std::string::npos);
  }
  SUBCASE("an earlier genuine head written back: only a checkpoint kept elsewhere catches it") {
    PutHead(f, head_at_7);
    std::unique_ptr<AuditLog> log;
    REQUIRE(AuditLog::Open(f.db.get(), keyed, &log).ok());
    CHECK(log->Verify().ok);  // what no MAC can show (store/audit_log.h)
    auto r = log->Verify(at_10);
    CHECK_FALSE(r.ok);
    CHECK(r.outcome == AuditVerifyResult::Outcome::kFailed);
    CHECK(r.first_bad_seq == 8);
    CHECK(r.problem.find("removed from the tail") != std::string::npos);
  }
}

TEST_CASE("verify without the key of a log written with the key is not ok: it could not check the HMACs") {
  Fixture f;
  AuditLog::Options keyed;
  keyed.hmac_key = kKey;
  f.Open(keyed);
  for (int i = 0; i < 3; ++i) {
    AuditEntry e = Screen("x");
    REQUIRE(f.log->Append(&e).ok());
  }
  f.Open({});
  auto r = f.log->Verify();
  CHECK_FALSE(r.ok);
  CHECK(r.outcome == AuditVerifyResult::Outcome::kHmacUnchecked);
  CHECK(r.problem.find("no HMAC key") != std::string::npos);
  CHECK(std::string(AuditVerifyResult::OutcomeName(r.outcome)) == "hmac_unchecked");
  // A log that never had a key verifies without one.
  Fixture plain;
  plain.Open({});
  AuditEntry e = Screen("x");
  REQUIRE(plain.log->Append(&e).ok());
  CHECK(plain.log->Verify().ok);
  CHECK_FALSE(plain.log->Verify().head_authenticated);
}

TEST_CASE("checkpoints round-trip as text, verify while the log holds them, and fail once it does not") {
  Fixture f;
  AuditLog::Options keyed;
  keyed.hmac_key = kKey;
  f.Open(keyed);
  const AuditCheckpoint empty = f.log->Checkpoint();
  CHECK(empty.seq == 0);
  CHECK(f.log->Verify(empty).ok);
  for (int i = 0; i < 5; ++i) {
    AuditEntry e = Screen("item-" + std::to_string(i));
    REQUIRE(f.log->Append(&e).ok());
  }
  const AuditCheckpoint cp = f.log->Checkpoint();
  CHECK(cp.seq == 5);
  CHECK(cp.mac.size() == 32);
  CHECK(cp.instance_id == f.db->instance_id());
  const std::string text = cp.ToString();
  CHECK(text.rfind("audit-checkpoint:v1:" + f.db->instance_id() + ":5:", 0) == 0);
  AuditCheckpoint parsed;
  REQUIRE(AuditCheckpoint::Parse("  " + text + "\n", &parsed).ok());
  CHECK(parsed.ToString() == text);
  auto r = f.log->Verify(parsed);
  CHECK_MESSAGE(r.ok, r.problem);
  CHECK(r.checkpoint_checked);
  for (int i = 0; i < 3; ++i) {
    AuditEntry e = Screen("later");
    REQUIRE(f.log->Append(&e).ok());
  }
  CHECK(f.log->Verify(parsed).ok);  // the log grew: it still holds the checkpoint

  // A forged or edited checkpoint is refused.
  AuditCheckpoint forged = parsed;
  forged.seq = 6;
  r = f.log->Verify(forged);
  CHECK(r.outcome == AuditVerifyResult::Outcome::kFailed);
  CHECK(r.problem.find("checkpoint's MAC") != std::string::npos);
  AuditCheckpoint foreign = parsed;
  foreign.instance_id = std::string(32, '0');
  CHECK(f.log->Verify(foreign).problem.find("another database") != std::string::npos);
  // Without a MAC (made by a server without key) the hash still counts, but
  // a keyed log cannot authenticate it: not ok.
  AuditCheckpoint unkeyed = parsed;
  unkeyed.mac.clear();
  CHECK(f.log->Verify(unkeyed).outcome == AuditVerifyResult::Outcome::kCheckpointUnauthenticated);
  unkeyed.hash[0] ^= 1;
  CHECK(f.log->Verify(unkeyed).problem.find("differs from the checkpoint") != std::string::npos);

  // Entry 3 rewritten and the chain rebuilt from there (head too): the
  // rewrite is at or before the checkpoint's entry, so the checkpoint fails
  // even for a verifier without the key, who otherwise sees no break.
  f.log.reset();
  RebuildFrom(f, 3, [](std::string* canonical) {
    auto pos = canonical->find("item-2");
    REQUIRE(pos != std::string::npos);
    (*canonical)[pos + 5] = '7';
  });
  f.Open({});
  AuditCheckpoint held = parsed;
  held.mac.clear();
  CHECK(f.log->Verify().outcome == AuditVerifyResult::Outcome::kHmacUnchecked);
  r = f.log->Verify(held);
  CHECK(r.outcome == AuditVerifyResult::Outcome::kFailed);
  CHECK(r.first_bad_seq == 5);
  CHECK(r.problem.find("differs from the checkpoint") != std::string::npos);

  for (const char* bad : {"", "audit-checkpoint:v2:x:1:aa:none", "audit-checkpoint:v1:abc:1:00:none",
                          "audit-checkpoint:v1:00000000000000000000000000000000:-1:00:none",
                          "audit-checkpoint:v1:00000000000000000000000000000000:1:zz:none",
                          "audit-checkpoint:v1:00000000000000000000000000000000:18446744073709551616:00:none",
                          "audit-checkpoint:v1:00000000000000000000000000000000:1:"
                          "0000000000000000000000000000000000000000000000000000000000000000:nonee",
                          "audit-checkpoint:v1:00000000000000000000000000000000:0:"
                          "0100000000000000000000000000000000000000000000000000000000000000:none"}) {
    CAPTURE(bad);
    CHECK(AuditCheckpoint::Parse(bad, &parsed).code() == base::Status::Code::kInvalidArgument);
  }
}

TEST_CASE("a checkpoint taken before the tail was cut fails, with or without the key, however the head was rewritten") {
  for (bool with_key : {true, false}) {
    CAPTURE(with_key);
    Fixture f;
    AuditLog::Options options;
    if (with_key) options.hmac_key = kKey;
    f.Open(options);
    for (int i = 0; i < 6; ++i) {
      AuditEntry e = Screen("x");
      REQUIRE(f.log->Append(&e).ok());
    }
    const AuditCheckpoint cp = f.log->Checkpoint();
    CHECK(cp.mac.size() == (with_key ? 32u : 0u));
    AuditEntry e = Screen("x");
    REQUIRE(f.log->Append(&e).ok());
    f.log.reset();
    // Cut back to entry 4 and point the head at it, as consistently as an
    // attacker without the key can.
    for (uint64_t seq = 5; seq <= 7; ++seq) Delete(f, Database::kAudit, store::AuditKey(seq));
    std::string value4;
    REQUIRE(f.db->Get(Database::kAudit, store::AuditKey(4), &value4).ok());
    const size_t mac_len = with_key ? 32 : 0;
    PutHead(f, store::AuditKey(4) + value4.substr(value4.size() - 1 - mac_len - 32, 32));
    std::unique_ptr<AuditLog> log;
    REQUIRE(AuditLog::Open(f.db.get(), {}, &log).ok());
    auto r = log->Verify(cp);
    CHECK(r.outcome == AuditVerifyResult::Outcome::kFailed);
    CHECK(r.first_bad_seq == 5);
    CHECK(r.problem.find("removed from the tail") != std::string::npos);
  }
}

TEST_CASE("a log written before head MACs opens, verifies as head not authenticated, and is authenticated by the next append") {
  Fixture f;
  AuditLog::Options keyed;
  keyed.hmac_key = kKey;
  f.Open(keyed);
  for (int i = 0; i < 3; ++i) {
    AuditEntry e = Screen("old-" + std::to_string(i));
    REQUIRE(f.log->Append(&e).ok());
  }
  f.log.reset();
  // What the previous version wrote: HMAC(key, entry_hash) per entry and a
  // 40-byte head without a MAC.
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    std::string v;
    REQUIRE(f.db->Get(Database::kAudit, store::AuditKey(seq), &v).ok());
    const std::string hash = v.substr(v.size() - 33 - 32, 32);
    const auto legacy = base::HmacSha256(kKey, hash);
    v.replace(v.size() - 32, 32, base::AsBytes(legacy));
    Put(f, Database::kAudit, store::AuditKey(seq), v);
  }
  PutHead(f, HeadRecord(f).substr(0, 40));
  f.Open(keyed);
  auto r = f.log->Verify();
  CHECK_FALSE(r.ok);
  CHECK(r.outcome == AuditVerifyResult::Outcome::kHeadUnauthenticated);
  CHECK_FALSE(r.head_authenticated);
  CHECK(r.entries == 3);
  CHECK(r.problem.find("before head MACs") != std::string::npos);
  AuditEntry e = Screen("new");
  REQUIRE(f.log->Append(&e).ok());
  r = f.log->Verify();
  CHECK_MESSAGE(r.ok, r.problem);
  CHECK(r.head_authenticated);
  CHECK(HeadRecord(f).size() == 72);
}

TEST_CASE("concurrent appends all land, with distinct seqs and a valid chain") {
  Fixture f;
  f.Open();
  constexpr int kThreads = 8, kPerThread = 50;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<uint64_t> seqs;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string ref = "t";
        ref += std::to_string(t);
        ref += '-';
        ref += std::to_string(i);
        AuditEntry e = Screen(ref, i % 3 ? "no_match" : "match");
        if (!f.log->Append(&e).ok()) { ++failures; continue; }
        std::lock_guard<std::mutex> lock(mu);
        seqs.insert(e.seq);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(seqs.size() == kThreads * kPerThread);
  CHECK(*seqs.begin() == 1);
  CHECK(*seqs.rbegin() == kThreads * kPerThread);
  auto r = f.log->Verify();
  CHECK_MESSAGE(r.ok, r.problem);
  CHECK(r.entries == kThreads * kPerThread);
}

TEST_CASE("appends without group commit still chain correctly") {
  Fixture f;
  AuditLog::Options solo;
  solo.group_commit = false;
  f.Open(solo);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        AuditEntry e = Screen("s");
        CHECK(f.log->Append(&e).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(f.log->Verify().ok);
  CHECK(f.log->last_seq() == 40);
}

TEST_CASE("reviews are chain entries of their own and are found by their target") {
  Fixture f;
  f.Open();
  AuditEntry m = Screen("m", "match");
  REQUIRE(f.log->Append(&m).ok());
  AuditEntry review;
  REQUIRE(f.log->AppendReview(m.seq, "false_positive", "a bridge, not abuse", "feedbeeffeedbeef", &review).ok());
  CHECK(review.seq == 2);
  CHECK(review.kind == AuditEntry::Kind::kReview);
  std::vector<AuditEntry> reviews;
  REQUIRE(f.log->ReviewsOf(1, &reviews).ok());
  REQUIRE(reviews.size() == 1);
  CHECK(reviews[0].note == "a bridge, not abuse");
  CHECK(reviews[0].key_id == "feedbeeffeedbeef");
  CHECK(f.log->AppendReview(1, "maybe", "", "k", &review).code() == base::Status::Code::kInvalidArgument);
  CHECK(f.log->AppendReview(99, "confirmed", "", "k", &review).code() == base::Status::Code::kNotFound);
  CHECK(f.log->AppendReview(2, "confirmed", "", "k", &review).code() == base::Status::Code::kNotFound);
  CHECK(f.log->Verify().ok);
}

TEST_CASE("queries page with a cursor and filter by verdict, list and time") {
  Fixture f;
  f.Open();
  for (int i = 0; i < 10; ++i) {
    AuditEntry e = Screen(std::to_string(i), i % 2 ? "match" : "no_match");
    REQUIRE(f.log->Append(&e).ok());
  }
  std::vector<AuditEntry> page;
  uint64_t next = 0;
  store::AuditQuery q;
  q.limit = 4;
  REQUIRE(f.log->Query(q, &page, &next).ok());
  CHECK(page.size() == 4);
  CHECK(next == 4);
  q.after = next;
  REQUIRE(f.log->Query(q, &page, &next).ok());
  CHECK(page.front().seq == 5);
  q.after = 8;
  REQUIRE(f.log->Query(q, &page, &next).ok());
  CHECK(page.size() == 2);
  CHECK(next == 0);

  store::AuditQuery matches;
  matches.verdict = "match";
  REQUIRE(f.log->Query(matches, &page, &next).ok());
  CHECK(page.size() == 5);
  for (auto& e : page) CHECK(e.verdict == "match");
  matches.list_id = 7;
  REQUIRE(f.log->Query(matches, &page, &next).ok());
  CHECK(page.size() == 5);
  matches.list_id = 8;
  REQUIRE(f.log->Query(matches, &page, &next).ok());
  CHECK(page.empty());
  // The largest cursor is the end: it must not wrap around to entry 1.
  store::AuditQuery last;
  last.after = UINT64_MAX;
  REQUIRE(f.log->Query(last, &page, &next).ok());
  CHECK(page.empty());
  CHECK(next == 0);
  store::AuditQuery future;
  future.since_ms = INT64_MAX - 1;
  REQUIRE(f.log->Query(future, &page, &next).ok());
  CHECK(page.empty());
}

TEST_CASE("event entries are chained like every entry, selected by verdict=event, and validated") {
  Fixture f;
  AuditLog::Options keyed;
  keyed.hmac_key = "0123456789abcdef0123456789abcdef";
  f.Open(keyed);
  AuditEntry s = Screen("r1", "match");
  REQUIRE(f.log->Append(&s).ok());
  AuditEntry ev;
  REQUIRE(f.log->AppendEvent("probing_suspected", "fedcba9876543210", "9 screens near a threshold", &ev).ok());
  CHECK(ev.seq == 2);
  CHECK(ev.kind == AuditEntry::Kind::kEvent);
  f.Open(keyed);  // reopen: read back from disk
  AuditEntry got;
  REQUIRE(f.log->Get(2, &got).ok());
  CHECK(got.kind == AuditEntry::Kind::kEvent);
  CHECK(got.event == "probing_suspected");
  CHECK(got.key_id == "fedcba9876543210");
  CHECK(got.detail == "9 screens near a threshold");
  CHECK(got.hits.empty());
  store::AuditQuery q;
  q.verdict = "event";
  std::vector<AuditEntry> page;
  uint64_t next = 0;
  REQUIRE(f.log->Query(q, &page, &next).ok());
  REQUIRE(page.size() == 1);
  CHECK(page[0].seq == 2);
  q.verdict = "match";
  REQUIRE(f.log->Query(q, &page, &next).ok());
  REQUIRE(page.size() == 1);
  CHECK(page[0].seq == 1);
  CHECK(f.log->Verify().ok);
  // A review targets screens only.
  AuditEntry review;
  CHECK(f.log->AppendReview(2, "confirmed", "", "k", &review).code() == base::Status::Code::kNotFound);

  // The detail is covered by the chain: an edit on disk breaks it.
  std::string v;
  REQUIRE(f.db->Get(Database::kAudit, store::AuditKey(2), &v).ok());
  const size_t at = v.find("9 screens");
  REQUIRE(at != std::string::npos);
  v[at] = '1';
  rocksdb::WriteBatch batch;
  batch.Put(f.db->family(Database::kAudit), store::AuditKey(2), v);
  REQUIRE(f.db->Write(&batch, true).ok());
  store::AuditVerifyResult r = f.log->Verify();
  CHECK_FALSE(r.ok);
  CHECK(r.first_bad_seq == 2);

  for (const char* bad : {"", "Probing", "probing-suspected", "x y"}) {
    CAPTURE(std::string(bad));
    CHECK(f.log->AppendEvent(bad, "k", "", &ev).code() == base::Status::Code::kInvalidArgument);
  }
  CHECK(f.log->AppendEvent(std::string(65, 'a'), "k", "", &ev).code() == base::Status::Code::kInvalidArgument);
  CHECK(f.log->AppendEvent("ok", "k", std::string(4097, 'd'), &ev).code() == base::Status::Code::kInvalidArgument);
}

TEST_CASE("with a key, a checkpoint without a MAC is not verified even though the log holds its entry") {
  Fixture f;
  AuditLog::Options keyed;
  keyed.hmac_key = kKey;
  f.Open(keyed);
  for (int i = 0; i < 4; ++i) {
    AuditEntry e = Screen("item-" + std::to_string(i));
    REQUIRE(f.log->Append(&e).ok());
  }
  AuditCheckpoint cp = f.log->Checkpoint();
  REQUIRE(f.log->Verify(cp).ok);
  cp.mac.clear();  // the MAC replaced by `none`
  AuditCheckpoint parsed;
  REQUIRE(AuditCheckpoint::Parse(cp.ToString(), &parsed).ok());
  auto r = f.log->Verify(parsed);
  CHECK_FALSE(r.ok);
  CHECK(r.outcome == AuditVerifyResult::Outcome::kCheckpointUnauthenticated);
  CHECK(std::string(AuditVerifyResult::OutcomeName(r.outcome)) == "checkpoint_unauthenticated");
  CHECK(r.problem.find("no MAC") != std::string::npos);
  // Content still counts first: a MAC-less checkpoint of a removed entry fails.
  parsed.seq = 9;
  CHECK(f.log->Verify(parsed).outcome == AuditVerifyResult::Outcome::kFailed);
  // Without a key a MAC-less checkpoint is all there is: it verifies.
  Fixture plain;
  plain.Open({});
  AuditEntry e = Screen("x");
  REQUIRE(plain.log->Append(&e).ok());
  CHECK(plain.log->Verify(plain.log->Checkpoint()).ok);
}

TEST_CASE("a keyed log extended without the key is not extended with the key again, cut tail or not") {
  Fixture f;
  AuditLog::Options keyed;
  keyed.hmac_key = kKey;
  f.Open(keyed);
  for (int i = 1; i <= 10; ++i) {
    AuditEntry e = Screen("item-" + std::to_string(i));
    REQUIRE(f.log->Append(&e).ok());
  }
  SUBCASE("tail cut, the head pointed at entry 7 with its old MAC, then run without the key (the laundering try)") {
    const std::string head10 = HeadRecord(f);
    for (uint64_t seq = 8; seq <= 10; ++seq) Delete(f, Database::kAudit, store::AuditKey(seq));
    std::string value7;
    REQUIRE(f.db->Get(Database::kAudit, store::AuditKey(7), &value7).ok());
    PutHead(f, store::AuditKey(7) + value7.substr(value7.size() - 33 - 32, 32) + head10.substr(40));
  }
  SUBCASE("no tampering: the server was just started once without the key") {}
  f.Open({});
  AuditEntry unkeyed = Screen("written without the key");
  REQUIRE(f.log->Append(&unkeyed).ok());
  f.log.reset();
  std::unique_ptr<AuditLog> log;
  auto s = AuditLog::Open(f.db.get(), keyed, &log);
  CHECK(s.code() == base::Status::Code::kCorruption);
  CHECK(s.message().find("carries no HMAC") != std::string::npos);
  // What the refusal protects: the log does not verify with the key.
  REQUIRE(AuditLog::Open(f.db.get(), {}, &log).ok());
  CHECK(log->Verify().outcome == AuditVerifyResult::Outcome::kHmacUnchecked);
}

TEST_CASE("a batch entry keeps its count and Merkle root, is listed by kind, and altering its count breaks the chain") {
  Fixture f;
  f.Open({kKey});
  AuditEntry e;
  e.kind = AuditEntry::Kind::kBatch;
  e.key_id = "k1";
  e.source = "hashes";
  e.verdict = "no_match";
  e.batch_count = 9999;
  e.merkle_root = base::Sha256("root");
  REQUIRE(f.log->Append(&e).ok());
  AuditEntry screen;
  screen.key_id = "k1";
  screen.verdict = "no_match";
  REQUIRE(f.log->Append(&screen).ok());
  f.Open({kKey});
  AuditEntry back;
  REQUIRE(f.log->Get(e.seq, &back).ok());
  CHECK(back.kind == AuditEntry::Kind::kBatch);
  CHECK(back.batch_count == 9999);
  CHECK(back.merkle_root == e.merkle_root);
  CHECK(back.verdict == "no_match");
  CHECK(f.log->Verify().ok);
  std::vector<AuditEntry> page;
  uint64_t next = 0;
  store::AuditQuery q;
  q.verdict = "batch";
  REQUIRE(f.log->Query(q, &page, &next).ok());
  REQUIRE(page.size() == 1);
  CHECK(page[0].seq == e.seq);
  q.verdict = "no_match";
  REQUIRE(f.log->Query(q, &page, &next).ok());
  REQUIRE(page.size() == 1);
  CHECK(page[0].seq == screen.seq);
  // One more item claimed in the stored entry: the chain no longer verifies.
  std::string v;
  REQUIRE(f.db->Get(Database::kAudit, store::AuditKey(e.seq), &v).ok());
  const std::string count = base::EncodeU64(9999);
  const size_t at = v.find(count);
  REQUIRE(at != std::string::npos);
  v[at + 7] = static_cast<char>(v[at + 7] + 1);
  Put(f, Database::kAudit, store::AuditKey(e.seq), v);
  AuditVerifyResult r = f.log->Verify();
  CHECK_FALSE(r.ok);
  CHECK(r.first_bad_seq == e.seq);
}
