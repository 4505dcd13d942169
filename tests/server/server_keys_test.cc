// API keys managed while a real hashscreend runs (/v1/keys), and the offline
// `hashscreend keys|lists` commands: existing databases only, and a clear
// answer while the server runs.
#include <csignal>
#include <thread>

#include "base/clock.h"
#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;

namespace {

json PostKey(ServerFixture& f, const json& body, int expect_status = 201) {
  auto r = f.server.Client()->Post("/v1/keys", Bearer(f.keys["admin"]), body.dump(), "application/json");
  REQUIRE(r);
  CHECK_MESSAGE(r->status == expect_status, r->body);
  return Json(r);
}

}  // namespace

TEST_CASE("an admin creates, lists and revokes keys while the server runs, a revoked key gets 401 on its next request") {
  ServerFixture f({}, /*with_list=*/false);
  auto c = f.server.Client();
  json made = PostKey(f, {{"role", "reviewer"}, {"label", "night shift"}});
  const std::string secret = made["secret"], id = made["id"];
  CHECK(secret.rfind("hsk_" + id + "_", 0) == 0);
  CHECK(made["label"] == "night shift");
  CHECK(made["last_used_ms"].is_null());
  CHECK(made["expires_ms"].is_null());
  CHECK(c->Get("/v1/audit", Bearer(secret))->status == 200);

  auto listed = c->Get("/v1/keys", Bearer(f.keys["admin"]));
  REQUIRE(listed->status == 200);
  CHECK(listed->body.find(secret.substr(22)) == std::string::npos);  // never a secret again
  bool found = false;
  const json all = Json(listed);
  for (const auto& k : all["keys"]) {
    if (k["id"] != id) continue;
    found = true;
    CHECK(k["role"] == "reviewer");
    CHECK(k["last_used_ms"].is_number());  // the request above, from memory
    CHECK(k["revoked_ms"].is_null());
    CHECK(k.count("secret") == 0);
  }
  CHECK(found);

  auto revoked = c->Delete(("/v1/keys/" + id).c_str(), Bearer(f.keys["admin"]));
  REQUIRE(revoked);
  REQUIRE(revoked->status == 200);
  CHECK(Json(revoked)["revoked_ms"].is_number());
  // The very next request: no restart, no cache to wait for.
  CHECK(c->Get("/v1/audit", Bearer(secret))->status == 401);
  CHECK(c->Delete(("/v1/keys/" + id).c_str(), Bearer(f.keys["admin"]))->status == 200);  // idempotent
  CHECK(c->Delete("/v1/keys/0123456789abcdef", Bearer(f.keys["admin"]))->status == 404);
  CHECK(c->Get("/v1/keys/0123456789abcdef", Bearer(f.keys["admin"]))->status == 404);

  // Only admins manage keys; every change is in the audit log.
  for (const char* role : {"ingest", "reviewer", "partner", "replica"}) {
    CAPTURE(role);
    CHECK(c->Get("/v1/keys", Bearer(f.keys[role]))->status == 403);
    CHECK(c->Post("/v1/keys", Bearer(f.keys[role]), R"({"role":"admin"})", "application/json")->status == 403);
    CHECK(c->Delete(("/v1/keys/" + id).c_str(), Bearer(f.keys[role]))->status == 403);
  }
  json events = Json(c->Get("/v1/audit?verdict=event", Bearer(f.keys["reviewer"])))["entries"];
  REQUIRE(events.size() == 2);
  CHECK(events[0]["event"] == "key_created");
  CHECK(events[0]["key_id"] == id);
  CHECK(events[1]["event"] == "key_revoked");
  CHECK(Json(c->Get("/v1/audit/verify", Bearer(f.keys["admin"])))["ok"] == true);

  // Revocation and last use survive a restart.
  REQUIRE(f.server.Stop(SIGTERM) == 0);
  std::string error;
  REQUIRE_MESSAGE(f.server.Start({}, &error), error);
  c = f.server.Client();
  CHECK(c->Get("/v1/audit", Bearer(secret))->status == 401);
  json after = Json(c->Get(("/v1/keys/" + id).c_str(), Bearer(f.keys["admin"])));
  CHECK(after["revoked_ms"].is_number());
  CHECK(after["last_used_ms"].is_number());
}

TEST_CASE("key creation validates every field and refuses unknown ones by name") {
  ServerFixture f({}, /*with_list=*/false);
  auto bad = [&](const json& body, const char* needle) {
    json j = PostKey(f, body, 400);
    CHECK(j["error"]["code"] == "invalid_argument");
    CHECK_MESSAGE(j["error"]["message"].get<std::string>().find(needle) != std::string::npos, j.dump());
  };
  bad({{"label", "x"}}, "role");
  bad({{"role", "root"}}, "unknown role");
  bad({{"role", "partner"}}, "partner");
  bad({{"role", "partner"}, {"partner", "@operator"}}, "partner name");
  bad({{"role", "ingest"}, {"hash_query", true}}, "hash_query");
  bad({{"role", "reviewer"}, {"hash_queries", true}}, "ingest keys only");
  bad({{"role", "ingest"}, {"hash_queries", "yes"}}, "hash_queries");
  bad({{"role", "ingest"}, {"expires_ms", 1000}}, "expiry");
  bad({{"role", "ingest"}, {"rate_per_s", 1e-300}}, "rate");
  bad({{"role", "ingest"}, {"rate_per_s", 1e9}}, "rate");
  bad({{"role", "ingest"}, {"label", std::string(300, 'x')}}, "label");
  auto r = f.server.Client()->Post("/v1/keys", Bearer(f.keys["admin"]), "[1,2]", "application/json");
  CHECK(r->status == 400);
}

TEST_CASE("an expired key authenticates as unknown") {
  ServerFixture f({}, /*with_list=*/false);
  json made = PostKey(f, {{"role", "reviewer"}, {"expires_ms", base::NowMs() + 1500}});
  const std::string secret = made["secret"];
  auto c = f.server.Client();
  CHECK(c->Get("/v1/audit", Bearer(secret))->status == 200);
  while (base::NowMs() <= made["expires_ms"].get<int64_t>()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto r = c->Get("/v1/audit", Bearer(secret));
  CHECK(r->status == 401);
  CHECK(Json(r)["error"]["code"] == "unauthenticated");
}

TEST_CASE("offline commands open an existing database only, and name the running server") {
  TempDir tmp;
  ServerProcess server(tmp.path());
  const std::string typo = (tmp.path() / "typo").string();
  std::string out, err;
  // A typo in --data no longer makes a new, empty database.
  for (std::vector<std::string> argv :
       {std::vector<std::string>{HASHSCREEND, "keys", "list", "--data", typo},
        std::vector<std::string>{HASHSCREEND, "keys", "revoke", "--data", typo, "0123456789abcdef"},
        std::vector<std::string>{HASHSCREEND, "keys", "create", "--data", typo, "--role", "admin"},
        std::vector<std::string>{HASHSCREEND, "lists", "import", "--data", typo, "--list", "1", "/dev/null"}}) {
    CAPTURE(argv[1] + " " + argv[2]);
    CHECK(RunProgram(argv, &out, &err) == 1);
    CHECK(err.find("no database in " + typo) != std::string::npos);
    CHECK_FALSE(fs::exists(typo));
  }
  // The first admin key: --create makes the database.
  REQUIRE(RunProgram({HASHSCREEND, "keys", "create", "--create", "--data", server.data_dir().string(), "--role", "admin"},
                     &out, &err) == 0);
  const std::string admin = out.substr(out.rfind("hsk_"), 4 + 16 + 1 + 64);
  REQUIRE(RunProgram({HASHSCREEND, "keys", "list", "--data", server.data_dir().string()}, &out, &err) == 0);
  CHECK(out.find(admin.substr(4, 16)) != std::string::npos);
  CHECK(RunProgram({HASHSCREEND, "keys", "create", "--data", server.data_dir().string(), "--role", "ingest",
                    "--no-probing-limit"},
                   &out, &err) == 1);
  CHECK(err.find("audit") != std::string::npos);
  CHECK(RunProgram({HASHSCREEND, "keys", "list", "--data", server.data_dir().string(), "--bogus"}, &out, &err) == 2);
  CHECK(err.find("--bogus") != std::string::npos);
  for (const char* list : {"-1", "0", "18446744073709551616", "1x"}) {
    CAPTURE(std::string(list));
    CHECK(RunProgram({HASHSCREEND, "lists", "import", "--data", server.data_dir().string(), "--list", list, "/dev/null"},
                     &out, &err) == 1);
    CHECK(err.find("--list") != std::string::npos);
  }

  std::string error;
  REQUIRE_MESSAGE(server.Start({}, &error), error);
  struct Case {
    std::vector<std::string> argv;
    std::string online;
  };
  const std::string data = server.data_dir().string();
  for (const Case& c : {Case{{HASHSCREEND, "keys", "list", "--data", data}, "hashscreen keys list"},
                        Case{{HASHSCREEND, "keys", "create", "--data", data, "--role", "admin"}, "hashscreen keys create"},
                        Case{{HASHSCREEND, "keys", "create", "--create", "--data", data, "--role", "admin"},
                             "hashscreen keys create"},
                        Case{{HASHSCREEND, "keys", "revoke", "--data", data, "0123456789abcdef"}, "hashscreen keys revoke"},
                        Case{{HASHSCREEND, "lists", "import", "--data", data, "--list", "1", "/dev/null"},
                             "hashscreen lists push"}}) {
    CAPTURE(c.argv[1] + " " + c.argv[2]);
    CHECK(RunProgram(c.argv, &out, &err) == 1);
    CHECK(err.find("the server is running on " + data + "; use `" + c.online + "` against it") != std::string::npos);
  }
  // ... and the same work is done online.
  auto r = server.Client()->Post("/v1/keys", Bearer(admin), R"({"role":"ingest","hash_queries":true})", "application/json");
  REQUIRE(r);
  CHECK(r->status == 201);
}

TEST_CASE("a key's own rate replaces the server's, with a bounded Retry-After however slow") {
  ServerFixture f({}, /*with_list=*/false);
  auto c = f.server.Client();
  // 0.001/s: after the burst (limits.rate_burst, 100) the next token is ~1000 s away.
  json slow = PostKey(f, {{"role", "reviewer"}, {"rate_per_s", 0.001}});
  CHECK(slow["rate_per_s"] == 0.001);
  const std::string secret = slow["secret"];
  int statuses[2] = {0, 0};
  for (int i = 0; i < 101; ++i) statuses[c->Get("/v1/audit?limit=1", Bearer(secret))->status == 429]++;
  CHECK(statuses[0] == 100);
  CHECK(statuses[1] == 1);
  auto r = c->Get("/v1/audit?limit=1", Bearer(secret));
  CHECK(r->status == 429);
  const int retry = std::stoi(r->get_header_value("Retry-After"));
  CHECK(retry >= 900);
  CHECK(retry <= 1000);
  // The server's default still holds for the other keys.
  CHECK(c->Get("/v1/audit?limit=1", Bearer(f.keys["reviewer"]))->status == 200);
  // And the key keeps its rate over a restart.
  REQUIRE(f.server.Stop(SIGTERM) == 0);
  std::string error;
  REQUIRE_MESSAGE(f.server.Start({}, &error), error);
  c = f.server.Client();
  statuses[0] = statuses[1] = 0;
  for (int i = 0; i < 101; ++i) statuses[c->Get("/v1/audit?limit=1", Bearer(secret))->status == 429]++;
  CHECK(statuses[1] == 1);
}
