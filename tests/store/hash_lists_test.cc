#include <doctest/doctest.h>

#include <map>
#include <random>

#include "store/hash_lists.h"
#include "store/key_encoding.h"
#include "tests/index/pdq_test_data.h"
#include "tests/test_support.h"

using namespace store_test;
using base::Status;
using store::BatchRequest;
using store::BatchResult;
using store::Database;
using store::HashLists;
using store::ListInfo;
using base::ListKind;
using base::SignalEntry;
using base::SignalType;

namespace {

std::string Raw(const base::PdqHash& h) { return std::string(reinterpret_cast<const char*>(h.bytes.data()), 32); }

SignalEntry Pdq(const base::PdqHash& h, std::string ref = "") { return {SignalType::kPdq, Raw(h), std::move(ref)}; }

// Batches from this many changes are ingested as SST files (the default), or
// every batch is (1): both commit paths must behave the same.
constexpr size_t kIngestLarge = HashLists::Options().ingest_from_changes;
constexpr size_t kIngestAll = 1;

struct Store {
  testing_support::TempDir dir;
  HashLists::Options options;
  std::unique_ptr<Database> db;
  std::unique_ptr<HashLists> lists;
  explicit Store(size_t ingest_from_changes = kIngestLarge) {
    options.ingest_from_changes = ingest_from_changes;
    Reopen();
  }
  void Reopen() {
    lists.reset();
    db.reset();
    REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
    REQUIRE(HashLists::Open(db.get(), options, &lists).ok());
  }
  uint64_t Create(const std::string& name, ListKind kind = ListKind::kBlock, int threshold = 31) {
    ListInfo info;
    REQUIRE(lists->CreateList({name, "partner-a", kind, threshold}, &info).ok());
    return info.id;
  }
};

idx::ScreenQuery QueryFor(const base::PdqHash& h) {
  idx::ScreenQuery q;
  q.use_pdq = true;
  q.num_pdq = 1;
  q.pdq[0] = h;
  return q;
}

}  // namespace

TEST_CASE("lists: create, unique names per owner, get, rename, disable, threshold") {
  Store s;
  ListInfo a, b, c;
  REQUIRE(s.lists->CreateList({"csam-a", "ncmec", ListKind::kBlock, 31}, &a).ok());
  CHECK(a.id == 1);
  CHECK(a.enabled);
  CHECK(a.created_ms > 0);
  CHECK(s.lists->CreateList({"csam-a", "ncmec", ListKind::kAllow, 31}, &b).code() == Status::Code::kAlreadyExists);
  REQUIRE(s.lists->CreateList({"csam-a", "other", ListKind::kAllow, 20}, &b).ok());
  CHECK(b.id == 2);
  CHECK(s.lists->CreateList({"x", "p", ListKind::kBlock, 64}, &c).code() == Status::Code::kInvalidArgument);
  CHECK(s.lists->CreateList({"", "p", ListKind::kBlock, 31}, &c).code() == Status::Code::kInvalidArgument);
  CHECK(s.lists->GetList(99, &c).code() == Status::Code::kNotFound);
  REQUIRE(s.lists->UpdateList(1, std::string("renamed"), false, 12).ok());
  CHECK(s.lists->UpdateList(2, std::nullopt, std::nullopt, -1).code() == Status::Code::kInvalidArgument);
  CHECK(s.lists->UpdateList(7, std::nullopt, true, std::nullopt).code() == Status::Code::kNotFound);
  s.Reopen();
  auto all = s.lists->Lists();
  REQUIRE(all.size() == 2);
  CHECK(all[0].name == "renamed");
  CHECK(!all[0].enabled);
  CHECK(all[0].pdq_threshold == 12);
  CHECK(all[1].kind == ListKind::kAllow);
  CHECK(all[1].owner == "other");
  REQUIRE(s.lists->CreateList({"third", "ncmec", ListKind::kBlock, 31}, &c).ok());
  CHECK(c.id == 3);  // ids are never reused across restarts
}

TEST_CASE("batches: counted adds and removes, idempotent retries, change feed, lookup") {
  for (size_t ingest_from : {kIngestLarge, kIngestAll}) {
    CAPTURE(ingest_from);
    Store s(ingest_from);
    uint64_t id = s.Create("l");
    std::mt19937_64 rng(7);
    auto h = ClusteredHashes(10, rng);
    std::string md5(16, '\x11'), sha(32, '\x22');
    BatchRequest b1{"b1", {Pdq(h[0], "r0"), Pdq(h[1], "r1"), {SignalType::kMd5, md5, "m"}, Pdq(h[0])}, {}};
    BatchResult r;
    REQUIRE(s.lists->ApplyBatch(id, b1, &r).ok());
    CHECK(r.added == 3);
    CHECK(r.already_present == 1);
    CHECK(r.seq == 3);
    CHECK(!r.replayed);
    BatchResult again;
    REQUIRE(s.lists->ApplyBatch(id, b1, &again).ok());
    CHECK(again.replayed);
    CHECK(again.seq == 3);
    CHECK(again.added == 3);

    BatchRequest b2{"b2", {{SignalType::kSha256, sha, "s"}, Pdq(h[2], "r2")}, {Pdq(h[1]), Pdq(h[5]), Pdq(h[2])}};
    REQUIRE(s.lists->ApplyBatch(id, b2, &r).ok());
    CHECK(r.added == 2);
    CHECK(r.removed == 2);  // h[1], and h[2] added then removed in the same batch
    CHECK(r.not_found == 1);
    CHECK(r.seq == 7);

    ListInfo info;
    REQUIRE(s.lists->GetList(id, &info).ok());
    CHECK(info.signal_count == 3);
    CHECK(info.last_seq == 7);

    std::vector<store::Change> changes;
    uint64_t next;
    REQUIRE(s.lists->Changes(id, 0, 100, &changes, &next).ok());
    REQUIRE(changes.size() == 7);
    CHECK(next == 7);
    for (size_t i = 0; i < changes.size(); ++i) CHECK(changes[i].seq == i + 1);
    CHECK(changes[0].add);
    CHECK(changes[0].ref == "r0");
    CHECK(changes[5].hash == Raw(h[1]));
    CHECK(!changes[5].add);
    CHECK(changes[5].ref == "r1");
    REQUIRE(s.lists->Changes(id, 5, 1, &changes, &next).ok());
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].seq == 6);
    CHECK(next == 6);
    REQUIRE(s.lists->Changes(id, 7, 10, &changes, &next).ok());
    CHECK(changes.empty());
    CHECK(next == 7);

    SignalEntry e;
    int64_t added_ms;
    REQUIRE(s.lists->LookupSignal(id, SignalType::kPdq, Raw(h[0]), &e, &added_ms).ok());
    CHECK(e.ref == "r0");
    CHECK(added_ms > 0);
    CHECK(s.lists->LookupSignal(id, SignalType::kPdq, Raw(h[1]), &e, &added_ms).code() == Status::Code::kNotFound);

    idx::ScreenQuery q = QueryFor(h[0]);
    q.sha256.emplace();
    std::memcpy(q.sha256->data(), sha.data(), 32);
    auto res = s.lists->Screen(q);
    REQUIRE(res.block_hits.size() == 1);
    CHECK(res.block_hits[0].type == SignalType::kSha256);  // an exact digest hit wins
    CHECK(!s.lists->Screen(QueryFor(h[1])).block_hits.empty() == (base::Distance(h[1], h[0]) <= 31));

    // A retried batch id stays a no-op after a restart.
    s.Reopen();
    REQUIRE(s.lists->ApplyBatch(id, b2, &again).ok());
    CHECK(again.replayed);
    CHECK(again.removed == 2);
    REQUIRE(s.lists->GetList(id, &info).ok());
    CHECK(info.last_seq == 7);
    CHECK(!s.lists->Screen(QueryFor(h[0])).block_hits.empty());
  }
}

TEST_CASE("a batch id reused with other content is refused whole, and the same content replays, also after a restart") {
  for (size_t ingest_from : {kIngestLarge, kIngestAll}) {
    CAPTURE(ingest_from);
    Store s(ingest_from);
    uint64_t id = s.Create("l");
    std::mt19937_64 rng(11);
    auto h = ClusteredHashes(4, rng);
    BatchResult r;
    const BatchRequest first{"b1", {Pdq(h[0], "r0"), Pdq(h[1], "r1")}, {}};
    REQUIRE(s.lists->ApplyBatch(id, first, &r).ok());
    ListInfo before;
    REQUIRE(s.lists->GetList(id, &before).ok());

    // The withdrawal sent under a reused id is not silently dropped: it is
    // refused, and nothing of it is applied.
    const std::vector<BatchRequest> others = {
        {"b1", {}, {Pdq(h[0])}},                            // a withdrawal
        {"b1", {Pdq(h[0], "r0")}, {}},                      // fewer entries
        {"b1", {Pdq(h[1], "r1"), Pdq(h[0], "r0")}, {}},     // another order
        {"b1", {Pdq(h[0], "r0"), Pdq(h[1], "other")}, {}},  // another reference
        {"b1", {Pdq(h[0], "r0")}, {Pdq(h[1], "r1")}},       // an add moved to the removes
        {"b1", {Pdq(h[0], "r0"), Pdq(h[2], "r1")}, {}},     // another hash
    };
    for (int round = 0; round < 2; ++round) {
      for (const auto& other : others) {
        Status st = s.lists->ApplyBatch(id, other, &r);
        CHECK(st.code() == Status::Code::kAlreadyExists);
        CHECK(st.message().find("different content") != std::string::npos);
      }
      ListInfo now;
      REQUIRE(s.lists->GetList(id, &now).ok());
      CHECK(now.last_seq == before.last_seq);
      CHECK(now.signal_count == before.signal_count);
      CHECK(!s.lists->Screen(QueryFor(h[0])).block_hits.empty());
      REQUIRE(s.lists->ApplyBatch(id, first, &r).ok());
      CHECK(r.replayed);
      CHECK(r.content_verified);
      CHECK(r.added == 2);
      s.Reopen();  // the digest is durable with the batch record
    }
  }
}

TEST_CASE("a batch record written before digests decodes and replays, marked as not compared") {
  Store s;
  uint64_t id = s.Create("l");
  std::mt19937_64 rng(12);
  auto h = ClusteredHashes(2, rng);
  BatchResult r;
  REQUIRE(s.lists->ApplyBatch(id, {"old", {Pdq(h[0])}, {}}, &r).ok());
  // The previous version's record: the 40-byte result alone.
  std::string record;
  REQUIRE(s.db->Get(Database::kBatches, store::keys::BatchKey(id, "old"), &record).ok());
  REQUIRE(record.size() == 72);
  rocksdb::WriteBatch wb;
  wb.Put(s.db->family(Database::kBatches), store::keys::BatchKey(id, "old"), record.substr(0, 40));
  REQUIRE(s.db->Write(&wb, true).ok());
  s.Reopen();
  REQUIRE(s.lists->ApplyBatch(id, {"old", {}, {Pdq(h[0])}}, &r).ok());
  CHECK(r.replayed);
  CHECK_FALSE(r.content_verified);
  CHECK(r.added == 1);
  CHECK(!s.lists->Screen(QueryFor(h[0])).block_hits.empty());
  // A damaged record is an error, not a replay.
  wb.Clear();
  wb.Put(s.db->family(Database::kBatches), store::keys::BatchKey(id, "old"), record.substr(0, 41));
  REQUIRE(s.db->Write(&wb, true).ok());
  CHECK(s.lists->ApplyBatch(id, {"old", {Pdq(h[0])}, {}}, &r).code() == Status::Code::kCorruption);
}

TEST_CASE("a batch with a malformed entry is rejected whole, naming the entry") {
  Store s;
  uint64_t id = s.Create("l");
  std::mt19937_64 rng(8);
  auto h = ClusteredHashes(3, rng);
  BatchResult r;
  BatchRequest bad{"bad", {Pdq(h[0]), {SignalType::kMd5, std::string(15, 'x'), ""}}, {}};
  Status st = s.lists->ApplyBatch(id, bad, &r);
  CHECK(st.code() == Status::Code::kInvalidArgument);
  CHECK(st.message().find("add[1]") != std::string::npos);
  BatchRequest bad2{"bad2", {Pdq(h[0])}, {Pdq(h[1]), {static_cast<SignalType>(9), std::string(32, 'x'), ""}}};
  st = s.lists->ApplyBatch(id, bad2, &r);
  CHECK(st.message().find("remove[1]") != std::string::npos);
  BatchRequest longref{"long", {Pdq(h[0], std::string(257, 'r'))}, {}};
  CHECK(s.lists->ApplyBatch(id, longref, &r).code() == Status::Code::kInvalidArgument);
  ListInfo info;
  REQUIRE(s.lists->GetList(id, &info).ok());
  CHECK(info.signal_count == 0);
  CHECK(info.last_seq == 0);
  CHECK(s.lists->Screen(QueryFor(h[0])).block_hits.empty());
  // The rejected id was not recorded: the corrected batch applies.
  REQUIRE(s.lists->ApplyBatch(id, {"bad", {Pdq(h[0])}, {}}, &r).ok());
  CHECK(!r.replayed);
  CHECK(r.added == 1);
  CHECK(s.lists->ApplyBatch(99, {"x", {Pdq(h[0])}, {}}, &r).code() == Status::Code::kNotFound);
  CHECK(s.lists->ApplyBatch(id, {"", {Pdq(h[0])}, {}}, &r).code() == Status::Code::kInvalidArgument);
  base::SignalEntry e;
  CHECK(base::ParseSignal("pdq", "zz", "", &e).code() == Status::Code::kInvalidArgument);
  CHECK(base::ParseSignal("phash", std::string(64, '0'), "", &e).message().find("phash") != std::string::npos);
  CHECK(base::ParseSignal("md5", std::string(64, '0'), "", &e).code() == Status::Code::kInvalidArgument);
  REQUIRE(base::ParseSignal("md5", "00112233445566778899AABBCCDDEEFF", "ref", &e).ok());
  CHECK(e.hash.size() == 16);
}

TEST_CASE("the index is rebuilt from RocksDB at open, with every list's state") {
  Store s;
  uint64_t block = s.Create("block");
  uint64_t allow = s.Create("allow", ListKind::kAllow, 8);
  uint64_t off = s.Create("off");
  std::mt19937_64 rng(9);
  auto h = ClusteredHashes(30000, rng);  // large enough for a multi-index segment
  BatchRequest b{"big", {}, {}};
  for (size_t i = 0; i < 25000; ++i) b.add.push_back(Pdq(h[i]));
  base::PdqHash lone = RandomPdq(rng);  // far from every cluster
  b.add.push_back(Pdq(lone));
  BatchResult r;
  REQUIRE(s.lists->ApplyBatch(block, b, &r).ok());
  REQUIRE(s.lists->ApplyBatch(block, {"rm", {}, {Pdq(lone), Pdq(h[11])}}, &r).ok());
  REQUIRE(s.lists->ApplyBatch(allow, {"a", {Pdq(h[20])}, {}}, &r).ok());
  REQUIRE(s.lists->ApplyBatch(off, {"o", {Pdq(h[29000])}, {}}, &r).ok());
  REQUIRE(s.lists->UpdateList(off, std::nullopt, false, std::nullopt).ok());
  std::vector<idx::ScreenResult> before;
  std::vector<idx::ScreenQuery> queries;
  for (int i = 0; i < 50; ++i) {
    idx::ScreenQuery q;
    q.use_pdq = true;
    q.num_pdq = 8;
    for (int v = 0; v < 8; ++v) q.pdq[v] = FlipBits(h[rng() % h.size()], static_cast<int>(rng() % 40), rng);
    queries.push_back(q);
    before.push_back(s.lists->Screen(q));
  }
  s.Reopen();
  CHECK(s.lists->IndexedPdqHashes() == 25000 - 1 + 1 + 1);
  for (size_t i = 0; i < queries.size(); ++i) {
    auto after = s.lists->Screen(queries[i]);
    REQUIRE(after.block_hits.size() == before[i].block_hits.size());
    for (size_t k = 0; k < after.block_hits.size(); ++k) {
      CHECK(after.block_hits[k].hash == before[i].block_hits[k].hash);
      CHECK(after.block_hits[k].distance == before[i].block_hits[k].distance);
    }
    CHECK(after.allow_hits.size() == before[i].allow_hits.size());
  }
  CHECK(s.lists->Screen(QueryFor(lone)).block_hits.empty());
  CHECK(s.lists->Screen(QueryFor(h[29000])).block_hits.empty());  // only in the disabled list
  auto r20 = s.lists->Screen(QueryFor(h[20]));
  CHECK(r20.block_hits.size() == 1);  // in a block list and in the allow list: both reported
  CHECK(r20.allow_hits.size() == 1);
  CHECK(s.lists->IndexMemoryBytes() > 25000 * 32);
}

namespace {

// ApplyBatch decides what takes effect by sorting the batch; the model
// applies the entries one by one in request order (adds, then removes).
void RunSequentialModel(size_t ingest_from) {
  Store s(ingest_from);
  uint64_t id = s.Create("model");
  std::mt19937_64 rng(23);
  std::vector<SignalEntry> pool;
  for (int i = 0; i < 40; ++i) {
    SignalType t = i % 4 == 0 ? SignalType::kMd5 : (i % 4 == 1 ? SignalType::kSha256 : SignalType::kPdq);
    std::string h(base::SignalHashBytes(t), '\0');
    for (auto& c : h) c = static_cast<char>(rng());
    if (i == 39) h = std::string(32, '\0');  // hashes sharing long prefixes sort by their tails
    if (i == 38) {
      h.assign(32, '\0');
      h[31] = '\x01';
    }
    pool.push_back({t, h, ""});
  }
  std::map<std::pair<int, std::string>, std::string> model;  // (type, hash) -> ref
  uint64_t seq = 0;
  std::vector<store::Change> expected;
  for (int round = 0; round < 60; ++round) {
    BatchRequest b;
    b.batch_id = "m";
    b.batch_id += std::to_string(round);
    const size_t n_add = round % 10 == 9 ? 30000 : rng() % 12, n_rem = rng() % 8;
    for (size_t i = 0; i < n_add; ++i) {
      SignalEntry e = pool[rng() % pool.size()];
      if (n_add > 100) {
        // A large batch: mostly fresh hashes, some repeats.
        e.type = SignalType::kPdq;
        e.hash.assign(32, '\0');
        if (rng() % 4 != 0) for (auto& c : e.hash) c = static_cast<char>(rng());
        else e.hash = pool[2 + 4 * (rng() % 9)].hash;
      }
      e.ref = std::to_string(round);
      e.ref += '.';
      e.ref += std::to_string(i);
      b.add.push_back(e);
    }
    for (size_t i = 0; i < n_rem; ++i) b.remove.push_back(pool[rng() % pool.size()]);
    BatchResult want;
    for (const auto& e : b.add) {
      auto key = std::make_pair(static_cast<int>(e.type), e.hash);
      if (model.count(key)) {
        ++want.already_present;
        continue;
      }
      model[key] = e.ref;
      ++want.added;
      expected.push_back({++seq, true, e.type, e.hash, e.ref, 0, {}});
    }
    for (const auto& e : b.remove) {
      auto key = std::make_pair(static_cast<int>(e.type), e.hash);
      auto it = model.find(key);
      if (it == model.end()) {
        ++want.not_found;
        continue;
      }
      expected.push_back({++seq, false, e.type, e.hash, it->second, 0, {}});
      model.erase(it);
      ++want.removed;
    }
    want.seq = seq;
    BatchResult got;
    REQUIRE(s.lists->ApplyBatch(id, b, &got).ok());
    CHECK(got.added == want.added);
    CHECK(got.removed == want.removed);
    CHECK(got.already_present == want.already_present);
    CHECK(got.not_found == want.not_found);
    CHECK(got.seq == want.seq);
    if (round == 30) s.Reopen();
  }
  std::vector<store::Change> changes;
  uint64_t next;
  REQUIRE(s.lists->Changes(id, 0, expected.size() + 10, &changes, &next).ok());
  REQUIRE(changes.size() == expected.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    CHECK(changes[i].seq == expected[i].seq);
    CHECK(changes[i].add == expected[i].add);
    CHECK(changes[i].type == expected[i].type);
    CHECK(changes[i].hash == expected[i].hash);
    CHECK(changes[i].ref == expected[i].ref);
  }
  ListInfo info;
  REQUIRE(s.lists->GetList(id, &info).ok());
  CHECK(info.signal_count == model.size());
  for (const auto& p : pool) {
    SignalEntry e;
    int64_t ms;
    auto it = model.find({static_cast<int>(p.type), p.hash});
    Status st = s.lists->LookupSignal(id, p.type, p.hash, &e, &ms);
    CHECK(st.ok() == (it != model.end()));
    if (it != model.end()) CHECK(e.ref == it->second);
  }
  s.Reopen();  // the live index may still hold hidden copies; a loaded one holds exactly the list
  size_t indexed_pdq = 0;
  for (const auto& [k, ref] : model) indexed_pdq += k.first == static_cast<int>(SignalType::kPdq);
  CHECK(s.lists->IndexedPdqHashes() == indexed_pdq);
}

}  // namespace

TEST_CASE("batches match a sequential model: duplicates, add then remove, mixed types, large batches") {
  RunSequentialModel(kIngestLarge);
}

TEST_CASE("batches match a sequential model when every batch is ingested as SST files") {
  RunSequentialModel(kIngestAll);
}
