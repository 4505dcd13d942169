#include <doctest/doctest.h>

#include <fstream>
#include <random>

#include "base/hex.h"
#include "store/list_import.h"
#include "tests/index/pdq_test_data.h"
#include "tests/test_support.h"

using base::Status;
using store::ImportOptions;
using store::ImportResult;
using base::SignalType;

namespace {

struct Fixture {
  testing_support::TempDir dir;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::HashLists> lists;
  uint64_t id = 0;
  Fixture() {
    REQUIRE(store::Database::Open((dir.path() / "db").string(), {}, &db).ok());
    REQUIRE(store::HashLists::Open(db.get(), &lists).ok());
    store::ListInfo info;
    REQUIRE(lists->CreateList({"imported", "p", base::ListKind::kBlock, 31}, &info).ok());
    id = info.id;
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string p = (dir.path() / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  bool Has(SignalType t, const std::string& hex, std::string* ref = nullptr) {
    std::string raw(base::SignalHashBytes(t), '\0');
    REQUIRE(base::HexDecode(hex, std::span<uint8_t>(reinterpret_cast<uint8_t*>(raw.data()), raw.size())).ok());
    base::SignalEntry e;
    int64_t ms;
    bool ok = lists->LookupSignal(id, t, raw, &e, &ms).ok();
    if (ok && ref) *ref = e.ref;
    return ok;
  }
};

std::string Hex(int bytes, int seed) {
  std::mt19937 rng(seed);
  std::string s;
  for (int i = 0; i < bytes; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", static_cast<unsigned>(rng() & 0xff));
    s += b;
  }
  return s;
}

}  // namespace

TEST_CASE("import: CSV with header, mixed types and refs, CRLF, comments") {
  Fixture f;
  std::string pdq = Hex(32, 1), md5 = Hex(16, 2), sha = Hex(32, 3);
  auto path = f.Write("a.csv", "type,hash,ref\r\n# a comment\r\npdq," + pdq + ",case 1, with comma\r\nmd5," +
                                   md5 + "\r\n\r\nsha256," + sha + ",x\r\n");
  ImportResult r;
  REQUIRE(store::ImportFile(f.lists.get(), f.id, path, {}, nullptr, &r).ok());
  CHECK(r.lines == 3);
  CHECK(r.added == 3);
  std::string ref;
  CHECK(f.Has(SignalType::kPdq, pdq, &ref));
  CHECK(ref == "case 1, with comma");
  CHECK(f.Has(SignalType::kMd5, md5));
  CHECK(f.Has(SignalType::kSha256, sha));
}

TEST_CASE("import: TSV without header") {
  Fixture f;
  std::string md5 = Hex(16, 4);
  auto path = f.Write("a.tsv", "md5\t" + md5 + "\tref-1\n");
  ImportResult r;
  REQUIRE(store::ImportFile(f.lists.get(), f.id, path, {}, nullptr, &r).ok());
  std::string ref;
  CHECK(f.Has(SignalType::kMd5, md5, &ref));
  CHECK(ref == "ref-1");
}

TEST_CASE("import: plain one hash per line with a given type, in batches with progress, and re-run replays") {
  Fixture f;
  std::string text;
  for (int i = 0; i < 25; ++i) text += Hex(16, 100 + i) + "\n";
  text += Hex(16, 100);  // a duplicate, no final newline
  auto path = f.Write("md5.txt", text);
  ImportOptions o;
  o.codec.type = SignalType::kMd5;
  o.batch_size = 10;
  std::vector<uint64_t> seen;
  ImportResult r;
  REQUIRE(store::ImportFile(f.lists.get(), f.id, path, o,
                            [&](const ImportResult& so_far, uint64_t total) {
                              CHECK(total == text.size());
                              seen.push_back(so_far.bytes);
                            },
                            &r)
              .ok());
  CHECK(r.lines == 26);
  CHECK(r.batches == 3);
  CHECK(r.added == 25);
  CHECK(r.already_present == 1);
  CHECK(r.bytes == text.size());
  REQUIRE(seen.size() == 3);
  CHECK(seen.back() == text.size());
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  ImportResult again;
  REQUIRE(store::ImportFile(f.lists.get(), f.id, path, o, nullptr, &again).ok());
  CHECK(again.batches_replayed == 3);
  store::ListInfo info;
  REQUIRE(f.lists->GetList(f.id, &info).ok());
  CHECK(info.signal_count == 25);
  CHECK(info.last_seq == 25);
}

TEST_CASE("import: ThreatExchange-style PDQ CSV (hash,quality,file) with a header") {
  Fixture f;
  std::string a = Hex(32, 7), b = Hex(32, 8);
  auto path = f.Write("te.csv", "pdq_hash,quality,file\n" + a + ",100,a.jpg\n" + b + ",87,b.jpg\n");
  ImportResult r;
  REQUIRE(store::ImportFile(f.lists.get(), f.id, path, {}, nullptr, &r).ok());
  CHECK(r.added == 2);
  CHECK(f.Has(SignalType::kPdq, a));
  CHECK(f.Has(SignalType::kPdq, b));
  // The same without a header, format given.
  Fixture g;
  auto p2 = g.Write("te2.csv", a + ",100,a.jpg\n");
  ImportOptions o;
  o.codec.format = codec::ListFormat::kHasher;
  REQUIRE(store::ImportFile(g.lists.get(), g.id, p2, o, nullptr, &r).ok());
  CHECK(r.added == 1);
}

TEST_CASE("import: a malformed line fails naming file and line, and earlier batches stay") {
  Fixture f;
  auto path = f.Write("bad.csv", "pdq," + Hex(32, 9) + ",ok\npdq," + Hex(31, 10) + ",short\n");
  ImportOptions o;
  o.batch_size = 1;
  ImportResult r;
  Status s = store::ImportFile(f.lists.get(), f.id, path, o, nullptr, &r);
  CHECK(s.code() == Status::Code::kInvalidArgument);
  CHECK(s.message().find("bad.csv:2") != std::string::npos);
  CHECK(r.added == 1);
  auto p2 = f.Write("bad2.csv", "md5," + Hex(16, 9) + "\nphash," + Hex(32, 9) + "\n");
  s = store::ImportFile(f.lists.get(), f.id, p2, {}, nullptr, &r);
  CHECK(s.code() == Status::Code::kInvalidArgument);
  CHECK(s.message().find("bad2.csv:2") != std::string::npos);
  CHECK(s.message().find("phash") != std::string::npos);
  CHECK(store::ImportFile(f.lists.get(), f.id, f.Write("x", ""), {}, nullptr, &r).ok());
  CHECK(store::ImportFile(f.lists.get(), f.id, "/nonexistent/file", {}, nullptr, &r).code() ==
        Status::Code::kIOError);
  CHECK(store::ImportFile(f.lists.get(), 99, path, {}, nullptr, &r).code() == Status::Code::kNotFound);
}
