// hashscreen keys create|list|show|revoke|unblock against a real hashscreend,
// and the event entries in `hashscreen audit list`.
#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;

namespace {

int Cli(const ServerFixture& f, const std::string& role, std::vector<std::string> args, std::string* out,
        std::string* err) {
  std::vector<std::string> argv = {HASHSCREEN_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--server", "https://127.0.0.1:" + std::to_string(f.server.port()), "--cacert",
                           f.server.cert().string(), "--key", f.keys.at(role)});
  return RunProgram(argv, out, err);
}

}  // namespace

TEST_CASE("hashscreen keys: create (secret last), list (no secrets), show, revoke at once, unblock, audit list shows the events") {
  ServerFixture f({}, /*with_list=*/false);
  std::string out, err;
  REQUIRE(Cli(f, "admin",
              {"keys", "create", "--role", "ingest", "--hash-queries", "--label", "pipeline eu-1", "--expires-in", "90d",
               "--rate", "10"},
              &out, &err) == 0);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  const std::string secret = out.substr(out.rfind('\n') + 1);
  REQUIRE(secret.rfind("hsk_", 0) == 0);
  const std::string id = secret.substr(4, 16);
  CHECK(out.find("key id " + id + ", role ingest") == 0);
  auto c = f.server.Client();
  CHECK(c->Post("/v1/screen/hashes", Bearer(secret), R"({"md5":"00000000000000000000000000000000"})", "application/json")
            ->status == 200);

  REQUIRE(Cli(f, "admin", {"keys", "list"}, &out, &err) == 0);
  CHECK(out.find(id) != std::string::npos);
  CHECK(out.find("hash-queries") != std::string::npos);
  CHECK(out.find("rate=10/s") != std::string::npos);
  CHECK(out.find("pipeline eu-1") != std::string::npos);
  CHECK(out.find(secret.substr(22)) == std::string::npos);
  REQUIRE(Cli(f, "admin", {"keys", "list", "--json"}, &out, &err) == 0);
  CHECK(json::parse(out)["keys"].size() == 7);  // the fixture's six and this one
  REQUIRE(Cli(f, "admin", {"keys", "show", id}, &out, &err) == 0);
  json k = json::parse(out);
  CHECK(k["label"] == "pipeline eu-1");
  CHECK(k["expires_ms"].get<int64_t>() > k["created_ms"].get<int64_t>() + 89ll * 86400000);
  CHECK(k["last_used_ms"].is_number());

  REQUIRE(Cli(f, "admin", {"keys", "revoke", id}, &out, &err) == 0);
  CHECK(out == "revoked " + id + "\n");
  CHECK(c->Post("/v1/screen/hashes", Bearer(secret), R"({"md5":"00000000000000000000000000000000"})", "application/json")
            ->status == 401);
  REQUIRE(Cli(f, "admin", {"keys", "unblock", id}, &out, &err) == 0);  // not blocked: nothing to clear, not an error

  REQUIRE(Cli(f, "reviewer", {"audit", "list", "--verdict", "event"}, &out, &err) == 0);
  CHECK(out.find("event key_created key=" + id + ": role ingest") != std::string::npos);
  CHECK(out.find("event key_revoked key=" + id) != std::string::npos);

  // Mistakes are errors that say what is wrong.
  CHECK(Cli(f, "admin", {"keys", "revoke", "0123456789abcdef"}, &out, &err) == 1);
  CHECK(err.find("no key 0123456789abcdef") != std::string::npos);
  CHECK(Cli(f, "admin", {"keys", "create", "--role", "ingest", "--hash-query"}, &out, &err) == 1);
  CHECK(err.find("--hash-query") != std::string::npos);
  CHECK(Cli(f, "admin", {"keys", "create", "--role", "ingest", "--rate", "1e-300"}, &out, &err) == 1);
  CHECK(err.find("--rate") != std::string::npos);
  CHECK(Cli(f, "admin", {"keys", "create", "--role", "ingest", "--expires-in", "90"}, &out, &err) == 1);
  CHECK(err.find("--expires-in") != std::string::npos);
  CHECK(Cli(f, "admin", {"keys", "create", "--role", "reviewer", "--no-probing-limit"}, &out, &err) == 1);
  CHECK(err.find("ingest keys only") != std::string::npos);
  CHECK(Cli(f, "reviewer", {"keys", "list"}, &out, &err) == 1);
  CHECK(err.find("may not call") != std::string::npos);
  CHECK(Cli(f, "admin", {"keys", "frobnicate"}, &out, &err) == 2);
}
