// The follower end to end: a real primary and a real follower hashscreend on
// loopback over HTTPS. Catch-up, list metadata, adds and withdrawals
// reaching the follower's screening, read-only refusals, /readyz and
// metrics, a follower SIGKILLed again and again mid-bootstrap that resumes
// with nothing lost and nothing applied twice (entry for entry against the
// primary), and start-up refusals.
#include <doctest/doctest.h>

#include <csignal>
#include <fstream>
#include <random>
#include <thread>

#include "tests/server/server_fixture.h"
#include "tests/sync/follower_process.h"

using namespace testing_support;
using nlohmann::json;

namespace {

std::string RandomPdqHex(std::mt19937_64& rng) {
  static const char* kHex = "0123456789abcdef";
  std::string s(64, '0');
  for (auto& c : s) c = kHex[rng() & 15];
  return s;
}

json Lists(const ServerProcess& s, const std::string& key) {
  auto r = s.Client()->Get("/v1/lists", Bearer(key));
  REQUIRE(Status(r) == 200);
  return Json(r)["lists"];
}

// Every change of a list, through the per-list change feed.
json AllChanges(const ServerProcess& s, const std::string& key, uint64_t list) {
  json all = json::array();
  uint64_t after = 0;
  for (;;) {
    auto r = s.Client()->Get(("/v1/lists/" + std::to_string(list) + "/changes?limit=10000&after=" + std::to_string(after)).c_str(),
                             Bearer(key));
    REQUIRE(Status(r) == 200);
    json j = Json(r);
    if (j["changes"].empty()) return all;
    for (auto& c : j["changes"]) all.push_back(c);
    after = j["next"].get<uint64_t>();
  }
}

// The whole feed as JSON items (the follower keeps the primary's records).
json AllFeed(const ServerProcess& s, const std::string& key) {
  json all = json::array();
  std::string after = "0";
  for (;;) {
    auto r = s.Client()->Get(("/v1/feed?limit=10000&after=" + after).c_str(), Bearer(key));
    REQUIRE(Status(r) == 200);
    json j = Json(r);
    for (auto& i : j["items"]) all.push_back(i);
    if (j["next"] == j["head"]) return all;
    after = j["next"].get<std::string>();
  }
}

json Batch(const std::string& id, const std::vector<std::string>& add, const std::vector<std::string>& remove = {}) {
  json b{{"batch_id", id}, {"add", json::array()}, {"remove", json::array()}};
  for (const auto& h : add) b["add"].push_back({{"type", "pdq"}, {"hash", h}, {"ref", "r-" + h.substr(0, 6)}});
  for (const auto& h : remove) b["remove"].push_back({{"type", "pdq"}, {"hash", h}});
  return b;
}

void Push(ServerFixture& p, uint64_t list, const json& batch) {
  auto r = p.server.Client()->Post(("/v1/lists/" + std::to_string(list) + "/batches").c_str(), Bearer(p.keys["partner"]),
                                   batch.dump(), "application/json");
  REQUIRE(Status(r) == 200);
}

void CheckSameAsPrimary(ServerFixture& p, FollowerProcess& f) {
  const json a = Lists(p.server, p.keys["admin"]), b = Lists(f.server, f.keys["admin"]);
  CHECK(a == b);  // ids, names, owners, kinds, thresholds, enabled, signal_count, last_seq, created_ms
  for (const auto& l : a) {
    const uint64_t id = l["id"].get<uint64_t>();
    CAPTURE(id);
    CHECK(AllChanges(p.server, p.keys["replica"], id) == AllChanges(f.server, f.keys["replica"], id));
  }
  CHECK(AllFeed(p.server, p.keys["replica"]) == AllFeed(f.server, f.keys["replica"]));
}

}  // namespace

TEST_CASE("follower: catches up, follows adds, withdrawals and list updates, refuses list writes") {
  ServerFixture p;
  const std::string bridge = PdqHexOf(BridgeImage());
  FollowerProcess f(p, {"--follow-max-lag-s", "3"});
  f.Start();
  f.WaitReady();
  CheckSameAsPrimary(p, f);
  CHECK(f.Matches(bridge));
  CHECK(f.Metrics().find("hashscreen_follow_ready 1") != std::string::npos);

  // The replica role reads the primary's lists (it was 403 before).
  CHECK(Status(p.server.Client()->Get("/v1/lists", Bearer(p.keys["replica"]))) == 200);

  // An add on the primary reaches the follower's screening.
  std::mt19937_64 rng(7);
  const std::string added = RandomPdqHex(rng);
  CHECK_FALSE(f.Matches(added));
  Push(p, p.list_id, Batch("add-1", {added}));
  CHECK(WaitFor([&] { return f.Matches(added); }, 10));
  // A withdrawal stops the match.
  Push(p, p.list_id, Batch("withdraw-1", {}, {bridge}));
  CHECK(WaitFor([&] { return !f.Matches(bridge); }, 10));
  // Metadata: a disabled list stops matching; a new list appears.
  auto r = p.server.Client()->Patch(("/v1/lists/" + std::to_string(p.list_id)).c_str(), Bearer(p.keys["admin"]),
                                    R"({"enabled":false,"name":"renamed","pdq_threshold":5})", "application/json");
  REQUIRE(Status(r) == 200);
  CHECK(WaitFor([&] { return !f.Matches(added); }, 10));
  r = p.server.Client()->Post("/v1/lists", Bearer(p.keys["partner2"]), R"({"name":"second","kind":"allow"})",
                              "application/json");
  REQUIRE(Status(r) == 201);
  CHECK(WaitFor([&] { return Lists(f.server, f.keys["admin"]).size() == 2; }, 10));
  CheckSameAsPrimary(p, f);

  // Every list write and every review is refused, naming the primary.
  auto c = f.server.Client();
  const std::string url = "https://127.0.0.1:" + std::to_string(p.server.port());
  const std::string id = std::to_string(p.list_id);
  std::vector<httplib::Result> refused;
  refused.push_back(c->Post("/v1/lists", Bearer(f.keys["admin"]), R"({"name":"x","owner":"acme"})", "application/json"));
  refused.push_back(c->Post("/v1/lists", Bearer(f.keys["partner"]), R"({"name":"x"})", "application/json"));
  refused.push_back(c->Patch(("/v1/lists/" + id).c_str(), Bearer(f.keys["admin"]), R"({"enabled":true})", "application/json"));
  refused.push_back(c->Post(("/v1/lists/" + id + "/batches").c_str(), Bearer(f.keys["partner"]),
                            Batch("w", {RandomPdqHex(rng)}).dump(), "application/json"));
  refused.push_back(c->Post("/v1/audit/1/review", Bearer(f.keys["reviewer"]), R"({"disposition":"confirmed"})",
                            "application/json"));
  for (auto& rr : refused) {
    REQUIRE(Status(rr) == 409);
    CHECK(Json(rr)["error"]["code"] == "read_only_replica");
    CHECK(Json(rr)["error"]["message"].get<std::string>().find(url) != std::string::npos);
  }
  // Authentication and roles still come first.
  CHECK(Status(c->Post("/v1/lists", R"({"name":"x"})", "application/json")) == 401);
  CHECK(Status(c->Post("/v1/lists", Bearer(f.keys["ingest"]), R"({"name":"x"})", "application/json")) == 403);
  CheckSameAsPrimary(p, f);

  // The primary going away: the follower keeps screening what it has, says
  // so, and becomes unready once the lag passes follow.max_lag_s.
  p.server.Stop(SIGTERM);
  CHECK(f.Matches(added) == false);  // the list is disabled, as on the primary
  CHECK(WaitFor([&] { return f.Metrics().find("hashscreen_follow_connected 0") != std::string::npos; }, 30));
  CHECK(WaitFor([&] { return !f.Ready(); }, 30));
  const json lagging = Json(f.server.Client()->Get("/readyz"));
  CHECK(lagging["error"]["reason"] == "follower_lagging");
  // The lag with one decimal ("12.3 s behind"), not std::to_string's six.
  const std::string says = lagging["error"]["message"].get<std::string>();
  const size_t behind = says.find(" s behind");
  REQUIRE_MESSAGE(behind != std::string::npos, says);
  CHECK_MESSAGE(says.rfind('.', behind) + 2 == behind, says);
  CHECK(f.server.Log().find("screening goes on") != std::string::npos);
}

TEST_CASE("follower: SIGKILL mid-bootstrap, again and again, then resume: nothing lost, nothing applied twice") {
  ServerFixture p;
  std::mt19937_64 rng(11);
  std::vector<std::string> hashes;
  for (int b = 0; b < 4; ++b) {
    std::vector<std::string> add;
    for (int i = 0; i < 30000; ++i) add.push_back(RandomPdqHex(rng));
    Push(p, p.list_id, Batch("bulk-" + std::to_string(b), add));
    hashes.insert(hashes.end(), add.begin(), add.end());
  }
  std::vector<std::string> gone(hashes.begin(), hashes.begin() + 1500);
  Push(p, p.list_id, Batch("withdraw", {}, gone));
  Push(p, p.list_id, Batch("readd", {gone[0], gone[1]}));

  // Small pages: a bootstrap of ~150 pages, so the kills land inside it.
  FollowerProcess f(p, {"--follow-page-bytes", "32768"});
  int killed_mid_bootstrap = 0;
  for (int round = 0; round < 5; ++round) {
    f.Start();
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 500));
    const std::string metrics = f.Metrics();
    const bool mid = !f.Ready() && metrics.find("hashscreen_follow_cursor_record 0\n") == std::string::npos;
    if (mid) ++killed_mid_bootstrap;
    // Writes on the primary while the follower is down or catching up.
    Push(p, p.list_id, Batch("during-" + std::to_string(round), {RandomPdqHex(rng)}, {hashes[2000 + round]}));
    CHECK(f.server.Stop(SIGKILL) == 128 + SIGKILL);
  }
  MESSAGE("kills in the middle of the bootstrap: " << killed_mid_bootstrap << " of 5");
  CHECK(killed_mid_bootstrap >= 1);
  f.Start();
  f.WaitReady(120);
  CheckSameAsPrimary(p, f);
  CHECK(f.Matches(hashes[5000]));
  CHECK_FALSE(f.Matches(gone[100]));
  CHECK(f.Matches(gone[0]));
  CHECK(f.server.Log().find("does not continue") == std::string::npos);
}

TEST_CASE("follower: start-up refusals") {
  ServerFixture p;
  TempDir tmp;
  const fs::path key = tmp.path() / "k";
  std::ofstream(key) << p.keys["replica"] << "\n";
  const std::string primary = "https://127.0.0.1:" + std::to_string(p.server.port());
  auto refused = [&](std::vector<std::string> flags, const std::string& says) {
    static int n = 0;
    std::string name = "s";  // not "s" + to_string(): GCC 12's -Wrestrict false positive
    name += std::to_string(++n);
    const fs::path dir = tmp.path() / name;
    fs::create_directories(dir);
    ServerProcess s(dir);
    std::string error;
    CHECK_FALSE(s.Start(flags, &error));
    CHECK_MESSAGE(error.find(says) != std::string::npos, error);
  };
  fs::create_directories(tmp.path() / "empty");
  std::ofstream(tmp.path() / "empty" / "k");
  refused({"--follow", "http://10.1.2.3:8443", "--follow-key-file", key.string()}, "clear text");
  refused({"--follow", primary}, "follow.key_file");
  refused({"--follow-key-file", key.string()}, "need follow.url");
  refused({"--follow", primary, "--follow-key-file", (tmp.path() / "empty" / "k").string()}, "holds no key");
  refused({"--follow", primary, "--follow-key-file", (tmp.path() / "missing").string()}, "cannot read");
  // The primary's own database cannot become a follower of something else.
  p.server.Stop(SIGTERM);
  std::string error;
  CHECK_FALSE(p.server.Start({"--follow", primary, "--follow-key-file", key.string()}, &error));
  CHECK_MESSAGE(error.find("holds lists of its own") != std::string::npos, error);
}

TEST_CASE("follower: a wrong key is reported and retried, not fatal") {
  ServerFixture p;
  FollowerProcess f(p);
  std::ofstream(f.tmp.path() / "primary.key") << p.keys["ingest"] << "\n";  // a key of the wrong role
  f.Start();
  CHECK(WaitFor([&] { return f.server.Log().find("HTTP 403") != std::string::npos; }, 20));
  CHECK_FALSE(f.Ready());
  CHECK(Status(f.server.Client()->Get("/healthz")) == 200);
}

TEST_CASE("one key on every instance: keys create --secret-file on the primary and a follower") {
  ServerFixture p;
  TempDir tmp;
  std::string out, err;
  REQUIRE(RunProgram({HASHSCREEND, "keys", "secret"}, &out, &err) == 0);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  const std::string secret = out;
  const fs::path file = tmp.path() / "ingest.key";
  std::ofstream(file) << "  " << secret << "\n\n";  // surrounding whitespace is not part of it
  auto provision = [&](const fs::path& data, const fs::path& secret_file, std::string* out, std::string* err) {
    return RunProgram({HASHSCREEND, "keys", "create", "--create", "--data", data.string(), "--role", "ingest",
                       "--hash-queries", "--secret-file", secret_file.string()},
                      out, err);
  };
  // The primary is provisioned offline, then restarted (the follower below
  // follows its new port).
  p.server.Stop(SIGTERM);
  REQUIRE_MESSAGE(provision(p.server.data_dir(), file, &out, &err) == 0, err);
  CHECK(out.find("created") != std::string::npos);
  CHECK(out.find(secret) == std::string::npos);  // never printed
  // Again: repeatable, nothing changes.
  REQUIRE_MESSAGE(provision(p.server.data_dir(), file, &out, &err) == 0, err);
  CHECK(out.find("already present, unchanged") != std::string::npos);
  std::string error;
  REQUIRE_MESSAGE(p.server.Start({}, &error), error);

  FollowerProcess f(p);
  REQUIRE_MESSAGE(provision(f.server.data_dir(), file, &out, &err) == 0, err);
  f.Start();
  f.WaitReady();
  const std::string bridge = PdqHexOf(BridgeImage());
  for (ServerProcess* s : {&p.server, &f.server}) {
    auto r = s->Client()->Post("/v1/screen/hashes", Bearer(secret), json{{"pdq", bridge}}.dump(), "application/json");
    REQUIRE(Status(r) == 200);
    CHECK(Json(r)["match"] == true);
  }
  // Each instance audits the screen under the same key id.
  const std::string id = secret.substr(4, 16);
  for (auto [s, admin] : {std::pair{&p.server, p.keys["admin"]}, std::pair{&f.server, f.keys["admin"]}}) {
    auto r = s->Client()->Get("/v1/keys", Bearer(admin));
    REQUIRE(Status(r) == 200);
    CHECK(r->body.find(id) != std::string::npos);
  }

  // Refusals, each before anything is written: weak, malformed, several
  // lines, the same id with another secret.
  const fs::path fresh = tmp.path() / "fresh";
  std::string weak = "hsk_0123456789abcdef_";
  for (int i = 0; i < 8; ++i) weak += "deadbeef";
  REQUIRE(RunProgram({HASHSCREEND, "keys", "secret"}, &out, &err) == 0);
  std::string other = out.substr(0, out.find('\n'));
  other.replace(4, 16, secret.substr(4, 16));  // the same id, another secret
  struct Case {
    std::string content, says;
  };
  for (const Case& c : {Case{weak + "\n", "do not look random"}, Case{"hunter2\n", "must have the form"},
                        Case{secret + "\n" + secret + "\n", "on one line"}, Case{"\n", "holds no key"}}) {
    CAPTURE(c.says);
    const fs::path bad = tmp.path() / "bad.key";
    std::ofstream(bad) << c.content;
    CHECK(provision(fresh, bad, &out, &err) == 1);
    CHECK_MESSAGE(err.find(c.says) != std::string::npos, err);
    CHECK(err.find("deadbeefdeadbeef") == std::string::npos);
    CHECK_FALSE(fs::exists(fresh));  // checked before the database is created
  }
  CHECK(provision(tmp.path() / "fresh", tmp.path() / "missing.key", &out, &err) == 1);
  CHECK(err.find("cannot read") != std::string::npos);
  f.server.Stop(SIGTERM);
  const fs::path clash = tmp.path() / "clash.key";
  std::ofstream(clash) << other << "\n";
  CHECK(provision(f.server.data_dir(), clash, &out, &err) == 1);
  CHECK(err.find("another secret") != std::string::npos);
}
