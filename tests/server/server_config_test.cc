// hashscreend's command line: configuration errors, plain HTTP refusal, the
// keys commands, and a config file with an HMAC key.
#include <csignal>
#include <fstream>

#include "tests/server/server_fixture.h"

using namespace testing_support;

namespace {

int Serve(const std::vector<std::string>& extra, std::string* err) {
  std::vector<std::string> argv = {HASHSCREEND, "serve"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::string out;
  return RunProgram(argv, &out, err);
}

void Write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

}  // namespace

TEST_CASE("bad configuration stops the start with an error naming the key") {
  TempDir tmp;
  std::string err;
  Write(tmp.path() / "unknown.toml", "[server]\nlisten = \"127.0.0.1:0\"\nlisen = \"x\"\n");
  CHECK(Serve({"--config", (tmp.path() / "unknown.toml").string()}, &err) == 1);
  CHECK(err.find("server.lisen") != std::string::npos);
  Write(tmp.path() / "type.toml", "[limits]\nmax_pixels = \"many\"\n");
  CHECK(Serve({"--config", (tmp.path() / "type.toml").string()}, &err) == 1);
  CHECK(err.find("limits.max_pixels") != std::string::npos);
  Write(tmp.path() / "range.toml", "[screening]\nmin_quality = 101\n");
  CHECK(Serve({"--config", (tmp.path() / "range.toml").string()}, &err) == 1);
  CHECK(err.find("screening.min_quality") != std::string::npos);
  Write(tmp.path() / "syntax.toml", "[server\n");
  CHECK(Serve({"--config", (tmp.path() / "syntax.toml").string()}, &err) == 1);
  CHECK(err.find("syntax.toml:1") != std::string::npos);
  CHECK(Serve({"--no-such-flag", "1"}, &err) == 1);
  CHECK(err.find("--no-such-flag") != std::string::npos);
  CHECK(Serve({"--screen-workers", "lots"}, &err) == 1);
  CHECK(err.find("limits.screen_workers") != std::string::npos);
  CHECK(Serve({"--config", (tmp.path() / "missing.toml").string()}, &err) == 1);
}

TEST_CASE("plain HTTP is refused off loopback, and HTTPS needs a usable certificate") {
  TempDir tmp;
  std::string err;
  CHECK(Serve({"--plain-http", "--listen", "0.0.0.0:0", "--data", (tmp.path() / "d").string()}, &err) == 1);
  CHECK(err.find("plain_http") != std::string::npos);
  CHECK(Serve({"--listen", "127.0.0.1:0", "--data", (tmp.path() / "d").string()}, &err) == 1);
  CHECK(err.find("tls_cert") != std::string::npos);
  Write(tmp.path() / "bad.pem", "not a certificate");
  CHECK(Serve({"--listen", "127.0.0.1:0", "--data", (tmp.path() / "d").string(), "--tls-cert",
               (tmp.path() / "bad.pem").string(), "--tls-key", (tmp.path() / "bad.pem").string()},
              &err) == 1);
  CHECK(err.find("tls_cert") != std::string::npos);
}

TEST_CASE("keys create prints the secret last, list shows no secret, a revoked key gets 401") {
  TempDir tmp;
  ServerProcess server(tmp.path());
  std::string secret = server.CreateKey("reviewer");
  CHECK(secret.rfind("hsk_", 0) == 0);
  std::string id = secret.substr(4, 16);
  std::string out, err;
  REQUIRE(RunProgram({HASHSCREEND, "keys", "list", "--data", server.data_dir().string()}, &out, &err) == 0);
  CHECK(out.find(id) != std::string::npos);
  CHECK(out.find(secret) == std::string::npos);
  CHECK(RunProgram({HASHSCREEND, "keys", "create", "--data", server.data_dir().string(), "--role", "root"}, &out, &err) == 1);
  CHECK(err.find("unknown role") != std::string::npos);
  CHECK(RunProgram({HASHSCREEND, "keys", "create", "--data", server.data_dir().string(), "--role", "partner"}, &out, &err) == 1);

  std::string error;
  REQUIRE_MESSAGE(server.Start({}, &error), error);
  CHECK(server.Client()->Get("/v1/audit", Bearer(secret))->status == 200);
  // While the server runs the database is locked: the CLI says so.
  CHECK(RunProgram({HASHSCREEND, "keys", "revoke", "--data", server.data_dir().string(), id}, &out, &err) == 1);
  CHECK(err.find("the server is running") != std::string::npos);
  REQUIRE(server.Stop(SIGTERM) == 0);
  REQUIRE(RunProgram({HASHSCREEND, "keys", "revoke", "--data", server.data_dir().string(), id}, &out, &err) == 0);
  REQUIRE_MESSAGE(server.Start({}, &error), error);
  CHECK(server.Client()->Get("/v1/audit", Bearer(secret))->status == 401);
}

TEST_CASE("a config file with an HMAC key serves, another key is refused at start, and without the key verify is not ok") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  TempDir tmp;
  ServerProcess server(tmp.path());
  std::string admin = server.CreateKey("admin"), ingest = server.CreateKey("ingest");
  Write(tmp.path() / "hmac.key", "0123456789abcdef0123456789abcdef\n");
  Write(tmp.path() / "other.key", "fedcba9876543210fedcba9876543210\n");
  Write(tmp.path() / "hs.toml", "[audit]\nhmac_key_file = \"" + (tmp.path() / "hmac.key").string() +
                                    "\"\n[log]\nrequests = false\n");
  std::string error;
  REQUIRE_MESSAGE(server.Start({"--config", (tmp.path() / "hs.toml").string()}, &error), error);
  auto c = server.Client();
  REQUIRE(c->Post("/v1/screen", Bearer(ingest), FileBytes(BridgeImage()), "image/jpeg")->status == 200);
  auto shown = Json(c->Get("/v1/audit/verify", Bearer(admin)));
  CHECK(shown["ok"] == true);
  CHECK(server.Log().find("msg=request") == std::string::npos);  // log.requests = false took effect
  CHECK(shown["result"] == "ok");
  CHECK(shown["head_authenticated"] == true);
  REQUIRE(server.Stop(SIGTERM) == 0);
  // Another key would extend the chain with MACs nobody can check: refused.
  CHECK_FALSE(server.Start({"--hmac-key-file", (tmp.path() / "other.key").string()}, &error));
  CHECK_MESSAGE(error.find("wrong key") != std::string::npos, error);
  // Without a key the server runs, but verify says it could not check.
  REQUIRE_MESSAGE(server.Start({}, &error), error);
  auto v = Json(server.Client()->Get("/v1/audit/verify", Bearer(admin)));
  CHECK(v["ok"] == false);
  CHECK(v["result"] == "hmac_unchecked");
  CHECK(v["problem"].get<std::string>().find("HMAC") != std::string::npos);
}

TEST_CASE("hashscreend lists import loads a file into a list, a re-run replays instead of duplicating") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f({}, /*with_list=*/false);
  auto c = f.server.Client();
  auto created = c->Post("/v1/lists", Bearer(f.keys["partner"]), R"({"name":"imported"})", "application/json");
  REQUIRE(created->status == 201);
  std::string id = std::to_string(Json(created)["id"].get<uint64_t>());
  REQUIRE(f.server.Stop(SIGTERM) == 0);
  fs::path file = f.tmp.path() / "list.csv";
  Write(file, "type,hash,ref\npdq," + PdqHexOf(BridgeImage()) + ",from-import\n");
  std::string out, err;
  std::vector<std::string> argv = {HASHSCREEND, "lists", "import", "--data", f.server.data_dir().string(), "--list", id,
                                   file.string()};
  REQUIRE_MESSAGE(RunProgram(argv, &out, &err) == 0, err);
  CHECK(out.find("1 added") != std::string::npos);
  REQUIRE(RunProgram(argv, &out, &err) == 0);
  CHECK(out.find("(1 replayed)") != std::string::npos);
  std::vector<std::string> bad = {HASHSCREEND, "lists", "import", "--data", f.server.data_dir().string(), "--list", "999",
                                  file.string()};
  CHECK(RunProgram(bad, &out, &err) == 1);
  std::string error;
  REQUIRE_MESSAGE(f.server.Start({}, &error), error);
  auto r = f.server.Client()->Post("/v1/screen", Bearer(f.keys["ingest"]), FileBytes(BridgeImage()), "image/jpeg");
  REQUIRE(r);
  CHECK(Json(r)["match"] == true);
}

TEST_CASE("HASHSCREEN_SIMD naming an unknown path, or one the CPU lacks, stops hashscreend naming the valid paths") {
  TempDir tmp;
  std::string out, err;
  int rc = RunProgram({"/usr/bin/env", "HASHSCREEN_SIMD=avx9000", HASHSCREEND, "serve", "--plain-http", "--listen",
                       "127.0.0.1:0", "--data", (tmp.path() / "d").string()},
                      &out, &err);
  CHECK(rc != 0);
  CHECK(out.find("listening") == std::string::npos);
  CHECK(err.find("avx9000") != std::string::npos);
  CHECK(err.find("scalar, avx2, avx512") != std::string::npos);
  // The offline commands refuse too: no command runs another path than asked.
  rc = RunProgram({"/usr/bin/env", "HASHSCREEN_SIMD=AVX2", HASHSCREEND, "keys", "list", "--data",
                   (tmp.path() / "d").string()},
                  &out, &err);
  CHECK(rc != 0);
  CHECK(err.find("HASHSCREEN_SIMD") != std::string::npos);
}

TEST_CASE("--hmac-key-file, --config or a TLS file naming a directory exits 1 with the setting named, not an abort") {
  TempDir tmp;
  const std::string dir = tmp.path().string(), data = (tmp.path() / "d").string();
  std::string err;
  CHECK(Serve({"--plain-http", "--listen", "127.0.0.1:0", "--data", data, "--hmac-key-file", dir}, &err) == 1);
  CHECK(err.find("audit.hmac_key_file") != std::string::npos);
  CHECK(Serve({"--config", dir}, &err) == 1);
  CHECK(err.find("not a regular file") != std::string::npos);
  CHECK(Serve({"--listen", "127.0.0.1:0", "--data", data, "--tls-cert", dir, "--tls-key", dir}, &err) == 1);
  CHECK(err.find("server.tls_cert") != std::string::npos);
}
