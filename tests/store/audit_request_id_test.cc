// The audit entry's optional request id: entries without one are stored in
// format 1, byte for byte as before request ids existed (so old logs and
// old readers are unaffected); entries with one in format 2, where the id is
// covered by the chain hash like every other field.
#include <doctest/doctest.h>

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
  void Open() {
    log.reset();
    db.reset();
    REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
    REQUIRE(AuditLog::Open(db.get(), {}, &log).ok());
  }
  std::string Stored(uint64_t seq) {
    std::string v;
    REQUIRE(db->Get(Database::kAudit, store::AuditKey(seq), &v).ok());
    return v;
  }
  void Store(uint64_t seq, const std::string& v) {
    rocksdb::WriteBatch batch;
    batch.Put(db->family(Database::kAudit), store::AuditKey(seq), v);
    REQUIRE(db->Write(&batch, true).ok());
  }
};

AuditEntry Screen(const std::string& request_id) {
  AuditEntry e;
  e.key_id = "0123456789abcdef";
  e.source = "image";
  e.verdict = "no_match";
  e.request_id = request_id;
  return e;
}

}  // namespace

TEST_CASE("audit request ids: stored, read back, chained, and entries without one keep format 1") {
  Fixture f;
  f.Open();
  AuditEntry a = Screen(""), b = Screen("req-1.abc_DEF"), review, event;
  REQUIRE(f.log->Append(&a).ok());
  REQUIRE(f.log->Append(&b).ok());
  REQUIRE(f.log->AppendReview(2, "confirmed", "", "fedcba9876543210", &review, "rev-7").ok());
  REQUIRE(f.log->AppendEvent("key_created", "fedcba9876543210", "detail", &event, "").ok());
  CHECK(f.Stored(1)[0] == 1);
  CHECK(f.Stored(2)[0] == 2);
  CHECK(f.Stored(3)[0] == 2);
  CHECK(f.Stored(4)[0] == 1);
  f.Open();  // read back after a reopen
  AuditEntry got;
  REQUIRE(f.log->Get(1, &got).ok());
  CHECK(got.request_id.empty());
  REQUIRE(f.log->Get(2, &got).ok());
  CHECK(got.request_id == "req-1.abc_DEF");
  REQUIRE(f.log->Get(3, &got).ok());
  CHECK(got.request_id == "rev-7");
  CHECK(got.disposition == "confirmed");
  REQUIRE(f.log->Get(4, &got).ok());
  CHECK(got.request_id.empty());
  CHECK(f.log->Verify().ok);
}

TEST_CASE("audit request ids: altering the stored id breaks the chain and over 64 bytes is refused") {
  Fixture f;
  f.Open();
  AuditEntry a = Screen("abcdef"), b = Screen("");
  REQUIRE(f.log->Append(&a).ok());
  REQUIRE(f.log->Append(&b).ok());
  std::string v = f.Stored(1);
  const size_t at = v.find("abcdef");
  REQUIRE(at != std::string::npos);
  v[at] = 'x';
  f.Store(1, v);
  const store::AuditVerifyResult r = f.log->Verify();
  CHECK_FALSE(r.ok);
  CHECK(r.first_bad_seq == 1);

  AuditEntry too_long = Screen(std::string(65, 'a'));
  CHECK(f.log->Append(&too_long).code() == base::Status::Code::kInvalidArgument);
  AuditEntry longest = Screen(std::string(64, 'a'));
  CHECK(f.log->Append(&longest).ok());
}

TEST_CASE("audit request ids: a format-2 entry with an empty id (a second encoding) is corruption") {
  Fixture f;
  f.Open();
  AuditEntry a = Screen("");
  REQUIRE(f.log->Append(&a).ok());
  // Format byte 2 and an empty id (u64 length prefix 0) in the right place: the
  // canonical bytes end just before prev(32) + hash(32) + mac length(1).
  std::string v = f.Stored(1);
  v[0] = 2;
  v.insert(v.size() - 65, std::string(8, '\0'));  // u64 length 0
  f.Store(1, v);
  AuditEntry got;
  CHECK(f.log->Get(1, &got).code() == base::Status::Code::kCorruption);
  CHECK_FALSE(f.log->Verify().ok);
}
