// A full disk under the store, on a real small filesystem (a tmpfs mounted
// for the test; tests/small_filesystem.h): writes fail with NoSpace and
// apply nothing, the process never aborts, writing resumes once space
// returns, and everything acknowledged is still there after a reopen.
#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <thread>

#include "store/audit_log.h"
#include "store/hash_lists.h"
#include "tests/small_filesystem.h"
#include "tests/test_support.h"

using base::Status;
using base::SignalEntry;
using base::SignalType;
using store::AuditEntry;
using store::AuditLog;
using store::Database;
using store::HashLists;
using testing_support::SmallFilesystem;
using testing_support::TempDir;

namespace {

constexpr uint64_t kDiskBytes = 8 << 20;

AuditEntry Screen(uint64_t i) {
  AuditEntry e;
  e.key_id = "0123456789abcdef";
  e.source = "hashes";
  e.caller_ref = "item-" + std::to_string(i);
  e.verdict = "no_match";
  e.md5_hex = std::string(32, 'a');
  return e;
}

// Waits (bounded) until the store says it is writable again.
bool WaitWritable(Database* db) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (db->ProbeWritable().ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

SignalEntry RandomMd5(std::mt19937_64& rng) {
  std::string h(16, '\0');
  for (auto& c : h) c = static_cast<char>(rng());
  return {SignalType::kMd5, h, "ref"};
}

}  // namespace

TEST_CASE("audit appends on a full disk fail with NoSpace, resume when space returns, and lose nothing acknowledged") {
  TempDir tmp;
  SmallFilesystem disk(tmp.path() / "db", kDiskBytes);
  if (!disk.mounted()) return;
  std::vector<uint64_t> acked;
  std::array<uint8_t, 32> last_hash{};
  {
    std::unique_ptr<Database> db;
    REQUIRE(Database::Open(disk.dir().string(), {}, &db).ok());
    std::unique_ptr<AuditLog> log;
    REQUIRE(AuditLog::Open(db.get(), {}, &log).ok());
    for (uint64_t i = 0; i < 20; ++i) {
      AuditEntry e = Screen(i);
      REQUIRE(log->Append(&e).ok());
      acked.push_back(e.seq);
    }
    REQUIRE(disk.Fill(16 << 10));
    Status failed;
    for (uint64_t i = 0; i < 1'000'000 && failed.ok(); ++i) {
      AuditEntry e = Screen(i);
      failed = log->Append(&e);
      if (failed.ok()) acked.push_back(e.seq);
    }
    REQUIRE_MESSAGE(failed.code() == Status::Code::kNoSpace, failed.ToString());
    CHECK(db->write_health().writable == false);
    CHECK(db->write_health().reason == store::WriteHealth::Reason::kNoSpace);
    CHECK(db->write_health().no_space_errors >= 1);
    // RocksDB now refuses writes: more appends fail the same way, and the
    // chain head stays at the last acknowledged entry.
    for (int i = 0; i < 5; ++i) {
      AuditEntry e = Screen(i);
      CHECK(log->Append(&e).code() == Status::Code::kNoSpace);
    }
    CHECK(log->last_seq() == acked.back());
    CHECK(db->ProbeWritable().code() == Status::Code::kNoSpace);

    disk.Free();
    REQUIRE(WaitWritable(db.get()));
    CHECK(db->write_health().writable);
    for (uint64_t i = 0; i < 20; ++i) {
      AuditEntry e = Screen(i);
      REQUIRE(log->Append(&e).ok());
      CHECK(e.seq == acked.back() + 1);
      acked.push_back(e.seq);
    }
    auto v = log->Verify();
    CHECK_MESSAGE(v.ok, v.problem);
    last_hash = v.head;
  }
  std::unique_ptr<Database> db;
  REQUIRE(Database::Open(disk.dir().string(), {}, &db).ok());
  std::unique_ptr<AuditLog> log;
  REQUIRE(AuditLog::Open(db.get(), {}, &log).ok());
  auto v = log->Verify();
  CHECK_MESSAGE(v.ok, v.problem);
  CHECK(v.entries == acked.back());
  CHECK(v.head == last_hash);
  for (uint64_t seq : acked) {
    AuditEntry e;
    CHECK(log->Get(seq, &e).ok());
  }
}

TEST_CASE("list batches on a full disk fail whole by ingestion and by WriteBatch, and apply once space returns") {
  TempDir tmp;
  SmallFilesystem disk(tmp.path() / "db", kDiskBytes);
  if (!disk.mounted()) return;
  std::unique_ptr<Database> db;
  REQUIRE(Database::Open(disk.dir().string(), {}, &db).ok());
  HashLists::Options options;
  options.ingest_from_changes = 2000;
  std::unique_ptr<HashLists> lists;
  REQUIRE(HashLists::Open(db.get(), options, &lists).ok());
  store::ListInfo info;
  REQUIRE(lists->CreateList({"l", "p", base::ListKind::kBlock, 31}, &info).ok());
  std::mt19937_64 rng(7);
  auto large_batch = [&](const std::string& id) {
    store::BatchRequest b{id, {}, {}};
    for (int i = 0; i < 3000; ++i) b.add.push_back(RandomMd5(rng));
    return b;
  };
  store::ListInfo before;
  REQUIRE(lists->GetList(info.id, &before).ok());

  REQUIRE(disk.Fill(16 << 10));
  // A large batch is written as SST files and ingested: the files do not
  // fit, the batch is refused whole and no staging file is left behind.
  const store::BatchRequest large = large_batch("large");
  store::BatchResult r;
  Status s = lists->ApplyBatch(info.id, large, &r);
  CHECK_MESSAGE(s.code() == Status::Code::kNoSpace, s.ToString());
  CHECK(std::filesystem::is_empty(disk.dir() / "ingest-staging"));

  // Small batches (one WriteBatch each) until the disk refuses one; the
  // refused one changes nothing.
  store::BatchRequest refused;
  s = Status::Ok();
  for (int i = 0; i < 100000 && s.ok(); ++i) {
    refused = store::BatchRequest{"small-" + std::to_string(i), {RandomMd5(rng), RandomMd5(rng)}, {}};
    s = lists->ApplyBatch(info.id, refused, &r);
    if (s.ok()) REQUIRE(lists->GetList(info.id, &before).ok());
  }
  REQUIRE_MESSAGE(s.code() == Status::Code::kNoSpace, s.ToString());
  CHECK_FALSE(db->write_health().writable);
  std::vector<store::Change> changes;
  uint64_t next = 0;
  REQUIRE(lists->Changes(info.id, 0, 1'000'000, &changes, &next).ok());
  CHECK(changes.size() == before.last_seq);
  // While RocksDB refuses writes, a large batch is refused too.
  CHECK(lists->ApplyBatch(info.id, large_batch("large-2"), &r).code() == Status::Code::kNoSpace);

  store::ListInfo after;
  REQUIRE(lists->GetList(info.id, &after).ok());
  CHECK(after.last_seq == before.last_seq);
  CHECK(after.signal_count == before.signal_count);
  REQUIRE(lists->Changes(info.id, 0, 1'000'000, &changes, &next).ok());
  CHECK(changes.size() == before.last_seq);
  for (const store::BatchRequest* batch : std::array<const store::BatchRequest*, 2>{&refused, &large}) {
    SignalEntry got;
    int64_t added_ms = 0;
    CHECK(lists->LookupSignal(info.id, batch->add[0].type, batch->add[0].hash, &got, &added_ms).code() ==
          Status::Code::kNotFound);
    CHECK(lists->Screen([&] {
                   idx::ScreenQuery q;
                   std::array<uint8_t, 16> md5{};
                   std::copy(batch->add[0].hash.begin(), batch->add[0].hash.end(), md5.begin());
                   q.md5 = md5;
                   return q;
                 }())
              .block_hits.empty());
  }

  disk.Free();
  REQUIRE(WaitWritable(db.get()));
  // The refused batch ids were never recorded: they apply now, in full (the
  // large one by WriteBatch: RocksDB stopped once, so no ingestion until the
  // next start).
  CHECK_FALSE(db->IngestionSafe());
  REQUIRE(lists->ApplyBatch(info.id, refused, &r).ok());
  CHECK_FALSE(r.replayed);
  CHECK(r.added == refused.add.size());
  REQUIRE(lists->ApplyBatch(info.id, large, &r).ok());
  CHECK_FALSE(r.replayed);
  CHECK(r.added == large.add.size());
  REQUIRE(lists->GetList(info.id, &after).ok());
  CHECK(after.signal_count == before.signal_count + refused.add.size() + large.add.size());

  // After a restart large batches are ingested again.
  lists.reset();
  db.reset();
  REQUIRE(Database::Open(disk.dir().string(), {}, &db).ok());
  REQUIRE(HashLists::Open(db.get(), options, &lists).ok());
  CHECK(db->IngestionSafe());
  REQUIRE(lists->ApplyBatch(info.id, large_batch("after-restart"), &r).ok());
  CHECK(r.added == 3000);
  REQUIRE(lists->GetList(info.id, &after).ok());
  CHECK(after.signal_count == before.signal_count + refused.add.size() + 2 * large.add.size());
}

TEST_CASE("opening a database on a full disk is a clear error, not an abort, and the data is intact after") {
  TempDir tmp;
  SmallFilesystem disk(tmp.path() / "db", kDiskBytes);
  if (!disk.mounted()) return;
  uint64_t last = 0;
  {
    std::unique_ptr<Database> db;
    REQUIRE(Database::Open(disk.dir().string(), {}, &db).ok());
    std::unique_ptr<AuditLog> log;
    REQUIRE(AuditLog::Open(db.get(), {}, &log).ok());
    for (uint64_t i = 0; i < 50; ++i) {
      AuditEntry e = Screen(i);
      REQUIRE(log->Append(&e).ok());
      last = e.seq;
    }
  }
  REQUIRE(disk.Fill(0));
  std::unique_ptr<Database> db;
  Status s = Database::Open(disk.dir().string(), {}, &db);
  if (s.ok()) {
    // Opening needed no new space; then the first write must fail cleanly.
    std::unique_ptr<AuditLog> log;
    REQUIRE(AuditLog::Open(db.get(), {}, &log).ok());
    AuditEntry e = Screen(0);
    s = log->Append(&e);
    db.reset();
  }
  CHECK_MESSAGE(s.code() == Status::Code::kNoSpace, s.ToString());
  disk.Free();
  REQUIRE(Database::Open(disk.dir().string(), {}, &db).ok());
  std::unique_ptr<AuditLog> log;
  REQUIRE(AuditLog::Open(db.get(), {}, &log).ok());
  auto v = log->Verify();
  CHECK_MESSAGE(v.ok, v.problem);
  CHECK(v.entries == last);
}
