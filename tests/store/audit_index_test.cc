// The audit index (store/audit_index.h) against brute force: random logs of
// a primary holding a follower's forwarded entries (random verdicts, lists,
// partners, reviews, events, batches, times), every filter combination in
// both orders, paged with random limits, compared with a filter over all
// entries; the index rebuilt for a log written without one; dispositions v2
// (reported + report_id, the note rule, format 3 only when its fields are
// used); a selective filter over many rejected entries still answers pages
// that are never empty while results remain.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include "store/audit_index.h"
#include "store/audit_log.h"
#include "tests/store/audit_random_log.h"
#include "tests/test_support.h"

using store::AuditEntry;
using store::AuditLog;
using store::AuditQuery;
using store::Database;

using audit_test::BuildRandomLog;
using audit_test::CompareAll;
using audit_test::Instance;

TEST_CASE("audit index: every filter combination and order, paged at random, equals a filter over all entries") {
  for (uint64_t seed : {1u, 2u, 3u}) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    Instance primary, follower;
    BuildRandomLog(primary, follower, rng, 600);
    CHECK(primary.log->Verify().ok);
    CompareAll(*primary.log, *primary.db, follower.db->instance_id(), rng, 1500);
    // Reopened: the index is kept, not rebuilt.
    primary.progress.clear();
    primary.Open();
    CHECK(primary.progress.empty());
    CompareAll(*primary.log, *primary.db, follower.db->instance_id(), rng, 200);
  }
}

TEST_CASE("audit index: a log written without the index gets it built at open, once, with progress") {
  std::mt19937_64 rng(7);
  Instance primary, follower;
  BuildRandomLog(primary, follower, rng, 400);
  primary.DropIndex();
  primary.progress.clear();
  primary.Open();
  REQUIRE(primary.progress.size() >= 2);
  CHECK(primary.progress.front().find("building the audit index") != std::string::npos);
  CHECK(primary.progress.back().find("audit index built") != std::string::npos);
  CHECK(primary.log->Verify().ok);
  CompareAll(*primary.log, *primary.db, follower.db->instance_id(), rng, 500);
  // New entries and reviews on the rebuilt index keep it right.
  BuildRandomLog(primary, follower, rng, 200);
  CompareAll(*primary.log, *primary.db, follower.db->instance_id(), rng, 300);
  primary.progress.clear();
  primary.Open();
  CHECK(primary.progress.empty());
  // An interrupted build (no marker) starts again from nothing: stale keys go.
  rocksdb::WriteBatch batch;
  batch.Delete(primary.db->family(Database::kAuditIndex), store::audit_index::kCompleteKey);
  batch.Put(primary.db->family(Database::kAuditIndex), store::audit_index::PositionKey("a", 5, 999999), "");
  REQUIRE(primary.db->Write(&batch, true).ok());
  primary.Open();
  CHECK(!primary.progress.empty());
  CompareAll(*primary.log, *primary.db, follower.db->instance_id(), rng, 100);
  // AuditLog::Reindex (hashscreend audit reindex) on a closed log.
  primary.log.reset();
  REQUIRE(AuditLog::Reindex(primary.db.get(), {}).ok());
  primary.Open();
  CompareAll(*primary.log, *primary.db, follower.db->instance_id(), rng, 100);
}

TEST_CASE("audit index: a selective filter among many rejected entries answers non-empty pages until the end") {
  Instance primary, follower;
  // The follower's matches on list 1 lie behind 25,000 of the primary's own on list 1.
  for (int i = 0; i < 3; ++i) {
    AuditEntry e;
    e.source = "hashes";
    e.verdict = "match";
    e.hits.push_back({});
    e.hits.back().list_id = 1;
    REQUIRE(follower.log->Append(&e).ok());
  }
  for (int i = 0; i < 25000; ++i) {
    AuditEntry e;
    e.source = "hashes";
    e.verdict = "match";
    e.hits.push_back({});
    e.hits.back().list_id = 1;
    REQUIRE(primary.log->Append(&e).ok());
  }
  std::vector<std::string> stored;
  REQUIRE(follower.log->ReadStored(0, 10, 1 << 20, &stored).ok());
  store::ForwardResult r;
  REQUIRE(primary.log->AppendForwarded(follower.db->instance_id(), stored, "replica", "", &r).ok());
  for (bool newest : {false, true}) {
    AuditQuery q;
    q.list_id = 1;
    q.partner = "";
    q.instance = follower.db->instance_id();
    q.verdict = "match";
    q.disposition = "unreviewed";  // list+disposition index, instance checked per entry
    q.newest_first = newest;
    q.limit = 2;
    std::vector<uint64_t> seen;
    for (int pages = 0; pages < 10; ++pages) {
      std::vector<AuditEntry> page;
      uint64_t next = 0;
      REQUIRE(primary.log->Query(q, &page, &next).ok());
      for (auto& e : page) seen.push_back(e.seq);
      if (next == 0) break;
      REQUIRE(!page.empty());
      q.after = next;
    }
    CHECK(seen.size() == 3);
  }
}

TEST_CASE("audit dispositions v2: reported needs a report id, a second review a note, and format 3 holds the new fields") {
  Instance f;
  AuditEntry plain, match;
  plain.source = "hashes";
  plain.verdict = "no_match";
  REQUIRE(f.log->Append(&plain).ok());
  match.source = "hashes";
  match.verdict = "match";
  match.hits.push_back({});
  match.hits.back().list_id = 3;
  match.hits.back().partner = "acme";
  match.hits.back().first_seen_ms = 1700000000123;
  match.hits.back().tags = {"c1", "=x"};
  REQUIRE(f.log->Append(&match).ok());
  std::string v;
  REQUIRE(f.db->Get(Database::kAudit, store::AuditKey(1), &v).ok());
  CHECK(v[0] == 1);  // nothing new used: the old format, byte for byte
  REQUIRE(f.db->Get(Database::kAudit, store::AuditKey(2), &v).ok());
  CHECK(v[0] == 3);
  AuditEntry got;
  REQUIRE(f.log->Get(2, &got).ok());
  CHECK(got.hits.at(0).first_seen_ms == 1700000000123);
  CHECK(got.hits.at(0).tags == std::vector<std::string>{"c1", "=x"});

  AuditEntry review;
  bool note_required = false;
  using In = store::ReviewInput;
  CHECK(f.log->AppendReview(2, In{"reported", "", ""}, "k", &review, "", &note_required).code() == base::Status::Code::kInvalidArgument);
  CHECK(f.log->AppendReview(2, In{"confirmed", "", "CT-1"}, "k", &review, "", &note_required).code() == base::Status::Code::kInvalidArgument);
  CHECK(f.log->AppendReview(2, In{"reported", "", std::string(65, '1')}, "k", &review, "", &note_required).code() ==
        base::Status::Code::kInvalidArgument);
  CHECK(f.log->AppendReview(2, In{"reported", "", "CT\n1"}, "k", &review, "", &note_required).code() ==
        base::Status::Code::kInvalidArgument);
  CHECK(!note_required);
  bool found = true;
  REQUIRE(f.log->CurrentReview(2, &review, &found).ok());
  CHECK(!found);
  REQUIRE(f.log->AppendReview(2, In{"confirmed", "", ""}, "k", &review, "", &note_required).ok());
  REQUIRE(f.db->Get(Database::kAudit, store::AuditKey(review.seq), &v).ok());
  CHECK(v[0] == 1);
  // Already reviewed: any new review, the same disposition too, needs a note.
  CHECK(f.log->AppendReview(2, In{"confirmed", "", ""}, "k", &review, "", &note_required).code() ==
        base::Status::Code::kInvalidArgument);
  CHECK(note_required);
  REQUIRE(f.log->AppendReview(2, In{"reported", "sent", "CT-12345"}, "k", &review, "", &note_required).ok());
  CHECK(!note_required);
  REQUIRE(f.db->Get(Database::kAudit, store::AuditKey(review.seq), &v).ok());
  CHECK(v[0] == 3);
  REQUIRE(f.log->CurrentReview(2, &got, &found).ok());
  REQUIRE(found);
  CHECK(got.disposition == "reported");
  CHECK(got.report_id == "CT-12345");
  f.Open();
  CHECK(f.log->Verify().ok);
  AuditQuery q;
  q.disposition = "reported";
  std::vector<AuditEntry> page;
  uint64_t next = 0;
  REQUIRE(f.log->Query(q, &page, &next).ok());
  REQUIRE(page.size() == 1);
  CHECK(page[0].seq == 2);
  q.disposition = "confirmed";
  REQUIRE(f.log->Query(q, &page, &next).ok());
  CHECK(page.empty());

  // The report id is under the chain hash: altering it breaks verification.
  REQUIRE(f.db->Get(Database::kAudit, store::AuditKey(review.seq), &v).ok());
  const size_t at = v.find("CT-12345");
  REQUIRE(at != std::string::npos);
  v[at + 3] = '9';
  rocksdb::WriteBatch batch;
  batch.Put(f.db->family(Database::kAudit), store::AuditKey(review.seq), v);
  REQUIRE(f.db->Write(&batch, true).ok());
  const auto verified = f.log->Verify();
  CHECK(!verified.ok);
  CHECK(verified.first_bad_seq == review.seq);
}

TEST_CASE("audit dispositions v2: a format 3 entry that uses none of its fields is refused as a second encoding") {
  Instance f;
  AuditEntry e;
  e.source = "hashes";
  e.verdict = "no_match";
  REQUIRE(f.log->Append(&e).ok());
  std::string v;
  REQUIRE(f.db->Get(Database::kAudit, store::AuditKey(1), &v).ok());
  // Format 1 -> 3 with an empty request id appended and no fields used.
  REQUIRE(v[0] == 1);
  std::string forged = v;
  forged[0] = 3;
  const size_t trailer = 32 + 32 + 1;  // prev hash, own hash, HMAC length 0
  forged.insert(forged.size() - trailer, std::string(8, '\0'));  // a u64 length 0
  rocksdb::WriteBatch batch;
  batch.Put(f.db->family(Database::kAudit), store::AuditKey(1), forged);
  REQUIRE(f.db->Write(&batch, true).ok());
  AuditEntry got;
  CHECK(f.log->Get(1, &got).code() == base::Status::Code::kCorruption);
}

TEST_CASE("audit index v2: list+partner, list+instance and partner+instance have keys, an index of version 1 is rebuilt at open") {
  std::mt19937_64 rng(41);
  Instance primary, follower;
  audit_test::BuildRandomLog(primary, follower, rng, 400);
  // The pairs read only their own keys: every entry read is a result, so a
  // page is full whenever that many results remain.
  for (int pair = 0; pair < 3; ++pair) {
    AuditQuery q;
    if (pair != 2) q.list_id = 2;
    if (pair != 1) q.partner = "beta";
    if (pair != 0) q.instance = follower.db->instance_id();
    q.limit = 1000;
    std::vector<AuditEntry> all;
    uint64_t next = 0;
    REQUIRE(primary.log->Query(q, &all, &next).ok());
    CHECK(next == 0);
    const std::string prefix = store::audit_index::IndexPrefix(
        {"", q.list_id, q.partner, "", q.instance.value_or("")});
    size_t keys = 0;
    std::unique_ptr<rocksdb::Iterator> it(
        primary.db->db()->NewIterator(rocksdb::ReadOptions(), primary.db->family(Database::kAuditIndex)));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) ++keys;
    CAPTURE(pair);
    CHECK(keys == all.size());
    CHECK(!all.empty());
  }
  // A database whose index is version 1 (no pair keys) gets it rebuilt at open.
  rocksdb::WriteBatch batch;
  batch.Put(primary.db->family(Database::kAuditIndex), store::audit_index::kCompleteKey, "1");
  batch.DeleteRange(primary.db->family(Database::kAuditIndex), "n", "p");
  batch.DeleteRange(primary.db->family(Database::kAuditIndex), "r", "s");
  REQUIRE(primary.db->Write(&batch, true).ok());
  primary.progress.clear();
  primary.Open();
  CHECK(!primary.progress.empty());
  audit_test::CompareAll(*primary.log, *primary.db, follower.db->instance_id(), rng, 400);
}
