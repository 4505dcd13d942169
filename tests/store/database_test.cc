#include <doctest/doctest.h>

#include "store/database.h"
#include "tests/test_support.h"

using store::Database;

TEST_CASE("a new database gets a schema version and a stable instance id") {
  testing_support::TempDir dir;
  std::string id;
  {
    std::unique_ptr<Database> db;
    REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
    id = db->instance_id();
    CHECK(id.size() == 32);
  }
  std::unique_ptr<Database> db;
  REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
  CHECK(db->instance_id() == id);
}

TEST_CASE("a database of another schema version is refused with a clear error") {
  testing_support::TempDir dir;
  {
    std::unique_ptr<Database> db;
    REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
    rocksdb::WriteBatch b;
    b.Put(db->family(Database::kMeta), "schema_version", std::string("\0\0\0\x63", 4));
    REQUIRE(db->Write(&b, true).ok());
  }
  std::unique_ptr<Database> db;
  auto s = Database::Open(dir.path().string(), {}, &db);
  CHECK(s.code() == base::Status::Code::kCorruption);
  CHECK(s.message().find("schema version 99") != std::string::npos);
}

TEST_CASE("a second open of the same directory fails instead of corrupting it") {
  testing_support::TempDir dir;
  std::unique_ptr<Database> a, b;
  REQUIRE(Database::Open(dir.path().string(), {}, &a).ok());
  auto s = Database::Open(dir.path().string(), {}, &b);
  CHECK(!s.ok());
  CHECK(s.code() == base::Status::Code::kIOError);
}
