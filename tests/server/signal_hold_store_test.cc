// store::SignalHolds on a real RocksDB: holds survive a reopen, Put is
// idempotent (the first hold stands), Release of what is not held is
// NotFound, bad holds are refused, and a stored hold that does not decode
// (truncated, unknown reason or format) refuses to open rather than being
// skipped: a skipped hold would let a suppressed signal match again.
// Quarantine exemptions likewise.
#include <doctest/doctest.h>

#include "store/signal_holds.h"
#include "tests/test_support.h"

using base::SignalType;
using store::HoldReason;
using store::SignalHold;
using store::SignalHolds;

namespace {

SignalHold Hold(uint64_t list, char fill, HoldReason reason = HoldReason::kSuppressed) {
  SignalHold h;
  h.list_id = list;
  h.type = SignalType::kPdq;
  h.hash.assign(32, fill);
  h.reason = reason;
  h.time_ms = 1234;
  h.by = "0123456789abcdef";
  h.why = "why";
  h.source_seq = 7;
  return h;
}

}  // namespace

TEST_CASE("signal holds: persisted, idempotent, released, reopened") {
  testing_support::TempDir dir;
  {
    std::unique_ptr<store::Database> db;
    REQUIRE(store::Database::Open(dir.path().string(), {}, &db).ok());
    std::unique_ptr<SignalHolds> holds;
    REQUIRE(SignalHolds::Open(db.get(), &holds).ok());
    CHECK(holds->filter() == nullptr);
    bool added = false;
    REQUIRE(holds->Put(Hold(1, 'a'), &added).ok());
    CHECK(added);
    CHECK(holds->filter() == holds.get());
    SignalHold again = Hold(1, 'a', HoldReason::kQuarantined);
    REQUIRE(holds->Put(again, &added).ok());
    CHECK_FALSE(added);
    REQUIRE(holds->Put(Hold(2, 'b', HoldReason::kQuarantined), &added).ok());
    CHECK(holds->Held(1, SignalType::kPdq, std::string(32, 'a')));
    CHECK_FALSE(holds->Held(2, SignalType::kPdq, std::string(32, 'a')));
    CHECK(holds->Count(HoldReason::kSuppressed) == 1);
    CHECK(holds->FromSource(7).size() == 1);

    SignalHold bad = Hold(3, 'c');
    bad.hash.resize(16);
    CHECK(holds->Put(bad, &added).code() == base::Status::Code::kInvalidArgument);
    bad = Hold(3, 'c');
    bad.why.assign(5000, 'w');
    CHECK(holds->Put(bad, &added).code() == base::Status::Code::kInvalidArgument);
    SignalHold released;
    CHECK(holds->Release(9, SignalType::kPdq, std::string(32, 'a'), &released).code() == base::Status::Code::kNotFound);
    REQUIRE(holds->Release(2, SignalType::kPdq, std::string(32, 'b'), &released).ok());
    CHECK(released.reason == HoldReason::kQuarantined);
  }
  std::unique_ptr<store::Database> db;
  REQUIRE(store::Database::Open(dir.path().string(), {}, &db).ok());
  std::unique_ptr<SignalHolds> holds;
  REQUIRE(SignalHolds::Open(db.get(), &holds).ok());
  const std::vector<SignalHold> all = holds->List();
  REQUIRE(all.size() == 1);
  CHECK(all[0].list_id == 1);
  CHECK(all[0].reason == HoldReason::kSuppressed);  // the first hold stood
  CHECK(all[0].by == "0123456789abcdef");
  CHECK(all[0].why == "why");
  CHECK(all[0].source_seq == 7);
  CHECK(all[0].time_ms == 1234);
}

TEST_CASE("signal holds: a stored hold that does not decode refuses the open") {
  const SignalHold h = Hold(1, 'a');
  const std::string key = store::HoldKey(h.list_id, h.type, h.hash);
  const std::string value = store::EncodeHold(h);
  SignalHold out;
  REQUIRE(store::DecodeHold(key, value, &out).ok());
  for (size_t n = 0; n < value.size(); ++n) CHECK_FALSE(store::DecodeHold(key, value.substr(0, n), &out).ok());
  CHECK_FALSE(store::DecodeHold(key, value + "x", &out).ok());
  std::string wrong = value;
  wrong[1] = 9;  // no such reason
  CHECK_FALSE(store::DecodeHold(key, wrong, &out).ok());
  wrong = value;
  wrong[0] = 2;  // no such format
  CHECK_FALSE(store::DecodeHold(key, wrong, &out).ok());
  CHECK_FALSE(store::DecodeHold(key.substr(0, key.size() - 1), value, &out).ok());

  testing_support::TempDir dir;
  {
    std::unique_ptr<store::Database> db;
    REQUIRE(store::Database::Open(dir.path().string(), {}, &db).ok());
    rocksdb::WriteBatch batch;
    batch.Put(db->family(store::Database::kMeta), key, value.substr(0, 5));
    REQUIRE(db->Write(&batch, true).ok());
  }
  std::unique_ptr<store::Database> db;
  REQUIRE(store::Database::Open(dir.path().string(), {}, &db).ok());
  std::unique_ptr<SignalHolds> holds;
  CHECK(SignalHolds::Open(db.get(), &holds).code() == base::Status::Code::kCorruption);
}

TEST_CASE("signal holds: quarantine exemptions are persisted, idempotent, kept apart from holds, checked on open") {
  store::QuarantineExemption e;
  e.list_id = 4;
  e.type = SignalType::kMd5;
  e.hash.assign(16, 'm');
  e.reason = store::ExemptReason::kReleased;
  e.time_ms = 99;
  e.by = "0123456789abcdef";
  testing_support::TempDir dir;
  {
    std::unique_ptr<store::Database> db;
    REQUIRE(store::Database::Open(dir.path().string(), {}, &db).ok());
    std::unique_ptr<SignalHolds> holds;
    REQUIRE(SignalHolds::Open(db.get(), &holds).ok());
    CHECK_FALSE(holds->QuarantineExempt(4, SignalType::kMd5, e.hash));
    bool added = false;
    REQUIRE(holds->Exempt(e, &added).ok());
    CHECK(added);
    store::QuarantineExemption again = e;
    again.reason = store::ExemptReason::kConfirmed;
    REQUIRE(holds->Exempt(again, &added).ok());
    CHECK_FALSE(added);
    // An exemption is no hold: the signal still matches.
    CHECK(holds->filter() == nullptr);
    CHECK_FALSE(holds->Held(4, SignalType::kMd5, e.hash));
    CHECK(holds->QuarantineExempt(4, SignalType::kMd5, e.hash));
    CHECK_FALSE(holds->QuarantineExempt(5, SignalType::kMd5, e.hash));
    CHECK_FALSE(holds->QuarantineExempt(4, SignalType::kPdq, std::string(32, 'm')));
    store::QuarantineExemption bad = e;
    bad.hash.resize(15);
    CHECK(holds->Exempt(bad, &added).code() == base::Status::Code::kInvalidArgument);
    bad = e;
    bad.by.assign(300, 'b');
    CHECK(holds->Exempt(bad, &added).code() == base::Status::Code::kInvalidArgument);
  }
  {
    std::unique_ptr<store::Database> db;
    REQUIRE(store::Database::Open(dir.path().string(), {}, &db).ok());
    std::unique_ptr<SignalHolds> holds;
    REQUIRE(SignalHolds::Open(db.get(), &holds).ok());
    CHECK(holds->QuarantineExempt(4, SignalType::kMd5, e.hash));
    const std::vector<store::QuarantineExemption> all = holds->Exemptions();
    REQUIRE(all.size() == 1);
    CHECK(all[0].reason == store::ExemptReason::kReleased);  // the first reason stood
    CHECK(all[0].by == e.by);
    CHECK(all[0].time_ms == 99);
    CHECK(holds->List().empty());
  }
  // A stored exemption that does not decode refuses the open: skipping it
  // would let the flood detector quarantine a signal a reviewer vouched for.
  const std::string key = store::ExemptionKey(e.list_id, e.type, e.hash);
  const std::string value = store::EncodeExemption(e);
  store::QuarantineExemption out;
  REQUIRE(store::DecodeExemption(key, value, &out).ok());
  for (size_t n = 0; n < value.size(); ++n) CHECK_FALSE(store::DecodeExemption(key, value.substr(0, n), &out).ok());
  std::string wrong = value;
  wrong[1] = 3;
  CHECK_FALSE(store::DecodeExemption(key, wrong, &out).ok());
  {
    std::unique_ptr<store::Database> db;
    REQUIRE(store::Database::Open(dir.path().string(), {}, &db).ok());
    rocksdb::WriteBatch batch;
    batch.Put(db->family(store::Database::kMeta), key, value + "x");
    REQUIRE(db->Write(&batch, true).ok());
  }
  std::unique_ptr<store::Database> db;
  REQUIRE(store::Database::Open(dir.path().string(), {}, &db).ok());
  std::unique_ptr<SignalHolds> holds;
  CHECK(SignalHolds::Open(db.get(), &holds).code() == base::Status::Code::kCorruption);
}
