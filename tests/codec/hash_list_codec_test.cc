// The hash-list codec: every format, auto-detection, and refusal of anything
// it cannot read (naming the line), never a silently skipped line.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "base/hex.h"
#include "codec/hash_list_codec.h"

using base::SignalType;
using base::Status;
using codec::ListFormat;

namespace {

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

struct Parsed {
  Status status;
  std::vector<base::SignalEntry> entries;
  std::string hex(size_t i) const { return base::HexEncode(std::string_view(entries.at(i).hash)); }
};

Parsed Parse(const std::string& text, ListFormat format = ListFormat::kAuto, SignalType type = SignalType::kPdq) {
  Parsed p;
  codec::ListCodecOptions o;
  o.format = format;
  o.type = type;
  p.status = codec::ParseHashList(text, o, &p.entries);
  return p;
}

}  // namespace

TEST_CASE("csv: type,hash,ref with a header, tabs, CRLF, comments, refs holding commas and quotes") {
  const std::string pdq = Hex(32, 1), md5 = Hex(16, 2), sha = Hex(32, 3);
  auto p = Parse("type,hash,ref\r\n# a comment\n\npdq," + pdq + ",bridge, the original\r\nmd5\t" + md5 +
                 "\tx\nsha256," + sha + ",\"quoted \"\"ref\"\"\"\nPDQ," + pdq + "\n");
  REQUIRE(p.status.ok());
  REQUIRE(p.entries.size() == 4);
  CHECK(p.entries[0].type == SignalType::kPdq);
  CHECK(p.hex(0) == pdq);
  CHECK(p.entries[3].type == SignalType::kPdq);  // type names in any case
  CHECK(p.entries[0].ref == "bridge, the original");
  CHECK(p.entries[1].type == SignalType::kMd5);
  CHECK(p.entries[1].ref == "x");
  CHECK(p.entries[2].ref == "quoted \"ref\"");
  (void)sha;
}

TEST_CASE("csv: an unknown type or bad hash stops at its line, and the error names the line") {
  auto p = Parse("pdq," + Hex(32, 1) + "\nphash," + Hex(32, 2) + "\n");
  CHECK(p.status.code() == Status::Code::kInvalidArgument);
  CHECK(p.status.message().find("line 2") != std::string::npos);
  CHECK(p.status.message().find("phash") != std::string::npos);
  CHECK(p.entries.size() == 1);
  p = Parse("pdq," + Hex(31, 1) + ",short\n");
  CHECK(p.status.message().find("line 1") != std::string::npos);
  CHECK(p.entries.empty());
  p = Parse("md5," + Hex(16, 1).replace(3, 1, "g") + "\n");
  CHECK(!p.status.ok());
}

TEST_CASE("plain: one hash per line of the given type: a wrong length says which --type to give") {
  auto p = Parse(Hex(32, 1) + "\n" + Hex(32, 2) + "\n");
  REQUIRE(p.status.ok());
  CHECK(p.entries.size() == 2);
  CHECK(p.entries[1].type == SignalType::kPdq);
  p = Parse(Hex(16, 1) + "\n", ListFormat::kAuto, SignalType::kMd5);
  REQUIRE(p.status.ok());
  CHECK(p.entries[0].type == SignalType::kMd5);
  p = Parse(Hex(16, 1) + "\n");
  CHECK(!p.status.ok());
  CHECK(p.status.message().find("--type") != std::string::npos);
}

TEST_CASE("hasher: `hashscreen hash` and pdq-photo-hasher output, plain and dihedral, file names with commas") {
  const std::string a = Hex(32, 1), b = Hex(32, 2);
  auto p = Parse(a + ",100,photos/a.jpg\n" + b + ",87,photos/b, with comma.jpg\n");
  REQUIRE(p.status.ok());
  REQUIRE(p.entries.size() == 2);
  CHECK(p.hex(0) == a);
  CHECK(p.entries[0].ref == "photos/a.jpg");
  CHECK(p.entries[1].ref == "photos/b, with comma.jpg");
  std::string dihedral;
  for (int i = 0; i < 8; ++i) dihedral += Hex(32, 10 + i) + ",";
  p = Parse(dihedral + "55,x.png\n");
  REQUIRE(p.status.ok());
  REQUIRE(p.entries.size() == 1);
  CHECK(p.hex(0) == Hex(32, 10));  // the original orientation; screening queries all 8
  CHECK(p.entries[0].ref == "x.png");
  // Given explicitly, a line that is not hasher output is refused.
  p = Parse(a + ",notaquality,x\n", ListFormat::kHasher);
  CHECK(!p.status.ok());
}

TEST_CASE("jsonl: `hashscreen hash --json` lines give every hash with the file as ref: typed objects too") {
  const std::string pdq = Hex(32, 1), md5 = Hex(16, 2), sha = Hex(32, 3);
  auto p = Parse("{\"file\":\"a.jpg\",\"pdq\":\"" + pdq + "\",\"quality\":100,\"md5\":\"" + md5 + "\",\"sha256\":\"" +
                 sha + "\",\"width\":10,\"height\":10,\"format\":\"jpeg\"}\n{\"type\":\"md5\",\"hash\":\"" + md5 +
                 "\",\"ref\":\"r\"}\n");
  REQUIRE(p.status.ok());
  REQUIRE(p.entries.size() == 4);
  CHECK(p.entries[0].type == SignalType::kPdq);
  CHECK(p.entries[1].type == SignalType::kMd5);
  CHECK(p.entries[2].type == SignalType::kSha256);
  CHECK(p.entries[2].ref == "a.jpg");
  CHECK(p.entries[3].ref == "r");
  p = Parse("{\"file\":\"a.jpg\"}\n");
  CHECK(!p.status.ok());
  p = Parse("{not json\n");
  CHECK(!p.status.ok());
  p = Parse("{\"pdq\": 5}\n");
  CHECK(!p.status.ok());
}

TEST_CASE("te-csv: a ThreatExchange download with quoted fields: the type and ref come from named columns") {
  const std::string pdq = Hex(32, 1), md5 = Hex(16, 2);
  auto p = Parse(
      "td_id,td_description,td_raw_indicator,td_indicator_type,td_subjective_tags\n"
      "101,\"bulk, upload\"," + pdq + ",HASH_PDQ,a;b\n" +
      "102,plain," + md5 + ",HASH_MD5,\n");
  REQUIRE(p.status.ok());
  REQUIRE(p.entries.size() == 2);
  CHECK(p.entries[0].type == SignalType::kPdq);
  CHECK(p.entries[0].ref == "101");
  CHECK(p.entries[1].type == SignalType::kMd5);
  // Without a type column, a hash column named for its type gives the type.
  p = Parse("md5,file\n" + md5 + ",x\n");
  REQUIRE(p.status.ok());
  CHECK(p.entries[0].type == SignalType::kMd5);
  CHECK(p.entries[0].ref == "x");
  p = Parse("pdq_hash,quality,file\n" + pdq + ",100,a.jpg\n");
  REQUIRE(p.status.ok());
  CHECK(p.entries[0].type == SignalType::kPdq);
  // A row of a type hashscreen does not screen (a URL indicator) stops the
  // list: nothing is skipped silently.
  p = Parse("td_raw_indicator,td_indicator_type\n" + pdq + ",HASH_PDQ\nhttp://x,URI\n");
  CHECK(!p.status.ok());
  CHECK(p.status.message().find("line 3") != std::string::npos);
  p = Parse("td_raw_indicator,td_type\n\"" + pdq + ",HASH_PDQ\n");
  CHECK(!p.status.ok());
}

TEST_CASE("auto-detection refuses what it cannot recognise, listing the formats") {
  auto p = Parse("hello,world\n");
  CHECK(!p.status.ok());
  CHECK(p.status.message().find("hasher") != std::string::npos);
  ListFormat f;
  CHECK(codec::ParseListFormat("te-csv", &f).ok());
  CHECK(f == ListFormat::kTeCsv);
  CHECK(!codec::ParseListFormat("pdq-csv", &f).ok());
  CHECK(Parse("").status.ok());
  CHECK(Parse("# only a comment\n\n").entries.empty());
}

TEST_CASE("a parser reuses the entries past `used` and leaves `used` unchanged on an error") {
  codec::HashListParser parser({});
  std::vector<base::SignalEntry> out(3);
  out[0].ref = "scratch";
  size_t used = 0;
  REQUIRE(parser.ParseLine("pdq," + Hex(32, 1) + ",r", &out, &used).ok());
  CHECK(used == 1);
  CHECK(out.size() == 3);
  CHECK(out[0].ref == "r");
  CHECK(!parser.ParseLine("pdq,zz", &out, &used).ok());
  CHECK(used == 1);
  CHECK(codec::FormatCsvLine(out[0]) == "pdq," + Hex(32, 1) + ",r");
}
