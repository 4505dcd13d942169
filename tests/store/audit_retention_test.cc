// Audit retention (store/audit_retention.h, AuditLog::Prune) against brute
// force: random logs (a primary holding a follower's forwarded entries,
// reviews, events, batches) pruned at random horizons in random batch sizes;
// the cut point and the stubs equal what the rules say, Verify holds from the
// base, every query equals a filter over the survivors, pruned entries are
// NotFound and Pruned, reopening and reindexing change nothing, a second
// prune does nothing, and a forward resent over pruned entries is skipped.
// Attacks: a stub altered or forged, a kept entry replaced by a stub, the
// base record altered, moved or removed, a surviving entry altered, a
// checkpoint older than the base. A prune stopped between batches (a crash)
// leaves a log that verifies and finishes on the next run. Reviews hold
// their target.
#include <doctest/doctest.h>

#include <random>
#include <set>

#include "store/audit_retention.h"
#include "store/audit_stored.h"
#include "tests/store/audit_random_log.h"

using audit_test::Instance;
using store::AuditEntry;
using store::AuditLog;
using store::AuditQuery;
using store::Database;
using store::PruneResult;
using store::RetentionPolicy;

namespace {

constexpr char kKey[] = "retention-test-hmac-key-0123456789";

// What the rules say a prune with these horizons does to the log as it is now.
struct Expectation {
  uint64_t base = 0;
  std::set<uint64_t> stubs;
};

Expectation Expect(const AuditLog& log, Database* db, int64_t horizon, int64_t nm_horizon) {
  Expectation x;
  std::vector<AuditEntry> all;
  std::map<uint64_t, uint64_t> latest_review;  // target -> review
  for (uint64_t s = 1; s <= log.last_seq(); ++s) {
    AuditEntry e;
    const base::Status got = log.Get(s, &e);
    if (got.code() == base::Status::Code::kNotFound && log.Pruned(s)) {
      if (s <= log.base_seq()) continue;
      x.stubs.insert(s);  // a stub: cut with the prefix by its time like any entry
      std::string v;
      REQUIRE(db->Get(Database::kAudit, store::AuditKey(s), &v).ok());
      REQUIRE(store::audit_stored::Decode(v, &e).ok());
      all.push_back(std::move(e));
      continue;
    }
    REQUIRE(got.ok());
    if (e.kind == AuditEntry::Kind::kReview) latest_review[e.target_seq] = s;
    all.push_back(std::move(e));
  }
  // The newest entry stays.
  const uint64_t limit = log.last_seq();
  x.base = log.base_seq();
  for (const auto& e : all) {
    if (e.seq <= limit - 1 && e.time_ms < horizon) x.base = e.seq;
  }
  for (bool moved = true; moved;) {
    moved = false;
    for (const auto& [target, review] : latest_review) {
      if (target <= x.base && review > x.base) {
        x.base = target - 1;
        moved = true;
        break;
      }
    }
  }
  for (auto it = x.stubs.begin(); it != x.stubs.end();) it = *it <= x.base ? x.stubs.erase(it) : std::next(it);
  for (const auto& e : all) {
    if (e.pruned || e.seq <= x.base || e.seq > limit - 1 || e.time_ms >= nm_horizon) continue;
    if (store::audit_retention::IsNoMatchRecord(e.effective()) && !latest_review.count(e.seq)) x.stubs.insert(e.seq);
  }
  return x;
}

void Rewrite(Database* db, uint64_t seq, const std::string& v) {
  rocksdb::WriteBatch batch;
  batch.Put(db->family(Database::kAudit), store::AuditKey(seq), v);
  REQUIRE(db->Write(&batch, true).ok());
}

std::string Stored(Database* db, uint64_t seq) {
  std::string v;
  REQUIRE(db->Get(Database::kAudit, store::AuditKey(seq), &v).ok());
  return v;
}

std::vector<AuditEntry> Events(const AuditLog& log, const std::string& name) {
  AuditQuery q;
  q.verdict = "event";
  q.limit = 1000;
  std::vector<AuditEntry> page, out;
  uint64_t next = 0;
  REQUIRE(log.Query(q, &page, &next).ok());
  for (auto& e : page) {
    if (e.event == name) out.push_back(e);
  }
  return out;
}

// The horizons of a random prune: times picked among the log's.
void RandomHorizons(const AuditLog& log, std::mt19937_64& rng, int64_t* horizon, int64_t* nm_horizon) {
  AuditEntry first, last;
  uint64_t s = 1;
  while (!log.Get(s, &first).ok()) ++s;
  REQUIRE(log.Get(log.last_seq(), &last).ok());
  const int64_t span = last.time_ms - first.time_ms + 2;
  const int64_t a = first.time_ms + static_cast<int64_t>(rng() % span);
  const int64_t b = first.time_ms + static_cast<int64_t>(rng() % span);
  *horizon = std::min(a, b);
  *nm_horizon = std::max(a, b);
}

RetentionPolicy Policy(int64_t horizon, int64_t nm_horizon, size_t batch) {
  RetentionPolicy p;
  p.now_ms = nm_horizon + 10'000'000;
  p.retain_ms = p.now_ms - horizon;
  p.retain_no_match_ms = p.now_ms - nm_horizon;
  p.batch = batch;
  return p;
}

// Appends `n` no-match screens after a pause, then one more after another:
// returns the time of the first (a horizon that cuts everything before it)
// and of the last (one that stubs the n).
std::pair<int64_t, int64_t> AppendNoMatchTail(AuditLog& log, int n) {
  std::pair<int64_t, int64_t> times;
  for (int i = 0; i <= n; ++i) {
    if (i == 0 || i == n) std::this_thread::sleep_for(std::chrono::milliseconds(3));
    AuditEntry e;
    e.source = "hashes";
    e.caller_ref = "tail-" + std::to_string(i);
    e.verdict = "no_match";
    REQUIRE(log.Append(&e).ok());
    (i == 0 ? times.first : times.second) = e.time_ms;
  }
  return times;
}

}  // namespace

TEST_CASE("audit retention: random logs pruned at random horizons verify and answer like brute force over the survivors") {
  uint64_t cut = 0, stubbed = 0;  // over all seeds: the test must have cut and stubbed something
  for (uint64_t seed : {11u, 12u, 13u, 14u}) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    Instance primary(seed % 2 ? kKey : ""), follower;
    audit_test::BuildRandomLog(primary, follower, rng, 500);
    const store::AuditCheckpoint before = primary.log->Checkpoint();
    int64_t horizon = 0, nm_horizon = 0;
    RandomHorizons(*primary.log, rng, &horizon, &nm_horizon);
    const Expectation want = Expect(*primary.log, primary.db.get(), horizon, nm_horizon);
    PruneResult r;
    REQUIRE(primary.log->Prune(Policy(horizon, nm_horizon, 1 + rng() % 40), &r).ok());
    CHECK(r.base_seq == want.base);
    CHECK(r.cut == want.base);
    CHECK(r.stubbed == want.stubs.size());
    CHECK(!r.stopped);
    cut += r.cut;
    stubbed += r.stubbed;
    CHECK(primary.log->base_seq() == want.base);
    for (uint64_t s = 1; s <= primary.log->last_seq(); ++s) {
      AuditEntry e;
      const bool gone = s <= want.base || want.stubs.count(s);
      CAPTURE(s);
      CHECK(primary.log->Pruned(s) == gone);
      const base::Status got = primary.log->Get(s, &e);
      CHECK(got.ok() == !gone);
      if (gone) CHECK(got.message().find("pruned") != std::string::npos);
    }
    auto v = primary.log->Verify();
    CHECK_MESSAGE(v.ok, v.problem);
    CHECK(v.base_seq == want.base);
    CHECK(v.stubs == want.stubs.size());
    CHECK(v.base_authenticated == (want.base != 0 && primary.log->keyed()));
    // Audited: the start and the end, with the counts and the base as a checkpoint line.
    const auto started = Events(*primary.log, "audit_prune_started");
    const auto pruned = Events(*primary.log, "audit_prune");
    const size_t events = want.base != 0 || !want.stubs.empty() ? 1 : 0;
    REQUIRE(started.size() == events);
    REQUIRE(pruned.size() == events);
    if (events) CHECK(pruned[0].detail.find("cut=" + std::to_string(want.base) + " stubbed=" + std::to_string(want.stubs.size())) !=
          std::string::npos);
    if (want.base != 0) {
      CHECK(pruned[0].detail.find(r.checkpoint) != std::string::npos);
      store::AuditCheckpoint cp;
      REQUIRE(store::AuditCheckpoint::Parse(r.checkpoint, &cp).ok());
      CHECK(primary.log->Verify(cp).ok);
      CHECK(primary.log->Verify(cp).checkpoint_checked);
    }
    CHECK(primary.log->Verify(before).ok);  // taken before the prune: its entry is the newest, kept
    audit_test::CompareAll(*primary.log, *primary.db, follower.db->instance_id(), rng, 400);
    // A second prune with the same horizons finds nothing more.
    PruneResult again;
    REQUIRE(primary.log->Prune(Policy(horizon, nm_horizon, 7), &again).ok());
    CHECK(again.base_seq == want.base);
    CHECK(again.cut == 0);
    CHECK(again.stubbed == 0);
    // Reopened, and the index rebuilt: the same answers.
    primary.Open();
    v = primary.log->Verify();
    CHECK_MESSAGE(v.ok, v.problem);
    CHECK(primary.log->base_seq() == want.base);
    audit_test::CompareAll(*primary.log, *primary.db, follower.db->instance_id(), rng, 100);
    primary.log.reset();
    REQUIRE(AuditLog::Reindex(primary.db.get(), {}).ok());
    primary.Open();
    audit_test::CompareAll(*primary.log, *primary.db, follower.db->instance_id(), rng, 100);
    // The follower resends everything it has: held once, pruned since: skipped.
    for (uint64_t after = 0;;) {
      std::vector<std::string> stored;
      REQUIRE(follower.log->ReadStored(after, 1000, 1 << 24, &stored).ok());
      if (stored.empty()) break;
      store::ForwardResult fr;
      const base::Status fs = primary.log->AppendForwarded(follower.db->instance_id(), stored, "replica", "", &fr);
      REQUIRE_MESSAGE(fs.ok(), fs.ToString());
      after += stored.size();
    }
    v = primary.log->Verify();
    CHECK_MESSAGE(v.ok, v.problem);
    // More entries, and a prune at a later horizon: still verifiable, still right.
    audit_test::BuildRandomLog(primary, follower, rng, 200);
    RandomHorizons(*primary.log, rng, &horizon, &nm_horizon);
    const Expectation later = Expect(*primary.log, primary.db.get(), horizon, nm_horizon);
    REQUIRE(primary.log->Prune(Policy(horizon, nm_horizon, 1 + rng() % 40), &r).ok());
    CHECK(r.base_seq == later.base);
    cut += r.cut;
    stubbed += r.stubbed;
    v = primary.log->Verify();
    CHECK_MESSAGE(v.ok, v.problem);
    audit_test::CompareAll(*primary.log, *primary.db, follower.db->instance_id(), rng, 100);
    // Everything random cut (its reviews with it), forwarded entries included, then stubs after it.
    audit_test::BuildRandomLog(primary, follower, rng, 100);
    const auto [tail_first, tail_last] = AppendNoMatchTail(*primary.log, 20);
    const Expectation all = Expect(*primary.log, primary.db.get(), tail_first, tail_last);
    REQUIRE(primary.log->Prune(Policy(tail_first, tail_last, 1 + rng() % 40), &r).ok());
    CHECK(r.base_seq == all.base);
    for (uint64_t s : all.stubs) CHECK(primary.log->Pruned(s));
    cut += r.cut;
    stubbed += r.stubbed;
    v = primary.log->Verify();
    CHECK_MESSAGE(v.ok, v.problem);
    CHECK(v.stubs == all.stubs.size());
    audit_test::CompareAll(*primary.log, *primary.db, follower.db->instance_id(), rng, 200);
  }
  CHECK(cut > 100);
  CHECK(stubbed > 100);
}

TEST_CASE("audit retention: a checkpoint older than the base says it was pruned, retain 0 keeps everything") {
  Instance log(kKey);
  for (int i = 0; i < 20; ++i) {
    AuditEntry e;
    e.source = "hashes";
    e.verdict = i % 2 ? "match" : "no_match";
    REQUIRE(log.log->Append(&e).ok());
  }
  const store::AuditCheckpoint old = log.log->Checkpoint();  // entry 20
  PruneResult r;
  RetentionPolicy keep;  // retain 0 for both: nothing to do, nothing written
  REQUIRE(log.log->Prune(keep, &r).ok());
  CHECK(r.cut == 0);
  CHECK(r.stubbed == 0);
  CHECK(r.checkpoint.empty());
  CHECK(log.log->last_seq() == 20);
  CHECK(log.log->Verify(old).ok);
  AuditEntry later;
  for (int i = 0; i < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    later = AuditEntry();
    later.source = "hashes";
    later.verdict = "no_match";
    REQUIRE(log.log->Append(&later).ok());
  }
  // Everything before entry 22 (the newest) is older than the horizon: 1..21 go.
  RetentionPolicy p;
  p.now_ms = later.time_ms + 1000;
  p.retain_ms = 1000;
  REQUIRE(log.log->Prune(p, &r).ok());
  CHECK(r.base_seq == 21);
  const auto v = log.log->Verify(old);
  CHECK(!v.ok);
  CHECK(v.outcome == store::AuditVerifyResult::Outcome::kCheckpointPruned);
  CHECK(v.problem.find("pruned") != std::string::npos);
  CHECK(v.base_seq == 21);
  // The base as a checkpoint line verifies; the same line with another hash fails.
  store::AuditCheckpoint cp;
  REQUIRE(store::AuditCheckpoint::Parse(r.checkpoint, &cp).ok());
  CHECK(log.log->Verify(cp).ok);
  cp.hash[0] ^= 1;
  cp.mac = store::AuditCheckpoint::MacFor(kKey, cp.instance_id, cp.seq, cp.hash);
  CHECK(log.log->Verify(cp).outcome == store::AuditVerifyResult::Outcome::kFailed);
  // A query cursor naming a pruned entry: oldest first starts at the base, newest first has nothing before it.
  AuditQuery q;
  q.after = 5;
  std::vector<AuditEntry> page;
  uint64_t next = 0;
  REQUIRE(log.log->Query(q, &page, &next).ok());
  REQUIRE(!page.empty());
  CHECK(page.front().seq == r.base_seq + 1);
  q.newest_first = true;
  REQUIRE(log.log->Query(q, &page, &next).ok());
  CHECK(page.empty());
  CHECK(next == 0);
}

TEST_CASE("audit retention: tampering with a stub, the base or a surviving entry fails Verify") {
  std::mt19937_64 rng(21);
  Instance primary(kKey), follower;
  audit_test::BuildRandomLog(primary, follower, rng, 400);
  const auto [cut_before, stub_before] = AppendNoMatchTail(*primary.log, 30);
  PruneResult r;
  REQUIRE(primary.log->Prune(Policy(cut_before, stub_before, 16), &r).ok());
  REQUIRE(r.base_seq > 0);
  REQUIRE(r.stubbed > 3);
  REQUIRE(primary.log->Verify().ok);
  // Pick a stub, and a kept whole entry after the base.
  uint64_t stub = 0, whole = 0;
  for (uint64_t s = r.base_seq + 1; s < primary.log->last_seq() && (!stub || !whole); ++s) {
    (primary.log->Pruned(s) ? stub : whole) = (primary.log->Pruned(s) ? (stub ? stub : s) : (whole ? whole : s));
  }
  REQUIRE(stub != 0);
  REQUIRE(whole != 0);
  const std::string stub_bytes = Stored(primary.db.get(), stub);
  const std::string whole_bytes = Stored(primary.db.get(), whole);
  auto fails_at = [&](uint64_t at) {
    const auto v = primary.log->Verify();
    CHECK(!v.ok);
    CHECK(v.first_bad_seq == at);
    return v;
  };

  SUBCASE("a stub's time altered") {
    std::string v = stub_bytes;
    v[1 + 8 + 7] ^= 1;
    Rewrite(primary.db.get(), stub, v);
    fails_at(stub);
  }
  SUBCASE("a stub's entry hash altered") {
    AuditEntry e;
    REQUIRE(store::audit_retention::DecodeStub(stub_bytes, &e).ok());
    e.entry_hash[3] ^= 1;
    Rewrite(primary.db.get(), stub, store::audit_retention::EncodeStub(e, primary.db->instance_id(), kKey));
    CHECK(!primary.log->Verify().ok);
  }
  SUBCASE("a kept entry replaced by a stub made without the key, or with another") {
    AuditEntry e;
    REQUIRE(store::audit_stored::Decode(whole_bytes, &e).ok());
    for (const char* key : {"", "another-key-of-sufficient-length"}) {
      Rewrite(primary.db.get(), whole, store::audit_retention::EncodeStub(e, primary.db->instance_id(), key));
      const auto v = fails_at(whole);
      CHECK(v.problem.find("stub MAC") != std::string::npos);
    }
  }
  SUBCASE("the base record altered, moved forward or removed") {
    std::string base;
    REQUIRE(primary.db->Get(Database::kMeta, store::audit_stored::kBaseKey, &base).ok());
    store::audit_retention::Base b;
    REQUIRE(store::audit_retention::DecodeBase(base, &b).ok());
    rocksdb::WriteBatch batch;
    // Moved forward over the first kept entry, deleted, without the key.
    AuditEntry next;
    REQUIRE(primary.log->Get(whole, &next).ok());
    b.seq = whole;
    b.hash = next.entry_hash;
    for (uint64_t s = r.base_seq + 1; s <= whole; ++s) batch.Delete(primary.db->family(Database::kAudit), store::AuditKey(s));
    batch.Put(primary.db->family(Database::kMeta), store::audit_stored::kBaseKey,
              store::audit_retention::EncodeBase(b, primary.db->instance_id(), ""));
    REQUIRE(primary.db->Write(&batch, true).ok());
    auto v = primary.log->Verify();
    CHECK(!v.ok);
    CHECK(v.problem.find("base record") != std::string::npos);
    // Removed: the log no longer starts at entry 1.
    rocksdb::WriteBatch drop;
    drop.Delete(primary.db->family(Database::kMeta), store::audit_stored::kBaseKey);
    REQUIRE(primary.db->Write(&drop, true).ok());
    fails_at(1);
  }
  SUBCASE("the base record's hash altered") {
    std::string base;
    REQUIRE(primary.db->Get(Database::kMeta, store::audit_stored::kBaseKey, &base).ok());
    base[8] ^= 1;
    rocksdb::WriteBatch batch;
    batch.Put(primary.db->family(Database::kMeta), store::audit_stored::kBaseKey, base);
    REQUIRE(primary.db->Write(&batch, true).ok());
    CHECK(!primary.log->Verify().ok);
  }
  SUBCASE("a surviving entry altered") {
    std::string v = whole_bytes;
    v[20] ^= 1;
    Rewrite(primary.db.get(), whole, v);
    fails_at(whole);
  }
  SUBCASE("a stub removed") {
    rocksdb::WriteBatch batch;
    batch.Delete(primary.db->family(Database::kAudit), store::AuditKey(stub));
    REQUIRE(primary.db->Write(&batch, true).ok());
    fails_at(stub);
  }
}

TEST_CASE("audit retention: a prune stopped between batches leaves a verifiable log and finishes on the next run") {
  std::mt19937_64 rng(31);
  Instance primary(kKey), follower;
  audit_test::BuildRandomLog(primary, follower, rng, 500);
  const auto [horizon, nm_horizon] = AppendNoMatchTail(*primary.log, 60);
  const Expectation want = Expect(*primary.log, primary.db.get(), horizon, nm_horizon);
  REQUIRE(want.base > 20);
  for (int stops = 1; stops < 40; stops += 3) {
    RetentionPolicy p = Policy(horizon, nm_horizon, 5);
    int asked = 0;
    p.stop = [&asked, stops] { return ++asked > stops; };
    PruneResult r;
    REQUIRE(primary.log->Prune(p, &r).ok());
    const auto v = primary.log->Verify();
    CHECK_MESSAGE(v.ok, v.problem);
    if (!r.stopped) break;
    primary.Open();  // as after a restart
  }
  PruneResult r;
  REQUIRE(primary.log->Prune(Policy(horizon, nm_horizon, 5), &r).ok());
  CHECK(primary.log->base_seq() == want.base);
  for (uint64_t s : want.stubs) CHECK(primary.log->Pruned(s));
  CHECK(primary.log->Verify().ok);
  CHECK(primary.log->Verify().stubs == want.stubs.size());
  audit_test::CompareAll(*primary.log, *primary.db, follower.db->instance_id(), rng, 200);
}

TEST_CASE("audit retention: a match is kept while its reviews are, a reviewed no-match is not stubbed") {
  Instance log(kKey);
  AuditEntry match, nomatch;
  match.source = nomatch.source = "hashes";
  match.verdict = "match";
  nomatch.verdict = "no_match";
  REQUIRE(log.log->Append(&match).ok());
  REQUIRE(log.log->Append(&nomatch).ok());
  for (int i = 0; i < 5; ++i) {
    AuditEntry e = nomatch;
    REQUIRE(log.log->Append(&e).ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  AuditEntry review;
  REQUIRE(log.log->AppendReview(match.seq, "confirmed", "", "reviewer", &review).ok());
  REQUIRE(log.log->AppendReview(nomatch.seq, "false_positive", "", "reviewer", &review).ok());
  // The horizon lies after the screens, before the reviews: the match stays
  // with everything after it; the reviewed no-match is not stubbed.
  RetentionPolicy p = Policy(review.time_ms - 1, review.time_ms, 2);
  PruneResult r;
  REQUIRE(log.log->Prune(p, &r).ok());
  CHECK(r.base_seq == 0);
  CHECK(r.held_by_review == match.seq);
  CHECK(!log.log->Pruned(match.seq));
  CHECK(!log.log->Pruned(nomatch.seq));
  CHECK(r.stubbed == 5);
  std::vector<AuditEntry> reviews;
  REQUIRE(log.log->ReviewsOf(match.seq, &reviews).ok());
  CHECK(reviews.size() == 1);
  // A review of a stubbed entry is refused as pruned.
  bool note_required = false;
  CHECK(log.log->AppendReview(3, store::ReviewInput{"confirmed", "", ""}, "reviewer", &review, "", &note_required).code() ==
        base::Status::Code::kNotFound);
  // Once the reviews are past the horizon, the match goes with them.
  AuditEntry newest;
  REQUIRE(log.log->Get(log.log->last_seq(), &newest).ok());
  REQUIRE(log.log->Prune(Policy(newest.time_ms + 1, newest.time_ms + 1, 3), &r).ok());
  CHECK(r.base_seq >= review.seq);
  CHECK(log.log->Pruned(match.seq));
  REQUIRE(log.log->ReviewsOf(match.seq, &reviews).ok());
  CHECK(reviews.empty());
  CHECK(log.log->Verify().ok);
}

TEST_CASE("audit retention: stubs are cut with the prefix once older than retain (they have no index keys)") {
  Instance log(kKey);
  const auto [first, last] = AppendNoMatchTail(*log.log, 30);
  PruneResult r;
  REQUIRE(log.log->Prune(Policy(first - 1, last, 4), &r).ok());  // stubs only
  CHECK(r.base_seq == 0);
  CHECK(r.stubbed == 30);
  REQUIRE(log.log->Prune(Policy(last, last, 4), &r).ok());  // everything older than the newest screen
  CHECK(r.base_seq == 30);
  CHECK(r.cut == 30);
  const auto v = log.log->Verify();
  CHECK_MESSAGE(v.ok, v.problem);
  CHECK(v.base_seq == 30);
}

TEST_CASE("audit retention: a keyed log is not pruned without its key") {
  Instance log(kKey);
  const auto [first, last] = AppendNoMatchTail(*log.log, 5);
  log.hmac_key.clear();
  log.Open();
  PruneResult r;
  const base::Status s = log.log->Prune(Policy(last, last, 4), &r);
  CHECK(s.code() == base::Status::Code::kInvalidArgument);
  CHECK(s.message().find("hmac_key_file") != std::string::npos);
  CHECK(log.log->base_seq() == 0);
  log.hmac_key = kKey;
  log.Open();
  CHECK(log.log->Verify().ok);
  (void)first;
}
