// store::SignalHolds on a real RocksDB: holds survive a reopen, Put is
// idempotent (the first hold stands), Release of what is not held is
// NotFound, bad holds are refused, and a stored hold that does not decode
// (truncated, unknown reason or format) refuses to open rather than being
// skipped: a skipped hold would let a suppressed signal match again.
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
