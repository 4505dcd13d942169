#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <thread>

#include "store/audit_log.h"
#include "tests/test_support.h"

using store::AuditEntry;
using store::AuditLog;
using store::Database;

namespace {

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

TEST_CASE("with an HMAC key, a chain rebuilt without the key fails verification") {
  Fixture f;
  AuditLog::Options keyed;
  keyed.hmac_key = "server-side secret";
  f.Open(keyed);
  AuditEntry e = Screen("a");
  REQUIRE(f.log->Append(&e).ok());
  CHECK(e.hmac.size() == 32);
  CHECK(f.log->Verify().ok);
  // Same entries checked with another key: every HMAC is wrong.
  AuditLog::Options other;
  other.hmac_key = "attacker's guess";
  f.Open(other);
  auto r = f.log->Verify();
  CHECK_FALSE(r.ok);
  CHECK(r.problem.find("HMAC") != std::string::npos);
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
