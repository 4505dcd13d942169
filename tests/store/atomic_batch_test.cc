#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "store/atomic_batch.h"
#include "tests/test_support.h"

using store::AtomicBatch;
using store::Database;

namespace {

size_t StagingFiles(const Database& db) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(db.dir() + "/ingest-staging")) ++n;
  return n;
}

bool Has(Database& db, Database::Family f, const std::string& key, std::string* value = nullptr) {
  std::string v;
  bool ok = db.Get(f, key, &v).ok();
  if (value) *value = v;
  return ok;
}

}  // namespace

TEST_CASE("an atomic batch commits puts and deletes across families, by WriteBatch or by ingestion") {
  for (auto mode : {AtomicBatch::Mode::kWriteBatch, AtomicBatch::Mode::kIngest}) {
    CAPTURE(static_cast<int>(mode));
    testing_support::TempDir dir;
    std::unique_ptr<Database> db;
    REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
    {
      AtomicBatch first(db.get(), AtomicBatch::Mode::kWriteBatch, 0);
      first.Put(Database::kSignals, "k1", "old");
      first.Put(Database::kSignals, "k3", "gone soon");
      REQUIRE(first.Commit().ok());
    }
    AtomicBatch b(db.get(), mode, 0);
    b.Put(Database::kSignals, "k1", "new");  // overwrites
    b.Put(Database::kSignals, "k2", "two");
    b.Delete(Database::kSignals, "k3");
    b.Put(Database::kChanges, "c1", "change");
    b.Put(Database::kBatches, "b1", "batch");
    REQUIRE(b.Commit().ok());
    std::string v;
    CHECK((Has(*db, Database::kSignals, "k1", &v) && v == "new"));
    CHECK((Has(*db, Database::kSignals, "k2", &v) && v == "two"));
    CHECK(!Has(*db, Database::kSignals, "k3"));
    CHECK(Has(*db, Database::kChanges, "c1"));
    CHECK(Has(*db, Database::kBatches, "b1"));
    CHECK(StagingFiles(*db) == 0);
    // And it all survives a reopen.
    db.reset();
    REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
    CHECK((Has(*db, Database::kSignals, "k1", &v) && v == "new"));
    CHECK(!Has(*db, Database::kSignals, "k3"));
    CHECK(Has(*db, Database::kChanges, "c1"));
  }
}

TEST_CASE("an ingested batch with a key out of order fails whole and leaves nothing behind") {
  testing_support::TempDir dir;
  std::unique_ptr<Database> db;
  REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
  {
    AtomicBatch b(db.get(), AtomicBatch::Mode::kIngest, 0);
    b.Put(Database::kChanges, "c1", "change");
    b.Put(Database::kSignals, "k2", "two");
    b.Put(Database::kSignals, "k1", "out of order");
    b.Put(Database::kBatches, "b1", "batch");
    base::Status s = b.Commit();
    CHECK(!s.ok());
    CHECK(s.message().find("staging file") != std::string::npos);
  }
  CHECK(!Has(*db, Database::kChanges, "c1"));
  CHECK(!Has(*db, Database::kSignals, "k2"));
  CHECK(!Has(*db, Database::kBatches, "b1"));
  CHECK(StagingFiles(*db) == 0);
}

TEST_CASE("staging files left by a killed process are removed at open") {
  testing_support::TempDir dir;
  {
    std::unique_ptr<Database> db;
    REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
  }
  const auto stale = dir.path() / "ingest-staging" / "7-signals.sst";
  { std::ofstream(stale) << "half-written"; }
  REQUIRE(std::filesystem::exists(stale));
  std::unique_ptr<Database> db;
  REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
  CHECK(!std::filesystem::exists(stale));
  CHECK(std::filesystem::is_directory(dir.path() / "ingest-staging"));
}
