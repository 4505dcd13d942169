// Signal holds on a real hashscreend (issue 11): a false_positive review
// suppresses the match's signals at once, the audit shows the held hit and
// the hold's events, a release (or a later confirmed review) lets the signal
// match again, a restart keeps the hold; a flood of matches on one signal
// quarantines it while other signals keep matching. The ingest caller's
// answer for a held signal is exactly a no-match answer.
#include <csignal>
#include <set>

#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;

namespace {

const fs::path kOther = ConformanceImages() / "misc-images" / "wee.jpg";

json Screen(ServerFixture& f, const fs::path& image) {
  auto r = f.Screen(FileBytes(image));
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  return Json(r);
}

json Get(ServerFixture& f, const std::string& path, const std::string& role = "reviewer") {
  auto r = f.server.Client()->Get(path.c_str(), Bearer(f.keys[role]));
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  return Json(r);
}

httplib::Result Post(ServerFixture& f, const std::string& path, const json& body, const std::string& role = "reviewer") {
  return f.server.Client()->Post(path.c_str(), Bearer(f.keys[role]), body.dump(), "application/json");
}

json Review(ServerFixture& f, const std::string& id, const std::string& disposition, const std::string& note = "") {
  json body{{"disposition", disposition}};
  if (!note.empty()) body["note"] = note;
  auto r = Post(f, "/v1/audit/" + id + "/review", body);
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 201, r->body);
  return Json(r);
}

std::set<std::string> Keys(const json& j) {
  std::set<std::string> k;
  for (const auto& [name, v] : j.items()) k.insert(name);
  return k;
}

// Events of the log with this name, oldest first.
std::vector<json> Events(ServerFixture& f, const std::string& name) {
  std::vector<json> out;
  const json all = Get(f, "/v1/audit?verdict=event&limit=1000");
  for (const json& e : all["entries"]) {
    if (e["event"] == name) out.push_back(e);
  }
  return out;
}

void AddToList(ServerFixture& f, const fs::path& image, const std::string& batch) {
  json body{{"batch_id", batch}, {"add", {{{"type", "pdq"}, {"hash", PdqHexOf(image)}, {"ref", batch}}}}};
  auto r = Post(f, "/v1/lists/" + std::to_string(f.list_id) + "/batches", body, "partner");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
}

double Metric(const std::string& text, const std::string& line_start) {
  const size_t at = text.find("\n" + line_start + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + line_start.size() + 2));
}

}  // namespace

TEST_CASE("a false_positive review stops the signal matching at once, audited, kept across a restart, released by a reviewer") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  if (!RequireData(kOther, "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  const json first = Screen(f, BridgeImage());
  REQUIRE(first["match"] == true);
  const json unlisted = Screen(f, kOther);
  REQUIRE(unlisted["match"] == false);

  const json review = Review(f, first["audit_id"], "false_positive", "a bridge postcard, not abuse");
  CHECK(review["signal_holds"]["held"] == 1);
  // The very next screen (the hold is in place before the review answers).
  const json held = Screen(f, BridgeImage());
  CHECK(held["match"] == false);
  // Exactly a no-match answer: same fields, same types.
  CHECK(Keys(held) == Keys(unlisted));
  for (const auto& [name, v] : unlisted.items()) CHECK(held[name].type() == v.type());
  // Hash-only screens too.
  auto hashes = Post(f, "/v1/screen/hashes", {{"pdq", {PdqHexOf(BridgeImage())}}}, "ingest");
  REQUIRE(hashes);
  CHECK(Json(hashes)["match"] == false);

  // Reviewers see the held hit, the hold and its event.
  json entry = Get(f, "/v1/audit/" + held["audit_id"].get<std::string>());
  CHECK(entry["verdict"] == "no_match");
  REQUIRE(entry["hits"].size() == 1);
  CHECK(entry["hits"][0]["list_kind"] == "held");
  CHECK(entry["hits"][0]["partner"] == "acme");
  json holds = Get(f, "/v1/holds")["holds"];
  REQUIRE(holds.size() == 1);
  CHECK(holds[0]["reason"] == "suppressed");
  CHECK(holds[0]["signal"] == "pdq");
  CHECK(holds[0]["hash"] == PdqHexOf(BridgeImage()));
  CHECK(holds[0]["source_id"] == first["audit_id"]);
  CHECK(holds[0]["why"] == "a bridge postcard, not abuse");
  CHECK(Get(f, "/v1/holds?reason=quarantined")["holds"].empty());
  REQUIRE(Events(f, "signal_suppressed").size() == 1);
  // Nobody but reviewers and admins sees holds.
  auto denied = f.server.Client()->Get("/v1/holds", Bearer(f.keys["ingest"]));
  REQUIRE(denied);
  CHECK(denied->status == 403);
  denied = f.server.Client()->Get("/v1/holds", Bearer(f.keys["partner"]));
  CHECK(denied->status == 403);

  // A restart keeps the hold.
  REQUIRE(f.server.Stop(SIGTERM) == 0);
  std::string error;
  REQUIRE_MESSAGE(f.server.Start({}, &error), error);
  CHECK(Screen(f, BridgeImage())["match"] == false);

  // Hostile releases change nothing.
  const json hold = Get(f, "/v1/holds")["holds"][0];
  json release{{"list_id", hold["list_id"]}, {"signal", "pdq"}, {"hash", hold["hash"]}, {"note", "checked again"}};
  for (const json& bad : {json{{"list_id", hold["list_id"]}, {"signal", "pdq"}, {"hash", "abcd"}},
                          json{{"list_id", hold["list_id"]}, {"signal", "sha1"}, {"hash", hold["hash"]}},
                          json{{"list_id", -1}, {"signal", "pdq"}, {"hash", hold["hash"]}},
                          json{{"list_id", hold["list_id"]}, {"signal", "pdq"}, {"hash", hold["hash"]}, {"extra", 1}},
                          json{{"signal", "pdq"}, {"hash", hold["hash"]}}}) {
    auto r = Post(f, "/v1/holds/release", bad);
    REQUIRE(r);
    CHECK_MESSAGE(r->status == 400, bad.dump());
  }
  auto not_held = Post(f, "/v1/holds/release",
                       {{"list_id", hold["list_id"].get<uint64_t>() + 7}, {"signal", "pdq"}, {"hash", hold["hash"]}});
  CHECK(not_held->status == 404);
  auto by_ingest = Post(f, "/v1/holds/release", release, "ingest");
  CHECK(by_ingest->status == 403);
  CHECK(Screen(f, BridgeImage())["match"] == false);

  // A reviewer releases it: it matches again, and the release is audited.
  auto released = Post(f, "/v1/holds/release", release);
  REQUIRE(released);
  REQUIRE_MESSAGE(released->status == 200, released->body);
  CHECK(Json(released)["released"]["reason"] == "suppressed");
  CHECK(Screen(f, BridgeImage())["match"] == true);
  CHECK(Get(f, "/v1/holds")["holds"].empty());
  const std::vector<json> events = Events(f, "signal_released");
  REQUIRE(events.size() == 1);
  CHECK(events[0]["key_id"].get<std::string>().size() == 16);
  CHECK(events[0]["detail"].get<std::string>().find("checked again") != std::string::npos);
  CHECK(Get(f, "/v1/audit/verify", "admin")["ok"] == true);
}

TEST_CASE("a later confirmed review of the same entry lifts its false_positive suppression") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  const json m = Screen(f, BridgeImage());
  REQUIRE(m["match"] == true);
  CHECK(Review(f, m["audit_id"], "false_positive")["signal_holds"]["held"] == 1);
  CHECK(Screen(f, BridgeImage())["match"] == false);
  // Reviewing the held no-match entry as false_positive holds nothing more.
  const json later = Screen(f, BridgeImage());
  CHECK(Review(f, later["audit_id"], "false_positive")["signal_holds"]["held"] == 0);
  const json confirmed = Review(f, m["audit_id"], "confirmed", "on a second look it is listed correctly");
  CHECK(confirmed["signal_holds"]["released"] == 1);
  CHECK(Screen(f, BridgeImage())["match"] == true);
}

TEST_CASE("a held signal in a hash batch is pooled with the no-match items, like a hash on no list") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  const json m = Screen(f, BridgeImage());
  Review(f, m["audit_id"], "false_positive");
  json items = json::array({{{"ref", "held"}, {"pdq", {PdqHexOf(BridgeImage())}}},
                            {{"ref", "unlisted"}, {"sha256", std::string(64, 'e')}}});
  auto r = Post(f, "/v1/screen/hashes/batch", {{"items", items}}, "ingest");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  const json out = Json(r);
  REQUIRE(out["results"].size() == 2);
  CHECK(out["results"][0]["match"] == false);
  CHECK(out["results"][0]["audit_id"] == out["results"][1]["audit_id"]);
  CHECK(Keys(out["results"][0]) == Keys(out["results"][1]));
}

TEST_CASE("a flood of matches on one signal quarantines it, other signals keep matching, a reviewer releases it") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  if (!RequireData(kOther, "tests/data/pdq is part of the repository")) return;
  ServerFixture f({"--rate-per-key", "0", "--quarantine-min-hits", "6", "--quarantine-factor", "2"});
  AddToList(f, kOther, "other");
  CHECK(Screen(f, kOther)["match"] == true);
  // The floor: six distinct contents (the photo with other trailing bytes)
  // in the window, the sixth trips it.
  const std::string photo = FileBytes(BridgeImage());
  auto copy = [&](int i) {
    auto r = f.Screen(photo + "copy " + std::to_string(i));
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 200, r->body);
    return Json(r);
  };
  for (int i = 0; i < 6; ++i) CHECK(copy(i)["match"] == true);
  CHECK(copy(6)["match"] == false);
  CHECK(Screen(f, BridgeImage())["match"] == false);
  CHECK(Screen(f, kOther)["match"] == true);

  json holds = Get(f, "/v1/holds?reason=quarantined")["holds"];
  REQUIRE(holds.size() == 1);
  CHECK(holds[0]["hash"] == PdqHexOf(BridgeImage()));
  CHECK(holds[0]["by"] == "flood_detector");
  const std::vector<json> events = Events(f, "signal_quarantined");
  REQUIRE(events.size() == 1);
  CHECK(events[0]["detail"].get<std::string>().find("6 distinct contents") != std::string::npos);
  auto text = f.server.Client()->Get("/metrics", Bearer(f.keys["admin"]));
  REQUIRE(text);
  CHECK(Metric(text->body, "hashscreen_signal_quarantines_total") == 1);
  CHECK(Metric(text->body, "hashscreen_signal_holds{reason=\"quarantined\"}") == 1);
  CHECK(Metric(text->body, "hashscreen_signal_holds{reason=\"suppressed\"}") == 0);

  // Released: it matches again, and the reviewer's release stands, so the
  // same pace does not quarantine it again.
  auto r = Post(f, "/v1/holds/release", {{"list_id", holds[0]["list_id"]}, {"signal", "pdq"}, {"hash", holds[0]["hash"]}});
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  for (int i = 100; i < 112; ++i) CHECK(copy(i)["match"] == true);
  CHECK(Get(f, "/v1/holds")["holds"].empty());
}

TEST_CASE("with quarantine disabled, no flood is quarantined") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f({"--rate-per-key", "0", "--quarantine-min-hits", "2", "--quarantine-enabled=false"});
  const std::string photo = FileBytes(BridgeImage());
  for (int i = 0; i < 6; ++i) {
    auto r = f.Screen(photo + "copy " + std::to_string(i));
    REQUIRE(r);
    CHECK(Json(r)["match"] == true);
  }
  CHECK(Get(f, "/v1/holds")["holds"].empty());
}

TEST_CASE("hashscreen holds lists the held signals and releases one, refusing bad arguments") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  auto cli = [&](const std::string& role, std::vector<std::string> args, std::string* out, std::string* err) {
    std::vector<std::string> argv = {HASHSCREEN_CLI, "holds"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--server", "https://127.0.0.1:" + std::to_string(f.server.port()), "--cacert",
                             f.server.cert().string(), "--key", f.keys.at(role)});
    return RunProgram(argv, out, err);
  };
  const json m = Screen(f, BridgeImage());
  Review(f, m["audit_id"], "false_positive", "benign");
  const std::string hash = PdqHexOf(BridgeImage());
  const std::string list = std::to_string(f.list_id);
  std::string out, err;
  REQUIRE(cli("reviewer", {}, &out, &err) == 0);
  CHECK(out.find(hash) != std::string::npos);
  CHECK(out.find("suppressed") != std::string::npos);
  REQUIRE(cli("reviewer", {"list", "--json"}, &out, &err) == 0);
  CHECK(json::parse(out)["holds"].size() == 1);
  CHECK(cli("ingest", {"list"}, &out, &err) == 1);
  CHECK(cli("reviewer", {"release", list, "pdq"}, &out, &err) == 1);
  CHECK(cli("reviewer", {"release", "x", "pdq", hash}, &out, &err) == 1);
  CHECK(cli("reviewer", {"release", list, "pdq", hash, "--force"}, &out, &err) == 1);
  CHECK(err.find("--force") != std::string::npos);
  CHECK(cli("reviewer", {"release", list, "pdq", std::string(64, '0')}, &out, &err) == 1);
  CHECK(Screen(f, BridgeImage())["match"] == false);
  REQUIRE(cli("reviewer", {"release", list, "pdq", hash, "--note", "listed on purpose"}, &out, &err) == 0);
  CHECK(out.find("released pdq " + hash) != std::string::npos);
  CHECK(Screen(f, BridgeImage())["match"] == true);
}
