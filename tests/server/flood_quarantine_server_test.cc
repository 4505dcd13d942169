// Flood quarantine on a real hashscreend cannot be tripped on purpose
// (docs/exchanges.md "Flood quarantine"): the detector counts distinct
// contents per signal, so one listed file re-sent hundreds of times never
// trips it while hundreds of distinct near-copies (the same picture with
// other bytes, or hash queries within the threshold) do; a signal a
// reviewer confirmed, or released, and a list the operator exempted are
// never quarantined, across a restart; and the screens of a quarantined
// signal keep their held hit in the audit entry for reviewers, while the
// ingest caller's answer is a plain no match.
#include <csignal>

#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;

namespace {

// The bridge photo with other bytes after its end: another file (another
// SHA-256), the same picture (the same PDQ hash), as cheap to make as an
// attacker's re-encode.
std::string NearCopy(int i) { return FileBytes(BridgeImage()) + "near copy " + std::to_string(i); }

// The bridge's PDQ hash with one or two bits flipped (distance 1 or 2, far
// inside the list's threshold 31 and the probing band): `i` < 32640 gives a
// distinct hash each.
std::string NearHash(int i) {
  std::string hex = PdqHexOf(BridgeImage());
  auto flip = [&](int bit) {
    const size_t at = static_cast<size_t>(63 - bit / 4);
    int v = std::stoi(hex.substr(at, 1), nullptr, 16) ^ (1 << (bit % 4));
    hex[at] = "0123456789abcdef"[v];
  };
  const int a = i % 256;
  flip(a);
  if (i >= 256) flip((a + i / 256) % 256);
  return hex;
}

json Screen(ServerFixture& f, const std::string& bytes) {
  auto r = f.Screen(bytes);
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  return Json(r);
}

json ScreenHash(ServerFixture& f, const std::string& pdq_hex) {
  auto r = f.server.Client()->Post("/v1/screen/hashes", Bearer(f.keys["ingest"]), json{{"pdq", {pdq_hex}}}.dump(),
                                   "application/json");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  return Json(r);
}

// One batch of hash items [from, to) of NearHash; the number that matched.
int ScreenHashBatch(ServerFixture& f, int from, int to) {
  json items = json::array();
  for (int i = from; i < to; ++i) items.push_back({{"ref", "q" + std::to_string(i)}, {"pdq", {NearHash(i)}}});
  auto r = f.server.Client()->Post("/v1/screen/hashes/batch", Bearer(f.keys["ingest"]), json{{"items", items}}.dump(),
                                   "application/json");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  const json answer = Json(r);  // held: a range-for over Json(r)[...] would walk a destroyed temporary
  int matched = 0;
  for (const json& item : answer["results"]) {
    REQUIRE_MESSAGE(item.contains("match"), item.dump());
    matched += item["match"].get<bool>() ? 1 : 0;
  }
  return matched;
}

json Get(ServerFixture& f, const std::string& path, const std::string& role = "reviewer") {
  auto r = f.server.Client()->Get(path.c_str(), Bearer(f.keys[role]));
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  return Json(r);
}

json Post(ServerFixture& f, const std::string& path, const json& body, int want = 200) {
  auto r = f.server.Client()->Post(path.c_str(), Bearer(f.keys["reviewer"]), body.dump(), "application/json");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == want, r->body);
  return Json(r);
}

size_t Quarantined(ServerFixture& f) { return Get(f, "/v1/holds?reason=quarantined")["holds"].size(); }

// Screens distinct near-copies until one answers no match (the signal was
// quarantined by the one before); returns how many matched, or -1 if all
// `most` matched.
int CopiesUntilQuarantined(ServerFixture& f, int first, int most) {
  for (int i = 0; i < most; ++i) {
    if (Screen(f, NearCopy(first + i))["match"] == false) return i;
  }
  return -1;
}

void Restart(ServerFixture& f, const std::vector<std::string>& flags) {
  REQUIRE(f.server.Stop(SIGTERM) == 0);
  std::string error;
  REQUIRE_MESSAGE(f.server.Start(flags, &error), error);
}

}  // namespace

TEST_CASE("flood quarantine: one listed file uploaded 600 times never trips it, even with a floor of 3") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  // The file is one content and its hash queried is another: two, under
  // the floor of 3 however often each is sent.
  ServerFixture f({"--rate-per-key", "0", "--quarantine-min-hits", "3", "--quarantine-factor", "1"});
  const std::string bytes = FileBytes(BridgeImage());
  int matched = 0;
  for (int i = 0; i < 600; ++i) matched += Screen(f, bytes)["match"].get<bool>();
  CHECK(matched == 600);
  // The same listed hash queried 600 times is one content too.
  const std::string hash = PdqHexOf(BridgeImage());
  for (int i = 0; i < 600; ++i) matched += ScreenHash(f, hash)["match"].get<bool>();
  CHECK(matched == 1200);
  CHECK(Quarantined(f) == 0);
  CHECK(Get(f, "/v1/holds")["holds"].empty());
}

TEST_CASE("flood quarantine: 600 distinct near-copies of one listed image trip it at the default floor") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f({"--rate-per-key", "0"});
  // The default floor is 500 distinct contents, counted exactly up to the
  // floor (server/flood_detector.h): the 500th copy trips it, the 501st is
  // held.
  CHECK(CopiesUntilQuarantined(f, 0, 600) == 500);
  CHECK(Quarantined(f) == 1);
}

TEST_CASE("flood quarantine: distinct hash queries within the threshold trip it, and the held hit is for reviewers only") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f({"--rate-per-key", "0", "--quarantine-min-hits", "40"});
  // 40 distinct hashes within the threshold: the 40th trips it, so the
  // 41st and later answer no match.
  CHECK(ScreenHashBatch(f, 0, 40) == 40);
  REQUIRE(Quarantined(f) == 1);
  CHECK(ScreenHashBatch(f, 40, 50) == 0);
  // An image of the signal: the ingest caller gets a plain no-match answer.
  const json answer = Screen(f, FileBytes(BridgeImage()));
  CHECK(answer["match"] == false);
  CHECK(answer.size() == 2);  // match and audit_id, nothing of the hit
  // The reviewer sees who keeps uploading it: the entry's held hit.
  const json entry = Get(f, "/v1/audit/" + answer["audit_id"].get<std::string>());
  CHECK(entry["verdict"] == "no_match");
  REQUIRE(entry["hits"].size() == 1);
  CHECK(entry["hits"][0]["list_kind"] == "held");
  CHECK(entry["hits"][0]["hash"] == PdqHexOf(BridgeImage()));
  CHECK(entry["key_id"].get<std::string>().size() == 16);
  // The ingest caller cannot read the entry.
  auto denied = f.server.Client()->Get(("/v1/audit/" + answer["audit_id"].get<std::string>()).c_str(),
                                       Bearer(f.keys["ingest"]));
  REQUIRE(denied);
  CHECK(denied->status == 403);
  CHECK(denied->body.find(PdqHexOf(BridgeImage())) == std::string::npos);
}

TEST_CASE("flood quarantine: a confirmed signal never trips, before and after a restart") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  const std::vector<std::string> flags = {"--rate-per-key", "0", "--quarantine-min-hits", "20"};
  ServerFixture f(flags);
  const json first = Screen(f, NearCopy(-1));
  REQUIRE(first["match"] == true);
  Post(f, "/v1/audit/" + first["audit_id"].get<std::string>() + "/review", {{"disposition", "confirmed"}}, 201);
  CHECK(CopiesUntilQuarantined(f, 0, 60) == -1);
  CHECK(ScreenHashBatch(f, 0, 60) == 60);
  CHECK(Quarantined(f) == 0);
  Restart(f, flags);
  CHECK(CopiesUntilQuarantined(f, 100, 60) == -1);
  CHECK(Quarantined(f) == 0);
}

TEST_CASE("flood quarantine: a reported review vouches like confirmed, a disposition of escalated does not") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f({"--rate-per-key", "0", "--quarantine-min-hits", "20"});
  const json first = Screen(f, NearCopy(-1));
  Post(f, "/v1/audit/" + first["audit_id"].get<std::string>() + "/review", {{"disposition", "escalated"}}, 201);
  const int before = CopiesUntilQuarantined(f, 0, 60);
  CHECK(before == 19);  // with the first copy, 20 distinct contents
  REQUIRE(Quarantined(f) == 1);
  // Reviewers see the held hits; reporting one of those screens vouches for
  // the signal and lifts the quarantine at once.
  const json held = Screen(f, NearCopy(1000));
  CHECK(held["match"] == false);
  const json review =
      Post(f, "/v1/audit/" + held["audit_id"].get<std::string>() + "/review",
           {{"disposition", "reported"}, {"report_id", "CT-123456"}}, 201);
  CHECK(review["signal_holds"]["released"] == 1);
  CHECK(Quarantined(f) == 0);
  CHECK(CopiesUntilQuarantined(f, 2000, 60) == -1);
  CHECK(Quarantined(f) == 0);
}

TEST_CASE("flood quarantine: a released signal stays released, across a restart") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  const std::vector<std::string> flags = {"--rate-per-key", "0", "--quarantine-min-hits", "20"};
  ServerFixture f(flags);
  CHECK(CopiesUntilQuarantined(f, 0, 60) == 20);
  const json holds = Get(f, "/v1/holds?reason=quarantined")["holds"];
  REQUIRE(holds.size() == 1);
  CHECK(holds[0]["why"].get<std::string>().find("20 distinct contents") != std::string::npos);
  Post(f, "/v1/holds/release", {{"list_id", holds[0]["list_id"]}, {"signal", "pdq"}, {"hash", holds[0]["hash"]}});
  // Three times the pace that tripped it: still matching.
  CHECK(CopiesUntilQuarantined(f, 100, 60) == -1);
  Restart(f, flags);
  // The detector's history is gone; the release is not.
  CHECK(CopiesUntilQuarantined(f, 200, 60) == -1);
  CHECK(Quarantined(f) == 0);
}

TEST_CASE("flood quarantine: a list named in quarantine.exempt_lists never trips, others still do") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f({"--rate-per-key", "0", "--quarantine-min-hits", "20", "--quarantine-exempt-lists", "other, known"});
  CHECK(CopiesUntilQuarantined(f, 0, 60) == -1);
  CHECK(ScreenHashBatch(f, 0, 60) == 60);
  CHECK(Quarantined(f) == 0);
}

TEST_CASE("flood quarantine: a malformed quarantine.exempt_lists is refused at start, naming the setting") {
  TempDir tmp;
  ServerProcess server(tmp.path());
  server.CreateKey("admin");
  std::string error;
  CHECK_FALSE(server.Start({"--quarantine-exempt-lists", "ncmec,,iwf"}, &error));
  CHECK(error.find("quarantine.exempt_lists") != std::string::npos);
}
