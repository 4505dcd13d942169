// The operator's kit against a real hashscreend: --version of both binaries,
// the build-info and process metrics, request ids (accepted, refused when
// malformed, generated; in the response header, every error body, the log
// and the audit entry), JSON logs, and the reasons /readyz gives.
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <set>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/version.h"
#include "tests/server/raw_client.h"
#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;

namespace {

// The value of metric line `name{...}` or `name` in Prometheus text; -1 when absent.
double MetricValue(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0 || line.rfind(name + "{", 0) == 0) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

}  // namespace

TEST_CASE("--version of hashscreend and hashscreen: version, commit, compiler, SIMD paths") {
  for (const char* binary : {HASHSCREEND, HASHSCREEN_CLI}) {
    std::string out;
    REQUIRE(RunProgram({binary, "--version"}, &out) == 0);
    const std::string name = std::string(binary).substr(std::string(binary).rfind('/') + 1);
    CHECK(out.rfind(name + " " + std::string(base::Build().version) + " (commit ", 0) == 0);
    CHECK(base::Build().version == "0.1.0");  // CMake's project(VERSION)
    CHECK(!base::Build().commit.empty());
    CHECK(out.find("\ncompiler: ") != std::string::npos);
    CHECK(out.find("\nsimd: ") != std::string::npos);
    CHECK(out.find("pdq=") != std::string::npos);
  }
}

TEST_CASE("metrics: hashscreen_build_info and the process metrics from /proc") {
  ServerFixture f({}, false);
  httplib::Client plain("127.0.0.1", f.server.metrics_port());
  auto r = plain.Get("/metrics");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const base::BuildInfo& b = base::Build();
  CHECK(r->body.find("hashscreen_build_info{version=\"" + std::string(b.version) + "\",commit=\"" + std::string(b.commit) +
                     "\",compiler=\"") != std::string::npos);
  CHECK(MetricValue(r->body, "hashscreen_build_info") == 1);
  const double start = MetricValue(r->body, "process_start_time_seconds");
  const double now = static_cast<double>(time(nullptr));
  CHECK(start > now - 600);
  CHECK(start <= now + 60);  // btime is whole seconds and drifts a little from the wall clock
  CHECK(MetricValue(r->body, "process_resident_memory_bytes") > 1 << 20);
  CHECK(MetricValue(r->body, "process_open_fds") >= 4);  // listeners, epoll, the store's files
  CHECK(MetricValue(r->body, "process_cpu_seconds_total") >= 0);
  CHECK(r->body.find("# TYPE process_cpu_seconds_total counter") != std::string::npos);
  // Each metric once: HELP/TYPE not repeated.
  CHECK(r->body.find("# TYPE process_open_fds") == r->body.rfind("# TYPE process_open_fds"));
}

namespace {

bool IsGeneratedId(const std::string& id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The log once it holds `needle` (the request line is written as the answer
// goes out), or the log as it is after a few seconds.
std::string LogWith(const ServerProcess& server, const std::string& needle) {
  for (int i = 0; i < 100; ++i) {
    std::string log = server.Log();
    if (log.find(needle) != std::string::npos) return log;
    usleep(50 * 1000);
  }
  return server.Log();
}

}  // namespace

TEST_CASE("request ids: a valid X-Request-Id is echoed, in the error body, the log line and the audit entry") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f({"--rate-per-key", "0"});
  auto c = f.server.Client();

  // An error before any key: 401 names the request.
  auto r = c->Get("/v1/lists", {{"X-Request-Id", "op-trace.42_A~"}});
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(r->get_header_value("X-Request-Id") == "op-trace.42_A~");
  CHECK(Json(r)["error"]["request_id"] == "op-trace.42_A~");
  CHECK(Json(r)["error"]["code"] == "unauthenticated");
  // Unknown route, wrong method, wrong role, bad body: every error body has it.
  struct Case {
    std::string method, path, key, body;
    int status;
  };
  for (const Case& k : {Case{"GET", "/v1/nothing", "", "", 404}, Case{"DELETE", "/v1/lists", f.keys["admin"], "", 405},
                        Case{"GET", "/v1/keys", f.keys["ingest"], "", 403},
                        Case{"POST", "/v1/lists", f.keys["partner"], "{\"name\":1}", 400}}) {
    httplib::Headers h = k.key.empty() ? httplib::Headers{} : Bearer(k.key);
    h.emplace("X-Request-Id", "case-" + std::to_string(k.status));
    httplib::Request req;
    req.method = k.method;
    req.path = k.path;
    req.headers = h;
    req.body = k.body;
    if (!k.body.empty()) req.set_header("Content-Type", "application/json");
    auto res = c->send(req);
    REQUIRE(res);
    CHECK(res->status == k.status);
    CHECK(res->get_header_value("X-Request-Id") == "case-" + std::to_string(k.status));
    CHECK(Json(res)["error"]["request_id"] == "case-" + std::to_string(k.status));
  }

  // A screen: the id is in the response header, the request's log line and
  // the audit entry (reviewers see it).
  httplib::Headers h = Bearer(f.keys["ingest"]);
  h.emplace("X-Request-Id", "screen-0001");
  auto screen = c->Post("/v1/screen", h, FileBytes(BridgeImage()), "image/jpeg");
  REQUIRE(screen);
  REQUIRE(screen->status == 200);
  CHECK(screen->get_header_value("X-Request-Id") == "screen-0001");
  const std::string audit_id = Json(screen)["audit_id"].get<std::string>();
  auto entry = c->Get(("/v1/audit/" + audit_id).c_str(), Bearer(f.keys["reviewer"]));
  REQUIRE(entry);
  REQUIRE(entry->status == 200);
  CHECK(Json(entry)["request_id"] == "screen-0001");
  // A review records the reviewer's request id in its own entry.
  h = Bearer(f.keys["reviewer"]);
  h.emplace("X-Request-Id", "review-0001");
  auto review = c->Post(("/v1/audit/" + audit_id + "/review").c_str(), h, R"({"disposition":"confirmed"})",
                        "application/json");
  REQUIRE(review);
  REQUIRE(review->status == 201);
  CHECK(Json(review)["request_id"] == "review-0001");
  auto verify = c->Get("/v1/audit/verify", Bearer(f.keys["admin"]));
  REQUIRE(verify);
  CHECK(Json(verify)["ok"] == true);

  const std::string log = LogWith(f.server, "request_id=review-0001");
  std::istringstream lines(log);
  bool screen_line = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("route=/v1/screen ") != std::string::npos && line.find("request_id=screen-0001") != std::string::npos) {
      screen_line = true;
    }
  }
  CHECK_MESSAGE(screen_line, log);
}

TEST_CASE("request ids: a malformed X-Request-Id is replaced by a generated one and never reflected") {
  ServerFixture f({}, false);
  auto c = f.server.Client();
  std::set<std::string> seen;
  for (const std::string& bad : {std::string(65, 'a'), std::string("has space"), std::string("<script>alert(1)</script>"),
                                 std::string("quote\"d"), std::string("caf\xc3\xa9"), std::string("a,b"), std::string()}) {
    httplib::Headers h{{"X-Request-Id", bad}};
    auto r = c->Get("/v1/nothing", h);
    REQUIRE(r);
    CHECK(r->status == 404);
    const std::string id = r->get_header_value("X-Request-Id");
    CHECK_MESSAGE(IsGeneratedId(id), id);
    CHECK(Json(r)["error"]["request_id"] == id);
    if (!bad.empty()) CHECK(r->body.find(bad) == std::string::npos);
    seen.insert(id);
  }
  // Two X-Request-Id headers: which one is meant is unclear, so neither.
  httplib::Headers two{{"X-Request-Id", "first"}, {"X-Request-Id", "second"}};
  auto r = c->Get("/healthz", two);
  REQUIRE(r);
  CHECK(IsGeneratedId(r->get_header_value("X-Request-Id")));
  seen.insert(r->get_header_value("X-Request-Id"));
  // Without the header: a fresh id each time, also on successes.
  for (int i = 0; i < 3; ++i) {
    auto ok = c->Get("/readyz");
    REQUIRE(ok);
    CHECK(ok->status == 200);
    CHECK(IsGeneratedId(ok->get_header_value("X-Request-Id")));
    seen.insert(ok->get_header_value("X-Request-Id"));
  }
  CHECK(seen.size() == 11);
  // The longest valid id (64 bytes) is kept.
  const std::string longest(64, 'z');
  auto kept = c->Get("/healthz", {{"X-Request-Id", longest}});
  REQUIRE(kept);
  CHECK(kept->get_header_value("X-Request-Id") == longest);
}

TEST_CASE("log.format json: every line is one JSON object with time, level, message, fields and the request id") {
  ServerFixture f({"--log-format", "json"}, false);
  auto c = f.server.Client();
  auto r = c->Get("/v1/nothing", {{"X-Request-Id", "json-log-1"}});
  REQUIRE(r);
  const std::string log = LogWith(f.server, "json-log-1");
  std::istringstream lines(log);
  int objects = 0;
  bool request_line = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    REQUIRE_MESSAGE(j.is_object(), line);
    ++objects;
    CHECK(j["time"].is_string());
    CHECK(j["level"].is_string());
    CHECK(j["message"].is_string());
    CHECK(j["fields"].is_object());
    if (j["message"] == "request" && j.value("request_id", "") == "json-log-1") {
      request_line = true;
      CHECK(j["fields"]["status"] == "404");
      CHECK(j["fields"]["method"] == "GET");
    }
  }
  CHECK(objects >= 2);  // "started" and the request
  CHECK_MESSAGE(request_line, log);
}

TEST_CASE("log.format: an unknown format stops the start naming the setting") {
  TempDir tmp;
  ServerProcess server(tmp.path());
  server.CreateKey("admin");
  std::string error;
  CHECK_FALSE(server.Start({"--log-format", "yaml"}, &error));
  CHECK_MESSAGE(error.find("log") != std::string::npos, error);
}

TEST_CASE("readyz: a follower that has not caught up yet is 503 with reason follower_not_caught_up") {
  TempDir tmp;
  ServerProcess server(tmp.path());
  server.CreateKey("admin");
  const fs::path key_file = tmp.path() / "primary.key";
  std::ofstream(key_file) << "no-primary-listens-here\n";
  // Port 1 on loopback: nothing listens, so the first catch-up never ends.
  std::string error;
  REQUIRE_MESSAGE(server.Start({"--follow", "http://127.0.0.1:1", "--follow-key-file", key_file.string()}, &error), error);
  auto c = server.Client();
  auto r = c->Get("/readyz", {{"X-Request-Id", "probe-1"}});
  REQUIRE(r);
  CHECK(r->status == 503);
  const json body = Json(r);
  CHECK(body["error"]["reason"] == "follower_not_caught_up");
  CHECK(body["error"]["code"] == "unavailable");
  CHECK(body["error"]["request_id"] == "probe-1");
  CHECK(body["error"]["message"].get<std::string>().find("first catch-up") != std::string::npos);
  CHECK(c->Get("/healthz")->status == 200);  // alive, only not ready
}

TEST_CASE("readyz: a probe in flight when SIGTERM arrives is answered 503 with reason draining, then the server exits") {
  TempDir tmp;
  ServerProcess server(tmp.path());
  server.CreateKey("admin");
  std::string error;
  REQUIRE_MESSAGE(server.Start({}, &error), error);
  // A slow probe: its head is in, its (announced) body not yet, so the
  // request is in flight when the drain begins and is answered after it.
  RawClient c;
  REQUIRE(c.Connect(server.port(), true, server.cert().string()));
  REQUIRE(c.Send("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: drain-1\r\nContent-Length: 4\r\n\r\nab"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  REQUIRE(kill(server.pid(), SIGTERM) == 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (server.Log().find("stopping: no new connections") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE_MESSAGE(server.Log().find("stopping: no new connections") != std::string::npos, server.Log());
  // No new connection is taken any more...
  RawClient late;
  CHECK_FALSE((late.Connect(server.port(), true, server.cert().string()) && late.Send("GET /readyz HTTP/1.1\r\n\r\n") &&
               late.ReadUntil("HTTP/1.1 200", 2000)));
  // ...and the probe in flight learns why.
  REQUIRE(c.Send("cd"));
  int status = 0;
  std::string head, body;
  REQUIRE(c.ReadResponse(10000, &status, &head, &body));
  CHECK(status == 503);
  const json j = json::parse(body, nullptr, false);
  CHECK(j["error"]["reason"] == "draining");
  CHECK(j["error"]["code"] == "unavailable");
  CHECK(j["error"]["request_id"] == "drain-1");
  CHECK(j["error"]["message"] == "shutting down");
  CHECK(c.WaitClosed(10000));  // no keep-alive while draining
  CHECK(server.Stop(0) == 0);  // already exiting: its status is 0
}

TEST_CASE("request ids: refusals of the HTTP front (a malformed chunk) name their request too") {
  ServerFixture f({"--rate-per-key", "0"}, false);
  // The head is accepted (route, key), then the body's chunk size is not hex:
  // the front answers 400 itself, with the head's request id.
  RawClient raw;
  REQUIRE(raw.Connect(f.server.port(), true, f.server.cert().string()));
  REQUIRE(raw.Send("POST /v1/screen/hashes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + f.keys["ingest"] +
                   "\r\nX-Request-Id: front-refusal-1\r\nContent-Type: application/json\r\n"
                   "Transfer-Encoding: chunked\r\n\r\nzz\r\n"));
  int status = 0;
  std::string head, body;
  REQUIRE(raw.ReadResponse(10000, &status, &head, &body));
  CHECK(status == 400);
  CHECK_MESSAGE(head.find("X-Request-Id: front-refusal-1\r\n") != std::string::npos, head);
  CHECK(json::parse(body, nullptr, false)["error"]["request_id"] == "front-refusal-1");
  // A refusal before the head is complete (too many header fields) gets a fresh id.
  auto c = f.server.Client();
  httplib::Headers many;
  for (int i = 0; i < 80; ++i) many.emplace("X-Filler-" + std::to_string(i), "x");
  auto r = c->Get("/healthz", many);
  REQUIRE(r);
  CHECK(r->status == 431);
  CHECK(IsGeneratedId(r->get_header_value("X-Request-Id")));
  CHECK(Json(r)["error"]["request_id"] == r->get_header_value("X-Request-Id"));
}
