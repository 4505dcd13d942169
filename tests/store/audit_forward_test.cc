// AuditLog::AppendForwarded with real RocksDB logs: a follower's chain kept
// in a primary's log (idempotent by instance and seq, every link checked,
// nothing stored of a refused batch), Verify over the forwarded chains and
// their recorded heads, the instance filter, reviews of forwarded screens.
#include <doctest/doctest.h>

#include "store/audit_log.h"
#include "tests/test_support.h"

using store::AuditEntry;
using store::AuditLog;
using store::Database;
using store::ForwardResult;

namespace {

struct Instance {
  testing_support::TempDir dir;
  std::unique_ptr<Database> db;
  std::unique_ptr<AuditLog> log;
  explicit Instance(const AuditLog::Options& options = {}) {
    REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
    REQUIRE(AuditLog::Open(db.get(), options, &log).ok());
  }
  void Screens(int n, const std::string& ref_prefix) {
    for (int i = 0; i < n; ++i) {
      AuditEntry e;
      e.source = "hashes";
      e.caller_ref = ref_prefix + std::to_string(i);
      e.verdict = i % 2 ? "match" : "no_match";
      e.pdq_hex = std::string(64, 'a');
      e.request_id = "req-" + std::to_string(i);
      if (i % 2) e.hits.push_back({7, "known", "acme", "r1", "block", "pdq", std::string(64, 'b'), 3, 0});
      REQUIRE(log->Append(&e).ok());
    }
  }
  std::vector<std::string> Stored(uint64_t after, size_t n) {
    std::vector<std::string> out;
    REQUIRE(log->ReadStored(after, n, 1 << 20, &out).ok());
    return out;
  }
};

base::Status Forward(Instance& primary, const Instance& from, const std::vector<std::string>& entries, ForwardResult* r) {
  return primary.log->AppendForwarded(from.db->instance_id(), entries, "replica-key", "", r);
}

void Put(Instance& f, Database::Family family, const std::string& key, const std::string& value) {
  rocksdb::WriteBatch batch;
  batch.Put(f.db->family(family), key, value);
  REQUIRE(f.db->Write(&batch, true).ok());
}

}  // namespace

TEST_CASE("audit forward: a follower's chain is held entry for entry, retries are skipped, verify covers it") {
  Instance primary({"primary key, at least 16 bytes"}), follower;
  primary.Screens(2, "p-");
  follower.Screens(5, "f-");
  const auto all = follower.Stored(0, 100);
  REQUIRE(all.size() == 5);

  ForwardResult r;
  REQUIRE(Forward(primary, follower, {}, &r).ok());  // asks what is held
  CHECK(r.last_seq == 0);
  REQUIRE(Forward(primary, follower, {all[0], all[1], all[2]}, &r).ok());
  CHECK(r.stored == 3);
  CHECK(r.last_seq == 3);
  // The answer was lost: the same batch again, and more after it.
  REQUIRE(Forward(primary, follower, {all[1], all[2], all[3], all[4]}, &r).ok());
  CHECK(r.skipped == 2);
  CHECK(r.stored == 2);
  CHECK(r.last_seq == 5);
  REQUIRE(Forward(primary, follower, all, &r).ok());
  CHECK(r.stored == 0);
  CHECK(r.skipped == 5);
  CHECK(primary.log->last_seq() == 7);

  // Every field of every entry, as the follower holds it.
  for (uint64_t seq = 3; seq <= 7; ++seq) {
    AuditEntry e, original;
    REQUIRE(primary.log->Get(seq, &e).ok());
    REQUIRE(e.kind == AuditEntry::Kind::kForwarded);
    REQUIRE(e.origin);
    CHECK(e.instance == follower.db->instance_id());
    REQUIRE(follower.log->Get(e.origin->seq, &original).ok());
    CHECK(e.origin->seq == seq - 2);
    CHECK(e.origin->caller_ref == original.caller_ref);
    CHECK(e.origin->request_id == original.request_id);
    CHECK(e.origin->verdict == original.verdict);
    CHECK(e.origin->hits.size() == original.hits.size());
    CHECK(e.origin->time_ms == original.time_ms);
    CHECK(e.origin->entry_hash == original.entry_hash);
    CHECK(e.key_id == "replica-key");
  }
  const auto v = primary.log->Verify();
  CHECK_MESSAGE(v.ok, v.problem);
  CHECK(v.entries == 7);
  REQUIRE(v.forwarded.size() == 1);
  CHECK(v.forwarded[0].instance == follower.db->instance_id());
  CHECK(v.forwarded[0].entries == 5);
  CHECK(v.forwarded[0].last_seq == 5);
  CHECK(v.forwarded[0].last_hash == follower.log->Verify().head);

  // The instance filter, with the other filters applied to the origin.
  store::AuditQuery q;
  std::vector<AuditEntry> out;
  uint64_t next = 0;
  q.instance = follower.db->instance_id();
  REQUIRE(primary.log->Query(q, &out, &next).ok());
  CHECK(out.size() == 5);
  q.verdict = "match";
  REQUIRE(primary.log->Query(q, &out, &next).ok());
  CHECK(out.size() == 2);
  q = {};
  q.instance = primary.db->instance_id();
  REQUIRE(primary.log->Query(q, &out, &next).ok());
  CHECK(out.size() == 2);
  q.list_id = 7;
  q.instance.reset();
  REQUIRE(primary.log->Query(q, &out, &next).ok());
  CHECK(out.size() == 3);  // the follower's two matches and the primary's own

  // Reviews of forwarded screens are written here, like any other.
  AuditEntry review;
  REQUIRE(primary.log->AppendReview(4, "confirmed", "seen", "reviewer", &review).ok());
  std::vector<AuditEntry> reviews;
  REQUIRE(primary.log->ReviewsOf(4, &reviews).ok());
  CHECK(reviews.size() == 1);

  // A restarted primary continues the same chains.
  primary.log.reset();
  REQUIRE(AuditLog::Open(primary.db.get(), {"primary key, at least 16 bytes"}, &primary.log).ok());
  follower.Screens(1, "late-");
  REQUIRE(Forward(primary, follower, follower.Stored(5, 10), &r).ok());
  CHECK(r.last_seq == 6);
  CHECK(primary.log->Verify().ok);
}

TEST_CASE("audit forward: gaps, broken links, altered entries and rewritten history are refused, nothing stored") {
  Instance primary, follower, other;
  follower.Screens(4, "f-");
  other.Screens(4, "o-");
  const auto all = follower.Stored(0, 100);
  const auto foreign = other.Stored(0, 100);
  ForwardResult r;
  REQUIRE(Forward(primary, follower, {all[0], all[1]}, &r).ok());
  const uint64_t before = primary.log->last_seq();

  auto refused = [&](const std::vector<std::string>& batch, base::Status::Code code) {
    const base::Status s = Forward(primary, follower, batch, &r);
    CHECK_MESSAGE(s.code() == code, s.ToString());
    CHECK(primary.log->last_seq() == before);
  };
  refused({all[3]}, base::Status::Code::kCorruption);                  // gap
  refused({all[2], all[2]}, base::Status::Code::kCorruption);          // not contiguous
  refused({foreign[2]}, base::Status::Code::kCorruption);              // links to another chain
  refused({all[2], foreign[3]}, base::Status::Code::kCorruption);      // the second does not link
  std::string altered = all[2];
  altered[altered.find("f-2")] = 'g';  // the caller's ref, inside the hashed bytes
  refused({altered}, base::Status::Code::kCorruption);
  std::string rehashed = all[2];
  rehashed[rehashed.size() - 10] ^= 1;  // inside entry_hash
  refused({rehashed}, base::Status::Code::kCorruption);
  refused({"not an entry"}, base::Status::Code::kCorruption);
  refused({all[2].substr(0, all[2].size() - 1)}, base::Status::Code::kCorruption);
  // Old entries sent again with a field changed: a rewritten history.
  std::string changed = all[1];
  changed[changed.find("f-1")] = 'x';
  refused({all[0], changed, all[2]}, base::Status::Code::kAlreadyExists);
  refused({foreign[0]}, base::Status::Code::kAlreadyExists);
  // Own instance, bad ids, too many entries.
  CHECK(primary.log->AppendForwarded(primary.db->instance_id(), {}, "k", "", &r).code() ==
        base::Status::Code::kInvalidArgument);
  CHECK(primary.log->AppendForwarded("ABC", {}, "k", "", &r).code() == base::Status::Code::kInvalidArgument);
  CHECK(primary.log->AppendForwarded(std::string(32, 'g'), {}, "k", "", &r).code() ==
        base::Status::Code::kInvalidArgument);
  CHECK(primary.log->AppendForwarded(follower.db->instance_id(),
                                     std::vector<std::string>(AuditLog::kMaxForwardEntries + 1, all[2]), "k", "", &r)
            .code() == base::Status::Code::kInvalidArgument);
  // A forwarded entry is not forwarded again (one level only).
  REQUIRE(Forward(primary, follower, {all[2]}, &r).ok());
  const auto nested = primary.Stored(0, 100);
  ForwardResult r2;
  CHECK(other.log->AppendForwarded(primary.db->instance_id(), nested, "k", "", &r2).code() ==
        base::Status::Code::kCorruption);
  CHECK(primary.log->Verify().ok);
  // Append refuses the forwarded kind: only AppendForwarded checks links.
  AuditEntry fake;
  fake.kind = AuditEntry::Kind::kForwarded;
  CHECK(primary.log->Append(&fake).code() == base::Status::Code::kInvalidArgument);
}

TEST_CASE("audit forward: verify notices a forwarded head record that was altered or removed") {
  Instance primary, follower;
  follower.Screens(3, "f-");
  ForwardResult r;
  REQUIRE(Forward(primary, follower, follower.Stored(0, 10), &r).ok());
  REQUIRE(primary.log->Verify().ok);
  const std::string key = "audit_fwd_head/" + follower.db->instance_id();
  std::string head;
  REQUIRE(primary.db->Get(Database::kMeta, key, &head).ok());
  std::string cut = head;
  cut[7] = 2;  // the head says entry 2: the next forward would fork the chain
  Put(primary, Database::kMeta, key, cut);
  auto v = primary.log->Verify();
  CHECK_FALSE(v.ok);
  CHECK(v.problem.find("recorded head") != std::string::npos);
  rocksdb::WriteBatch del;
  del.Delete(primary.db->family(Database::kMeta), key);
  REQUIRE(primary.db->Write(&del, true).ok());
  v = primary.log->Verify();
  CHECK_FALSE(v.ok);
  Put(primary, Database::kMeta, key, head);
  CHECK(primary.log->Verify().ok);
}
