// The partner metadata of list entries (store::SignalMeta: tags, first seen)
// that the exchanges store for reviewers: written with a batch, read back
// by HashLists::LookupSignal, entries without it (and every record of a
// database written before it existed) read unchanged, damaged records are
// Corruption, and an exchange's state (and the ncmec kind's entry index:
// several meta records, written or deleted) goes in the batch's atomic write.
#include <doctest/doctest.h>

#include "base/coding.h"
#include "store/database.h"
#include "store/hash_lists.h"
#include "store/key_encoding.h"
#include "tests/test_support.h"

namespace {

using base::Status;
using store::BatchRequest;
using store::BatchResult;
using store::Database;
using store::HashLists;
using store::SignalMeta;

base::SignalEntry Md5(char b, const std::string& ref) {
  base::SignalEntry e;
  e.type = base::SignalType::kMd5;
  e.hash = std::string(16, b);
  e.ref = ref;
  return e;
}

}  // namespace

TEST_CASE("exchange entry metadata: tags and first-seen stored with the entry, read by LookupSignal, across a reopen") {
  testing_support::TempDir dir;
  uint64_t id = 0;
  {
    std::unique_ptr<Database> db;
    REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
    std::unique_ptr<HashLists> lists;
    REQUIRE(HashLists::Open(db.get(), &lists).ok());
    store::ListInfo info;
    REQUIRE(lists->CreateList({"l", "exchange:x"}, &info).ok());
    id = info.id;
    BatchRequest b;
    b.batch_id = "b1";
    b.add = {Md5('a', "ref-a"), Md5('b', "ref-b")};
    b.add_meta = {SignalMeta{{"A", "csam:ncmec-label"}, 1700000000000}, SignalMeta{}};
    BatchResult r;
    REQUIRE(lists->ApplyBatch(id, b, "exchange/x", "state-1", &r).ok());
    CHECK(r.added == 2);
    std::string state;
    REQUIRE(db->Get(Database::kMeta, "exchange/x", &state).ok());
    CHECK(state == "state-1");

    // The same id with other metadata is different content.
    b.add_meta[0].tags = {"B"};
    CHECK(lists->ApplyBatch(id, b, &r).code() == Status::Code::kAlreadyExists);
    // Metadata must match the adds one to one, and tags are bounded.
    BatchRequest bad;
    bad.batch_id = "b2";
    bad.add = {Md5('c', "")};
    bad.add_meta = {SignalMeta{}, SignalMeta{}};
    CHECK(lists->ApplyBatch(id, bad, &r).code() == Status::Code::kInvalidArgument);
    bad.add_meta = {SignalMeta{{std::string(store::kMaxSignalTagBytes + 1, 't')}, 0}};
    CHECK(lists->ApplyBatch(id, bad, &r).code() == Status::Code::kInvalidArgument);
    bad.add_meta = {SignalMeta{{""}, 0}};
    CHECK(lists->ApplyBatch(id, bad, &r).code() == Status::Code::kInvalidArgument);
    // The store's own meta key is refused.
    bad.add_meta.clear();
    CHECK(lists->ApplyBatch(id, bad, "next_list_id", "x", &r).code() == Status::Code::kInvalidArgument);
  }
  std::unique_ptr<Database> db;
  REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
  std::unique_ptr<HashLists> lists;
  REQUIRE(HashLists::Open(db.get(), &lists).ok());
  base::SignalEntry e;
  int64_t added_ms = 0;
  SignalMeta meta;
  REQUIRE(lists->LookupSignal(id, base::SignalType::kMd5, std::string(16, 'a'), &e, &added_ms, &meta).ok());
  CHECK(e.ref == "ref-a");
  CHECK(added_ms > 0);
  CHECK(meta.tags == std::vector<std::string>{"A", "csam:ncmec-label"});
  CHECK(meta.first_seen_ms == 1700000000000);
  REQUIRE(lists->LookupSignal(id, base::SignalType::kMd5, std::string(16, 'b'), &e, &added_ms, &meta).ok());
  CHECK(e.ref == "ref-b");
  CHECK(meta.empty());
  std::vector<base::SignalEntry> all;
  REQUIRE(lists->ListSignals(id, &all).ok());
  REQUIRE(all.size() == 2);
  CHECK(all[0].ref == "ref-a");
}

TEST_CASE("exchange entry metadata: v1 records (before metadata) decode unchanged, damaged v2 records are Corruption") {
  std::string v1;
  base::PutU64(&v1, 123);
  v1 += "old-ref";
  int64_t added = 0;
  std::string ref;
  SignalMeta meta{{"stale"}, 9};
  REQUIRE(store::keys::DecodeSignalValue(v1, &added, &ref, &meta).ok());
  CHECK(added == 123);
  CHECK(ref == "old-ref");
  CHECK(meta.empty());
  // Without metadata, the encoding is still v1 byte for byte.
  CHECK(store::keys::EncodeSignalValue(123, "old-ref") == v1);
  std::string v2;
  SignalMeta m{{"A"}, 5};
  store::keys::AppendSignalValue(&v2, 123, "r", &m);
  REQUIRE(store::keys::DecodeSignalValue(v2, &added, &ref, &meta).ok());
  CHECK(meta.tags == std::vector<std::string>{"A"});
  for (size_t cut = 1; cut < v2.size(); ++cut) {
    CHECK(store::keys::DecodeSignalValue(v2.substr(0, cut), &added, &ref, &meta).code() == Status::Code::kCorruption);
  }
  std::string bad_version = v2;
  bad_version[1] = 7;
  CHECK(store::keys::DecodeSignalValue(bad_version, &added, &ref, &meta).code() == Status::Code::kCorruption);
}

TEST_CASE("exchange meta records: several written and deleted in the batch's atomic write, in any order, checked") {
  // Both write paths: a WriteBatch, and SST ingestion (keys must be sorted).
  for (const size_t ingest_from : {size_t{10000}, size_t{1}}) {
    CAPTURE(ingest_from);
    testing_support::TempDir dir;
    std::unique_ptr<Database> db;
    REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
    std::unique_ptr<HashLists> lists;
    HashLists::Options options;
    options.ingest_from_changes = ingest_from;
    REQUIRE(HashLists::Open(db.get(), options, &lists).ok());
    store::ListInfo info;
    REQUIRE(lists->CreateList({"l", "exchange:n"}, &info).ok());
    BatchRequest b;
    b.batch_id = "m1";
    b.add = {Md5('a', "42-1")};
    BatchResult r;
    // Out of key order on purpose: an ingested SST needs them sorted.
    REQUIRE(lists->ApplyBatch(info.id, b, {{"exchange/n/sig/x", "2"}, {"exchange/n", "state"}, {"exchange/n/ref/42-1", "1"}}, &r).ok());
    std::string v;
    REQUIRE(db->Get(Database::kMeta, "exchange/n/ref/42-1", &v).ok());
    CHECK(v == "1");
    REQUIRE(db->Get(Database::kMeta, "exchange/n/sig/x", &v).ok());

    b.batch_id = "m2";
    b.add.clear();
    b.remove = {Md5('a', "")};
    REQUIRE(lists->ApplyBatch(info.id, b, {{"exchange/n/ref/42-1", std::nullopt}, {"exchange/n", "state-2"}}, &r).ok());
    CHECK(r.removed == 1);
    CHECK(db->Get(Database::kMeta, "exchange/n/ref/42-1", &v).code() == Status::Code::kNotFound);
    REQUIRE(db->Get(Database::kMeta, "exchange/n", &v).ok());
    CHECK(v == "state-2");

    // A replayed batch writes none of its meta records.
    REQUIRE(lists->ApplyBatch(info.id, b, {{"exchange/n", "state-3"}}, &r).ok());
    CHECK(r.replayed);
    REQUIRE(db->Get(Database::kMeta, "exchange/n", &v).ok());
    CHECK(v == "state-2");

    // Refused whole: a key twice, an empty key, the store's own key.
    b.batch_id = "m3";
    b.remove.clear();
    b.add = {Md5('c', "r")};
    for (const auto& meta : std::vector<std::vector<HashLists::MetaWrite>>{
             {{"k", "1"}, {"k", "2"}}, {{"", "1"}}, {{"next_list_id", "9"}}}) {
      CHECK(lists->ApplyBatch(info.id, b, meta, &r).code() == Status::Code::kInvalidArgument);
    }
    base::SignalEntry e;
    int64_t added = 0;
    CHECK(lists->LookupSignal(info.id, base::SignalType::kMd5, std::string(16, 'c'), &e, &added).code() ==
          Status::Code::kNotFound);
  }
}
