// The feed (store/feed.h): records written with every list write, pages
// bounded in entries and bytes, cursors inside large batches, long-poll
// wake-ups, the backfill of a database older than the feed, and a follower
// database applying pages (HashLists::ApplyFeedPage) until it equals the
// primary family by family, with pages that do not fit refused whole.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <set>
#include <thread>

#include <rocksdb/iterator.h>

#include "base/coding.h"
#include "store/feed.h"
#include "store/hash_lists.h"
#include "store/key_encoding.h"
#include "tests/test_support.h"

using base::ListKind;
using base::SignalEntry;
using base::SignalType;
using base::Status;
using store::BatchRequest;
using store::BatchResult;
using store::Database;
using store::FeedCursor;
using store::FeedKind;
using store::FeedPage;
using store::HashLists;
using store::ListInfo;

namespace {

constexpr const char* kCursorKey = "test_cursor";

struct Db {
  testing_support::TempDir dir;
  HashLists::Options options;
  std::unique_ptr<Database> db;
  std::unique_ptr<HashLists> lists;
  explicit Db(size_t ingest_from = HashLists::Options().ingest_from_changes) {
    options.ingest_from_changes = ingest_from;
    Reopen();
  }
  void Reopen() {
    lists.reset();
    db.reset();
    REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
    REQUIRE(HashLists::Open(db.get(), options, &lists).ok());
  }
  uint64_t Create(const std::string& name, const std::string& owner = "partner-a") {
    ListInfo info;
    REQUIRE(lists->CreateList({name, owner, ListKind::kBlock, 31}, &info).ok());
    return info.id;
  }
  // Every key and value of a family, in order.
  std::vector<std::pair<std::string, std::string>> Dump(Database::Family f) const {
    std::vector<std::pair<std::string, std::string>> out;
    std::unique_ptr<rocksdb::Iterator> it(db->db()->NewIterator(rocksdb::ReadOptions(), db->family(f)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(it->key().ToString(), it->value().ToString());
    REQUIRE(it->status().ok());
    return out;
  }
  FeedCursor Cursor() const {
    std::string v;
    if (!db->Get(Database::kMeta, kCursorKey, &v).ok()) return {};
    REQUIRE(v.size() == 16);
    return {base::GetU64(v.data()), base::GetU64(v.data() + 8)};
  }
};

std::string CursorValue(const FeedCursor& c) {
  std::string v;
  base::PutU64(&v, c.record);
  base::PutU64(&v, c.change);
  return v;
}

std::string Hash(std::mt19937_64& rng, size_t bytes) {
  std::string h(bytes, '\0');
  for (auto& c : h) c = static_cast<char>(rng());
  return h;
}

// prefix + n, built without operator+(const char*, string&&), on which GCC
// 12 reports a false -Wrestrict.
std::string Id(const char* prefix, uint64_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

SignalEntry Pdq(const std::string& hash, std::string ref = "") { return {SignalType::kPdq, hash, std::move(ref)}; }

BatchResult Apply(HashLists* lists, uint64_t list, const std::string& id, std::vector<SignalEntry> add,
                  std::vector<SignalEntry> remove = {}) {
  BatchRequest b;
  b.batch_id = id;
  b.add = std::move(add);
  b.remove = std::move(remove);
  BatchResult r;
  Status s = lists->ApplyBatch(list, b, &r);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return r;
}

// Pulls the whole feed of `primary` into `follower` in pages of `entries`
// entries and `bytes` bytes; returns the pages applied.
int Follow(HashLists* primary, Db* follower, size_t entries, size_t bytes,
           HashLists::IndexUpdate update = HashLists::IndexUpdate::kInPlace) {
  int pages = 0;
  for (;;) {
    FeedCursor from = follower->Cursor();
    FeedPage page;
    Status s = primary->ReadFeed(from, entries, bytes, &page);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    if (page.items.empty()) {
      CHECK(page.next == from);
      CHECK(page.next == page.head);
      return pages;
    }
    CHECK(page.entries <= entries);
    s = follower->lists->ApplyFeedPage(from, page, kCursorKey, CursorValue(page.next), update);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    ++pages;
  }
}

void CheckSame(const Db& primary, const Db& follower) {
  for (auto f : {Database::kLists, Database::kSignals, Database::kChanges, Database::kFeed}) {
    CAPTURE(Database::kFamilyNames[f]);
    CHECK(primary.Dump(f) == follower.Dump(f));
  }
  auto a = primary.lists->Lists(), b = follower.lists->Lists();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].id == b[i].id);
    CHECK(a[i].name == b[i].name);
    CHECK(a[i].owner == b[i].owner);
    CHECK(a[i].enabled == b[i].enabled);
    CHECK(a[i].pdq_threshold == b[i].pdq_threshold);
    CHECK(a[i].signal_count == b[i].signal_count);
    CHECK(a[i].last_seq == b[i].last_seq);
  }
  // The indexes answer alike for every PDQ hash either database ever held
  // (present, removed, re-added): same lists, same distances.
  std::set<std::string> hashes;
  for (const auto& [k, v] : primary.Dump(Database::kChanges)) {
    store::Change c;
    REQUIRE(store::keys::DecodeChange(1, v, &c).ok());
    if (c.type == SignalType::kPdq) hashes.insert(c.hash);
  }
  for (const auto& h : hashes) {
    idx::ScreenQuery q;
    q.use_pdq = true;
    q.num_pdq = 1;
    std::memcpy(q.pdq[0].bytes.data(), h.data(), 32);
    auto x = primary.lists->Screen(q), y = follower.lists->Screen(q);
    REQUIRE(x.block_hits.size() == y.block_hits.size());
    for (size_t i = 0; i < x.block_hits.size(); ++i) {
      CHECK(x.block_hits[i].list_id == y.block_hits[i].list_id);
      CHECK(x.block_hits[i].distance == y.block_hits[i].distance);
    }
  }
}

}  // namespace

TEST_CASE("feed: every list write appends one record, in commit order") {
  Db p;
  const uint64_t a = p.Create("a");
  std::mt19937_64 rng(1);
  const std::string h1 = Hash(rng, 32), h2 = Hash(rng, 32);
  Apply(p.lists.get(), a, "b1", {Pdq(h1, "r1"), Pdq(h2)});
  Apply(p.lists.get(), a, "b1", {Pdq(h1, "r1"), Pdq(h2)});  // replay: no record
  Apply(p.lists.get(), a, "b2", {Pdq(h1)});                  // nothing effective: no record
  Apply(p.lists.get(), a, "b3", {}, {Pdq(h2)});
  REQUIRE(p.lists->UpdateList(a, std::string("renamed"), false, 12).ok());

  FeedPage page;
  REQUIRE(p.lists->ReadFeed({}, 1000, 1 << 20, &page).ok());
  REQUIRE(page.items.size() == 4);
  CHECK(page.head == FeedCursor{4, 0});
  CHECK(page.next == FeedCursor{4, 0});
  CHECK(page.entries == 5);
  CHECK(page.items[0].record.kind == FeedKind::kListPut);
  CHECK(page.items[0].record.list.name == "a");
  CHECK(page.items[1].record.kind == FeedKind::kBatch);
  REQUIRE(page.items[1].changes.size() == 2);
  CHECK(page.items[1].changes[0].ref == "r1");
  CHECK(page.items[2].changes.size() == 1);
  CHECK_FALSE(page.items[2].changes[0].add);
  CHECK(page.items[3].record.list.name == "renamed");
  CHECK_FALSE(page.items[3].record.list.enabled);
  CHECK(page.items[3].record.list.pdq_threshold == 12);
  CHECK(page.items[3].record.list.signal_count == 1);

  // The head survives a restart.
  p.Reopen();
  uint64_t head;
  int64_t time_ms;
  p.lists->FeedHead(&head, &time_ms);
  CHECK(head == 4);
  CHECK(time_ms > 0);
}

TEST_CASE("feed: a large batch spans pages bounded in entries and in bytes") {
  Db p;
  const uint64_t a = p.Create("a");
  std::mt19937_64 rng(2);
  std::vector<SignalEntry> add;
  for (int i = 0; i < 25000; ++i) add.push_back(Pdq(Hash(rng, 32), Id("ref-", i)));
  Apply(p.lists.get(), a, "big", add);  // ingested (>= 10,000)
  p.Create("b");

  for (auto [entries, bytes] : {std::pair<size_t, size_t>{1000, 1 << 30}, {1 << 20, 64 << 10}, {1, 1}}) {
    CAPTURE(entries);
    CAPTURE(bytes);
    FeedCursor at;
    std::vector<std::string> seen;
    int pages = 0;
    for (;;) {
      FeedPage page;
      REQUIRE(p.lists->ReadFeed(at, entries, bytes, &page).ok());
      if (page.items.empty()) break;
      ++pages;
      CHECK(page.entries >= 1);
      CHECK(page.entries <= entries);
      size_t page_bytes = 0;
      for (const auto& item : page.items) {
        for (const auto& c : item.changes) {
          seen.push_back(c.hash);
          page_bytes += 24 + c.hash.size() + c.ref.size();
        }
      }
      if (page.entries > 1) CHECK(page_bytes <= bytes);
      at = page.next;
      if (pages > 30000) FAIL("no progress");
    }
    CHECK(at == FeedCursor{3, 0});
    REQUIRE(seen.size() == add.size());
    for (size_t i = 0; i < add.size(); ++i) CHECK(seen[i] == add[i].hash);
  }

  // A cursor inside the record continues after that change.
  FeedPage page;
  REQUIRE(p.lists->ReadFeed({2, 100}, 10, 1 << 20, &page).ok());
  REQUIRE(page.items.size() == 1);
  CHECK(page.items[0].changes.front().seq == 101);
  CHECK(page.next == FeedCursor{2, 110});

  // Cursors that are not positions of this feed.
  CHECK(p.lists->ReadFeed({4, 0}, 10, 1 << 20, &page).code() == Status::Code::kInvalidArgument);
  CHECK(p.lists->ReadFeed({3, 5}, 10, 1 << 20, &page).code() == Status::Code::kInvalidArgument);
  CHECK(p.lists->ReadFeed({2, 25000}, 10, 1 << 20, &page).code() == Status::Code::kInvalidArgument);
  CHECK(p.lists->ReadFeed({1, 1}, 10, 1 << 20, &page).code() == Status::Code::kInvalidArgument);
}

TEST_CASE("feed: cursor text form") {
  FeedCursor c;
  REQUIRE(store::ParseFeedCursor("12", "after", &c).ok());
  CHECK(c == FeedCursor{12, 0});
  REQUIRE(store::ParseFeedCursor("12.7", "after", &c).ok());
  CHECK(c == FeedCursor{12, 7});
  CHECK(store::FormatFeedCursor({12, 7}) == "12.7");
  CHECK(store::FormatFeedCursor({12, 0}) == "12");
  for (const char* bad : {"", "-1", "1.", ".1", "0.3", "1.0", "1.2.3", "x", "18446744073709551616", " 1"}) {
    CAPTURE(bad);
    CHECK(store::ParseFeedCursor(bad, "after", &c).code() == Status::Code::kInvalidArgument);
  }
}

TEST_CASE("feed: a waiter wakes on a commit and on stop") {
  Db p;
  uint64_t head;
  int64_t t;
  p.lists->FeedHead(&head, &t);
  CHECK(head == 0);
  const auto far = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    p.Create("a");
  });
  CHECK(p.lists->WaitForFeed({0, 0}, far));  // returns long before 60 s, or the test hangs
  writer.join();
  CHECK_FALSE(p.lists->WaitForFeed({1, 0}, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
  CHECK(p.lists->WaitForFeed({1, 1}, far));  // a partial cursor always has more
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    p.lists->StopFeedWaiters();
  });
  CHECK_FALSE(p.lists->WaitForFeed({1, 0}, far));
  stopper.join();
}

TEST_CASE("feed: a follower applying pages of any size equals the primary") {
  for (size_t ingest : {HashLists::Options().ingest_from_changes, size_t{1}}) {
    CAPTURE(ingest);
    Db p(ingest);
    std::mt19937_64 rng(3);
    std::vector<std::string> pool;
    for (int i = 0; i < 400; ++i) pool.push_back(Hash(rng, 32));
    const uint64_t a = p.Create("a"), b = p.Create("b", "partner-b");
    for (int round = 0; round < 30; ++round) {
      const uint64_t list = round % 3 == 0 ? b : a;
      std::vector<SignalEntry> add, remove;
      for (int i = 0; i < 40; ++i) add.push_back(Pdq(pool[rng() % pool.size()], Id("r", round)));
      for (int i = 0; i < 15; ++i) remove.push_back(Pdq(pool[rng() % pool.size()]));
      if (round % 5 == 0) add.push_back({SignalType::kMd5, Hash(rng, 16), "md5"});
      Apply(p.lists.get(), list, Id("r", round), add, remove);
      if (round % 7 == 0) REQUIRE(p.lists->UpdateList(list, Id("n", round), round % 2 == 0, round).ok());
    }
    std::vector<SignalEntry> big;
    for (int i = 0; i < 12000; ++i) big.push_back(Pdq(Hash(rng, 32)));
    Apply(p.lists.get(), a, "big", big, {Pdq(pool[0]), Pdq(pool[1])});

    for (auto [entries, bytes] : {std::pair<size_t, size_t>{1 << 20, 1 << 30}, {7, 1 << 30}, {1000, 3000}, {5000, 1 << 30}}) {
      CAPTURE(entries);
      Db f(ingest);
      CHECK(Follow(p.lists.get(), &f, entries, bytes) > 0);
      CheckSame(p, f);
      // Caught up, restarted: nothing more to apply, and the same state.
      f.Reopen();
      CHECK(Follow(p.lists.get(), &f, entries, bytes) == 0);
      CheckSame(p, f);
      // More writes on the primary reach the follower too.
      const uint64_t c = p.Create(Id("c", entries));
      Apply(p.lists.get(), c, "c", {Pdq(pool[5])});
      Apply(p.lists.get(), a, Id("x", entries), {}, {Pdq(big[entries % big.size()].hash)});
      CHECK(Follow(p.lists.get(), &f, entries, bytes) > 0);
      CheckSame(p, f);
    }
  }
}

TEST_CASE("feed: an entry's partner metadata (tags, first seen) reaches the follower") {
  Db p;
  std::mt19937_64 rng(11);
  const uint64_t a = p.Create("exchange-list", "exchange:x");
  BatchRequest b;
  b.batch_id = "with-meta";
  b.add = {Pdq(Hash(rng, 32), "ncmec:42:image1"), Pdq(Hash(rng, 32), "plain"), {SignalType::kMd5, Hash(rng, 16), "m"}};
  b.add_meta = {store::SignalMeta{{"A1", "csam"}, 1700000000000}, store::SignalMeta{}, store::SignalMeta{{"B"}, 0}};
  BatchResult r;
  REQUIRE(p.lists->ApplyBatch(a, b, &r).ok());
  // Removed and added again without metadata: the follower ends without it too.
  Apply(p.lists.get(), a, "drop", {}, {b.add[2]});
  Apply(p.lists.get(), a, "again", {b.add[2]});
  for (size_t entries : {size_t{1}, size_t{1000}}) {
    CAPTURE(entries);
    Db f;
    CHECK(Follow(p.lists.get(), &f, entries, 1 << 20) > 0);
    CheckSame(p, f);
    for (size_t i = 0; i < b.add.size(); ++i) {
      CAPTURE(i);
      SignalEntry e;
      int64_t added_ms = 0;
      store::SignalMeta meta;
      REQUIRE(f.lists->LookupSignal(a, b.add[i].type, b.add[i].hash, &e, &added_ms, &meta).ok());
      CHECK(e.ref == b.add[i].ref);
      if (i == 2) {
        CHECK(meta.empty());
      } else {
        CHECK(meta.tags == b.add_meta[i].tags);
        CHECK(meta.first_seen_ms == b.add_meta[i].first_seen_ms);
      }
    }
  }
}

bool Holds(const HashLists& lists, const std::string& pdq) {
  idx::ScreenQuery q;
  q.use_pdq = true;
  q.num_pdq = 1;
  std::memcpy(q.pdq[0].bytes.data(), pdq.data(), 32);
  return !lists.Screen(q).block_hits.empty();
}

TEST_CASE("feed: a deferred bootstrap (pages without the index, one RebuildIndex) equals the primary") {
  for (size_t ingest : {HashLists::Options().ingest_from_changes, size_t{1}}) {
    CAPTURE(ingest);
    Db p(ingest);
    std::mt19937_64 rng(5);
    const uint64_t a = p.Create("a"), b = p.Create("b", "partner-b"), emptied = p.Create("emptied");
    std::vector<SignalEntry> first, gone;
    for (int i = 0; i < 3000; ++i) first.push_back(Pdq(Hash(rng, 32), Id("r", i)));
    for (int i = 0; i < 40; ++i) gone.push_back(Pdq(Hash(rng, 32)));
    Apply(p.lists.get(), a, "first", first);
    Apply(p.lists.get(), emptied, "gone", gone);
    Apply(p.lists.get(), b, "md5", {{SignalType::kMd5, Hash(rng, 16), "m"}});

    Db f(ingest);
    // Part of the feed in place (as a follower killed after its first pages
    // and restarted: its index holds what it stored), the rest deferred.
    CHECK(Follow(p.lists.get(), &f, 1000, 1 << 30) > 0);
    REQUIRE(Holds(*f.lists, gone[0].hash));
    f.Reopen();
    Apply(p.lists.get(), emptied, "all-gone", {}, gone);  // the list ends empty
    Apply(p.lists.get(), a, "withdraw", {}, {first[0], first[1]});
    std::vector<SignalEntry> more;
    for (int i = 0; i < 5000; ++i) more.push_back(Pdq(Hash(rng, 32)));
    Apply(p.lists.get(), a, "more", more);
    REQUIRE(p.lists->UpdateList(b, std::string("renamed"), false, 20).ok());

    CHECK(Follow(p.lists.get(), &f, 700, 1 << 30, HashLists::IndexUpdate::kDeferred) > 1);
    // Written, but not in the index yet: screening sees the state before.
    CHECK_FALSE(Holds(*f.lists, more[0].hash));
    CHECK(Holds(*f.lists, gone[0].hash));
    REQUIRE(f.lists->RebuildIndex().ok());
    CheckSame(p, f);
    CHECK_FALSE(Holds(*f.lists, gone[0].hash));  // the emptied list lost its signals in the index too
    CHECK(Holds(*f.lists, more[0].hash));

    // Then in place again, as a live follower.
    Apply(p.lists.get(), a, "live", {Pdq(Hash(rng, 32))}, {more[0]});
    CHECK(Follow(p.lists.get(), &f, 700, 1 << 30) == 1);
    CheckSame(p, f);
  }
}

TEST_CASE("feed: a deferred page that adds a held signal is caught by RebuildIndex") {
  Db p;
  const uint64_t a = p.Create("a");
  std::mt19937_64 rng(6);
  std::vector<SignalEntry> add;
  for (int i = 0; i < 50; ++i) add.push_back(Pdq(Hash(rng, 32)));
  Apply(p.lists.get(), a, "1", add);
  Apply(p.lists.get(), a, "2", {Pdq(Hash(rng, 32))});

  Db f;
  FeedPage first, rest;
  REQUIRE(p.lists->ReadFeed({}, 51, 1 << 20, &first).ok());
  REQUIRE(first.next == FeedCursor{2, 0});  // the list_put and the first batch
  REQUIRE(f.lists->ApplyFeedPage({}, first, kCursorKey, CursorValue(first.next)).ok());
  REQUIRE(p.lists->ReadFeed(first.next, 1000, 1 << 20, &rest).ok());
  // The second batch's add replaced by a signal the follower already holds:
  // in place this is refused; deferred, it is written (the counts then
  // disagree with the stored signals) and the rebuild refuses it.
  FeedPage twice = rest;
  twice.items.back().changes.back().hash = add[7].hash;
  CHECK(f.lists->ApplyFeedPage(first.next, twice, kCursorKey, CursorValue(twice.next)).code() ==
        Status::Code::kCorruption);
  REQUIRE(f.lists->ApplyFeedPage(first.next, twice, kCursorKey, CursorValue(twice.next),
                                 HashLists::IndexUpdate::kDeferred)
              .ok());
  const Status s = f.lists->RebuildIndex();
  CHECK(s.code() == Status::Code::kCorruption);
  CHECK_MESSAGE(s.message().find("holds 50 signals, its record says 51") != std::string::npos, s.message());
  CHECK(Holds(*f.lists, add[7].hash));  // the index keeps what it had
}

TEST_CASE("feed: a page that does not continue the follower is refused whole") {
  Db p;
  const uint64_t a = p.Create("a");
  std::mt19937_64 rng(4);
  std::vector<SignalEntry> add;
  for (int i = 0; i < 50; ++i) add.push_back(Pdq(Hash(rng, 32)));
  Apply(p.lists.get(), a, "1", add);
  Apply(p.lists.get(), a, "2", {}, {add[0]});

  Db f;
  FeedPage first;
  REQUIRE(p.lists->ReadFeed({}, 20, 1 << 20, &first).ok());  // list_put + 19 changes
  REQUIRE(f.lists->ApplyFeedPage({}, first, kCursorKey, CursorValue(first.next)).ok());
  const auto before = f.Dump(Database::kSignals);

  // The same page again (a retry after a lost answer): refused, nothing written.
  Status s = f.lists->ApplyFeedPage({}, first, kCursorKey, CursorValue(first.next));
  CHECK(s.code() == Status::Code::kCorruption);
  // Claiming to be at the right cursor does not help: the lists disagree.
  FeedPage replay = first;
  replay.items.erase(replay.items.begin());
  replay.items[0].changes.erase(replay.items[0].changes.begin(), replay.items[0].changes.begin() + 5);
  s = f.lists->ApplyFeedPage(first.next, replay, kCursorKey, CursorValue(first.next));
  CHECK(s.code() == Status::Code::kCorruption);
  // A gap: skipping changes of the batch.
  FeedPage rest;
  REQUIRE(p.lists->ReadFeed({2, 25}, 1000, 1 << 20, &rest).ok());
  s = f.lists->ApplyFeedPage(first.next, rest, kCursorKey, CursorValue(rest.next));
  CHECK(s.code() == Status::Code::kCorruption);
  // A page whose next cursor lies.
  REQUIRE(p.lists->ReadFeed(first.next, 1000, 1 << 20, &rest).ok());
  FeedPage liar = rest;
  liar.next = {7, 0};
  CHECK(f.lists->ApplyFeedPage(first.next, liar, kCursorKey, CursorValue(liar.next)).code() == Status::Code::kCorruption);
  // A remove of a signal the follower does not hold.
  FeedPage wrong = rest;
  wrong.items.back().changes.back().hash = Hash(rng, 32);
  CHECK(f.lists->ApplyFeedPage(first.next, wrong, kCursorKey, CursorValue(wrong.next)).code() == Status::Code::kCorruption);
  CHECK(f.Dump(Database::kSignals) == before);
  CHECK(f.Cursor() == first.next);

  // The real continuation still applies.
  REQUIRE(f.lists->ApplyFeedPage(first.next, rest, kCursorKey, CursorValue(rest.next)).ok());
  CheckSame(p, f);
}

TEST_CASE("feed: a database written before the feed gets one at open, and a follower replays it") {
  Db p;
  std::mt19937_64 rng(5);
  const uint64_t a = p.Create("a"), b = p.Create("b");
  std::vector<SignalEntry> add;
  for (int i = 0; i < 300; ++i) add.push_back(Pdq(Hash(rng, 32), "x"));
  Apply(p.lists.get(), a, "1", add);
  Apply(p.lists.get(), a, "2", {}, {add[3], add[4]});
  REQUIRE(p.lists->UpdateList(b, std::nullopt, false, std::nullopt).ok());
  // Remove the feed, as a database from before it would be.
  {
    rocksdb::WriteBatch wb;
    for (const auto& [k, v] : p.Dump(Database::kFeed)) wb.Delete(p.db->family(Database::kFeed), k);
    REQUIRE(p.db->Write(&wb, true).ok());
  }
  p.Reopen();
  uint64_t head;
  int64_t t;
  p.lists->FeedHead(&head, &t);
  CHECK(head == 3);  // a: list_put + batch 1..300+2; b: list_put
  Db f;
  Follow(p.lists.get(), &f, 100, 1 << 20);
  for (auto fam : {Database::kLists, Database::kSignals, Database::kChanges}) CHECK(p.Dump(fam) == f.Dump(fam));
}
