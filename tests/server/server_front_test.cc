// The HTTP front of a real hashscreend under attack from the wire: bodies
// that must never be read (no key, compressed, over the limit), slow and idle
// clients, connection caps, a second server on the same port, SIGHUP, and
// the metrics listener. Raw sockets (RawClient) send exactly the bytes each
// case needs; answers are expected within a second where the design answers
// in milliseconds, so the margins are generous.
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "tests/server/raw_client.h"
#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string Head(const std::string& method, const std::string& path, const std::string& fields) {
  return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fields + "\r\n";
}

// A raw TLS connection to the fixture's server.
bool Open(RawClient& c, ServerFixture& f, const std::string& source_ip = "") {
  return c.Connect(f.server.port(), true, f.server.cert().string(), source_ip);
}

// The value of a counter or gauge line `name` in the metrics text (-1 if absent).
double MetricValue(const std::string& text, const std::string& name) {
  size_t p = text.find("\n" + name + " ");
  if (p == std::string::npos) return -1;
  return std::atof(text.c_str() + p + name.size() + 2);
}

std::string Metrics(ServerFixture& f) {
  httplib::Client scraper("127.0.0.1", f.server.metrics_port());
  auto r = scraper.Get("/metrics");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  return r->body;
}

}  // namespace

TEST_CASE("Content-Encoding gzip, deflate or br is refused with 415 before a body byte is sent") {
  ServerFixture f({}, /*with_list=*/false);
  for (const char* coding : {"gzip", "deflate", "br", "GZIP", "identity, gzip"}) {
    CAPTURE(coding);
    RawClient c;
    REQUIRE(Open(c, f));
    // 10 MiB announced, not one byte sent: the answer must come anyway.
    REQUIRE(c.Send(Head("POST", "/v1/screen", "Authorization: Bearer " + f.keys["ingest"] +
                                                  "\r\nContent-Type: image/jpeg\r\nContent-Encoding: " + coding +
                                                  "\r\nContent-Length: 10485760\r\n")));
    int status = 0;
    std::string head, body;
    REQUIRE(c.ReadResponse(5000, &status, &head, &body));
    CHECK(status == 415);
    CHECK(json::parse(body)["error"]["code"] == "unsupported");
    CHECK(head.find("Connection: close") != std::string::npos);
  }
  // Identity is no coding at all: accepted.
  auto c = f.server.Client();
  httplib::Headers h = Bearer(f.keys["ingest"]);
  h.emplace("Content-Encoding", "identity");
  auto r = c->Post("/v1/screen/hashes", h, R"({"md5":"00000000000000000000000000000000"})", "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE("a body without a valid key is never read: 401 before the first body byte, server memory stays flat") {
  ServerFixture f({}, /*with_list=*/false);
  const pid_t pid = f.server.pid();
  long hwm_before = ProcessMemoryKb(pid, "VmHWM");
  REQUIRE(hwm_before > 0);
  const std::string big_body_fields[] = {"Content-Length: 209715200\r\n", "Transfer-Encoding: chunked\r\n"};
  const std::string keys[] = {"", "Authorization: Bearer hsk_0123456789abcdef_" + std::string(64, '0') + "\r\n",
                              "Authorization: Bearer " + f.keys["reviewer"] + "\r\n"};
  for (const auto& framing : big_body_fields) {
    for (const auto& key : keys) {
      CAPTURE(framing);
      CAPTURE(key.substr(0, 40));
      RawClient c;
      REQUIRE(Open(c, f));
      REQUIRE(c.Send(Head("POST", "/v1/screen", key + "Content-Type: image/jpeg\r\n" + framing)));
      int status = 0;
      std::string head, body;
      REQUIRE(c.ReadResponse(5000, &status, &head, &body));
      CHECK(status == (key.find(f.keys["reviewer"]) != std::string::npos ? 403 : 401));
      CHECK(head.find("Connection: close") != std::string::npos);
      // Whatever the client sends now is not buffered: 8 MiB later the
      // server has closed, and its peak memory has not grown by the body.
      std::string chunk(1 << 20, 'x');
      if (framing[0] == 'T') chunk = "100000\r\n" + chunk + "\r\n";
      for (int i = 0; i < 8 && c.Send(chunk); ++i) {
      }
      CHECK(c.WaitClosed(5000));
    }
  }
  long hwm_after = ProcessMemoryKb(pid, "VmHWM");
  MESSAGE("server VmHWM " << hwm_before / 1024 << " MB -> " << hwm_after / 1024 << " MB");
  CHECK(hwm_after - hwm_before < 24 * 1024);
  // The server is fine and still answers.
  CHECK(f.server.Client()->Get("/healthz")->status == 200);
}

TEST_CASE("a chunked body over the limit stops at the limit with 413, and the refused screen is audited") {
  ServerFixture f({"--max-body-bytes", "1048576"}, /*with_list=*/false);
  for (const char* path : {"/v1/screen", "/v1/screen/hashes"}) {
    CAPTURE(path);
    RawClient c;
    REQUIRE(Open(c, f));
    REQUIRE(c.Send(Head("POST", path, "Authorization: Bearer " + f.keys["ingest"] +
                                           "\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n")));
    // Up to 16 MiB in 64 KiB chunks; the answer must come once ~1 MiB is in.
    std::string chunk = "10000\r\n" + std::string(65536, 'z') + "\r\n";
    size_t sent = 0;
    int status = 0;
    std::string head, body;
    bool answered = false;
    for (int i = 0; i < 256 && !answered; ++i) {
      if (!c.Send(chunk)) break;
      sent += 65536;
      answered = c.ReadResponse(i < 15 ? 1 : 50, &status, &head, &body);
    }
    if (!answered) answered = c.ReadResponse(5000, &status, &head, &body);
    REQUIRE(answered);
    CHECK(status == 413);
    CHECK(json::parse(body)["error"]["code"] == "too_large");
    CHECK(head.find("Connection: close") != std::string::npos);
    CHECK(sent < (8u << 20));  // it did not wait for the whole stream
  }
  // The screen route audits the refusal with the bytes counted up to the cut.
  auto audit = f.server.Client()->Get("/v1/audit?verdict=error", Bearer(f.keys["reviewer"]));
  REQUIRE(audit);
  json entries = Json(audit)["entries"];
  REQUIRE(entries.size() == 1);
  CHECK(entries[0]["error"] == "too_large");
  uint64_t bytes = entries[0]["image"]["bytes"].get<uint64_t>();
  CHECK(bytes > 1048576u);
  CHECK(bytes <= 1048576u + 65536u);
}

TEST_CASE("a POST without Content-Length gets 411 at once, one over the limit 413 at once") {
  ServerFixture f({"--max-body-bytes", "1048576"}, /*with_list=*/false);
  struct Case {
    std::string path, fields;
    int status;
    bool closes;
  } cases[] = {
      {"/v1/screen", "Content-Type: image/jpeg\r\n", 411, false},
      {"/v1/screen/hashes", "Content-Type: application/json\r\n", 411, false},
      {"/v1/screen", "Content-Type: image/jpeg\r\nContent-Length: 99999999999\r\n", 413, true},
      {"/v1/screen/batch", "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 1048577\r\n", 413, true},
      {"/v1/lists/1", "Content-Type: application/json\r\nContent-Length: 99999999999999\r\n", 413, true},
  };
  for (const auto& k : cases) {
    CAPTURE(k.path);
    CAPTURE(k.fields);
    RawClient c;
    REQUIRE(Open(c, f));
    std::string role = k.path == "/v1/lists/1" ? "admin" : "ingest";
    std::string method = k.path == "/v1/lists/1" ? "PATCH" : "POST";
    auto t0 = Clock::now();
    REQUIRE(c.Send(Head(method, k.path, "Authorization: Bearer " + f.keys[role] + "\r\n" + k.fields)));
    int status = 0;
    std::string head, body;
    REQUIRE(c.ReadResponse(5000, &status, &head, &body));
    CHECK(SecondsSince(t0) < 1.0);
    CHECK(status == k.status);
    CHECK((head.find("Connection: close") != std::string::npos) == k.closes);
  }
}

TEST_CASE("300 idle and 40 trickling connections: health and screens still answer within a second") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  // Every connection of this test comes from 127.0.0.1: lift the per-peer cap
  // (tested below) so only the deadlines and the event loop are measured.
  ServerFixture f({"--max-connections-per-peer", "2000", "--header-timeout-s", "5"});
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 300; ++i) {
    idle.push_back(std::make_unique<RawClient>());
    REQUIRE(idle.back()->Connect(f.server.port(), /*tls=*/false));  // TCP only: not even a ClientHello
  }
  std::atomic<bool> stop{false};
  std::atomic<int> trickle_closed{0}, trickle_started{0};
  std::vector<std::thread> tricklers;
  struct Joiner {  // also when a failed REQUIRE leaves the test early
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~Joiner() {
      stop = true;
      for (auto& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } joiner{stop, tricklers};
  for (int t = 0; t < 4; ++t) {
    tricklers.emplace_back([&] {
      std::vector<std::unique_ptr<RawClient>> mine;
      for (int i = 0; i < 10; ++i) {
        auto c = std::make_unique<RawClient>();
        if (c->Connect(f.server.port(), true, f.server.cert().string()) &&
            c->Send("POST /v1/screen HTTP/1.1\r\nHost: x\r\n")) {
          ++trickle_started;
          mine.push_back(std::move(c));
        }
      }
      // One header line every 2 s, until the server hangs up (head deadline).
      std::vector<bool> closed(mine.size(), false);
      for (int round = 0; !stop && round < 8; ++round) {
        for (int ms = 0; ms < 2000 && !stop; ms += 100) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        for (size_t i = 0; i < mine.size(); ++i) {
          if (closed[i]) continue;
          if (!mine[i]->Send("X-Slow-" + std::to_string(round) + ": 1\r\n") || mine[i]->WaitClosed(1)) {
            closed[i] = true;
            ++trickle_closed;
          }
        }
      }
    });
  }
  std::string jpeg = FileBytes(ConformanceImages() / "bridge-mods" / "square-256x256.jpg");
  double worst_health = 0, worst_screen = 0;
  int probes = 0;
  auto start = Clock::now();
  while (SecondsSince(start) < 4.5) {  // inside the idle connections' head deadline
    auto t0 = Clock::now();
    auto h = f.server.Client()->Get("/healthz");
    CHECK((h && h->status == 200));
    worst_health = std::max(worst_health, SecondsSince(t0));
    t0 = Clock::now();
    auto s = f.Screen(jpeg);
    CHECK((s && s->status == 200));
    worst_screen = std::max(worst_screen, SecondsSince(t0));
    ++probes;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  MESSAGE(probes << " probes; worst /healthz " << worst_health * 1000 << " ms, worst screen " << worst_screen * 1000 << " ms");
  CHECK(trickle_started == 40);
  CHECK(worst_health < 1.0);
  CHECK(worst_screen < 1.0);
  // The head deadline (5 s from accept) closes every trickler and idle
  // connection, although each trickler sent a line every 2 s.
  auto wait_end = Clock::now() + std::chrono::seconds(6);
  while (trickle_closed < 40 && Clock::now() < wait_end) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  for (auto& t : tricklers) t.join();
  CHECK(trickle_closed == 40);
  int idle_closed = 0;
  for (auto& c : idle) idle_closed += c->WaitClosed(100);
  CHECK(idle_closed == 300);
  CHECK(MetricValue(Metrics(f), "hashscreen_http_connections_closed_total{reason=\"header_timeout\"}") >= 340);
}

TEST_CASE("the per-peer cap closes that peer's oldest idle connection first and refuses when none is idle") {
  // A long head grace: the heads below stay within it, so nothing is evictable.
  ServerFixture f({"--max-connections-per-peer", "8", "--head-grace-ms", "60000"}, /*with_list=*/false);
  // Eight idle keep-alive connections (each was served once) from 127.0.0.1
  // fill its share.
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<RawClient>());
    REQUIRE(Open(*idle.back(), f));
    REQUIRE(idle.back()->Send(Head("GET", "/healthz", "")));
    int status = 0;
    std::string head, body;
    REQUIRE(idle.back()->ReadResponse(5000, &status, &head, &body));
    REQUIRE(status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a clear age order
  }
  // A ninth connection is served; the oldest idle one was closed for it.
  auto r = f.server.Client()->Get("/healthz");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(idle[0]->WaitClosed(2000));
  CHECK_FALSE(idle[7]->WaitClosed(200));
  // Now make every slot busy: each connection has started a request head.
  std::vector<std::unique_ptr<RawClient>> busy;
  for (auto& c : idle) c->Close();
  idle.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int i = 0; i < 8; ++i) {
    busy.push_back(std::make_unique<RawClient>());
    REQUIRE(Open(*busy.back(), f));
    REQUIRE(busy.back()->Send("GET /healthz HTTP/1.1\r\n"));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  RawClient refused;
  REQUIRE(refused.Connect(f.server.port(), false));  // the kernel accepts; the server closes it at once
  CHECK(refused.WaitClosed(2000));
  // Another address is another peer, with its own share.
  RawClient other;
  REQUIRE(other.Connect(f.server.port(), true, f.server.cert().string(), "127.0.0.2"));
  REQUIRE(other.Send(Head("GET", "/healthz", "")));
  int status = 0;
  std::string head, body;
  REQUIRE(other.ReadResponse(5000, &status, &head, &body));
  CHECK(status == 200);
  // The busy ones finish their requests normally.
  for (auto& c : busy) REQUIRE(c->Send("Host: x\r\n\r\n"));
  for (auto& c : busy) {
    REQUIRE(c->ReadResponse(5000, &status, &head, &body));
    CHECK(status == 200);
  }
  std::string m = Metrics(f);
  CHECK(MetricValue(m, "hashscreen_http_connections_closed_total{reason=\"evicted_idle\"}") >= 1);
  CHECK(MetricValue(m, "hashscreen_http_connections_refused_total{reason=\"max_connections_per_peer\"}") >= 1);
}

TEST_CASE("a full cap of connections stuck in a request head: heads older than the grace go, oldest first") {
  // 4 addresses x 4 connections fill the overall cap of 16, each under the
  // per-peer cap: the attack that needs max_connections / per-peer addresses.
  ServerFixture f({"--max-connections", "16", "--max-connections-per-peer", "4", "--head-grace-ms", "3000",
                    "--header-timeout-s", "60"},
                  /*with_list=*/false);
  std::vector<std::unique_ptr<RawClient>> heads;
  for (int i = 0; i < 16; ++i) {
    heads.push_back(std::make_unique<RawClient>());
    REQUIRE(Open(*heads.back(), f, "127.0.0." + std::to_string(11 + i / 4)));
    REQUIRE(heads.back()->Send("GET /healthz HTTP/1.1\r\nX-a: b\r\n"));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Within the grace every head is a client that may still be on its way: refused.
  RawClient early;
  REQUIRE(early.Connect(f.server.port(), false, "", "127.0.0.1"));
  CHECK(early.WaitClosed(2000));
  for (auto& c : heads) CHECK_FALSE(c->WaitClosed(0));
  // Past the grace, each newcomer closes the oldest head. The newcomers stay
  // open and in their own heads (a served, idle one would be the next victim,
  // idle before heads, and one that closes frees a slot by itself).
  std::this_thread::sleep_for(std::chrono::milliseconds(3100));
  std::vector<std::unique_ptr<RawClient>> newcomers;
  for (int i = 0; i < 3; ++i) {
    newcomers.push_back(std::make_unique<RawClient>());
    REQUIRE(Open(*newcomers.back(), f, "127.0.0.1"));
    REQUIRE(newcomers.back()->Send("GET /healthz HTTP/1.1\r\n"));
    CHECK(heads[i]->WaitClosed(2000));  // the oldest heads, in order
    CHECK_FALSE(heads[i + 1]->WaitClosed(0));
  }
  // The newcomers are within their grace: they finish their heads and are served.
  for (auto& c : newcomers) {
    REQUIRE(c->Send("Host: x\r\n\r\n"));
    int status = 0;
    std::string head, body;
    REQUIRE(c->ReadResponse(5000, &status, &head, &body));
    CHECK(status == 200);
  }
  CHECK_FALSE(heads[3]->WaitClosed(0));
  // A connection that has finished its head is never evicted: the next head
  // completes (its request is answered), and no newcomer closes it.
  int status = 0;
  std::string head, body;
  REQUIRE(heads[15]->Send("Host: x\r\n\r\n"));
  REQUIRE(heads[15]->ReadResponse(5000, &status, &head, &body));
  CHECK(status == 200);
  std::string m = Metrics(f);
  CHECK(MetricValue(m, "hashscreen_http_connections_closed_total{reason=\"evicted_slow_head\"}") == 3);
  CHECK(MetricValue(m, "hashscreen_http_connections_refused_total{reason=\"max_connections\"}") >= 1);
}

TEST_CASE("a second hashscreend on the same port fails with address in use and a non-zero exit") {
  ServerFixture f({}, /*with_list=*/false);
  TempDir other;
  std::string out, err;
  // A server that binds anyway would serve forever: `timeout` ends it (exit 124).
  int rc = RunProgram({"/usr/bin/timeout", "20", HASHSCREEND, "serve", "--data", (other.path() / "d").string(), "--listen",
                       "127.0.0.1:" + std::to_string(f.server.port()), "--tls-cert", f.server.cert().string(),
                       "--tls-key", (f.server.dir() / "key.pem").string(), "--metrics-listen", "127.0.0.1:0"},
                      &out, &err);
  CHECK(rc != 0);
  CHECK(out.find("listening on") == std::string::npos);
  CHECK(err.find("cannot bind 127.0.0.1:" + std::to_string(f.server.port()) + ": address in use") != std::string::npos);
  // The same for the metrics listener's port.
  rc = RunProgram({"/usr/bin/timeout", "20", HASHSCREEND, "serve", "--data", (other.path() / "d").string(), "--listen", "127.0.0.1:0",
                   "--tls-cert", f.server.cert().string(), "--tls-key", (f.server.dir() / "key.pem").string(),
                   "--metrics-listen", "127.0.0.1:" + std::to_string(f.server.metrics_port())},
                  &out, &err);
  CHECK(rc != 0);
  CHECK(err.find("metrics.listen") != std::string::npos);
  CHECK(err.find("address in use") != std::string::npos);
  // The first server still has all the traffic.
  CHECK(f.server.Client()->Get("/healthz")->status == 200);
}

TEST_CASE("media types are case-insensitive: Image/PNG is image/png, in a screen and in batch parts") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  std::string png = FileBytes(ConformanceImages() / "misc-images" / "c.png");
  auto r = f.Screen(png, "ingest", "Image/PNG");
  REQUIRE(r);
  CHECK(r->status == 200);
  r = f.Screen(png, "ingest", "APPLICATION/Octet-Stream; charset=binary");
  REQUIRE(r);
  CHECK(r->status == 200);
  r = f.Screen(png, "ingest", "text/plain");
  REQUIRE(r);
  CHECK(r->status == 415);
  std::string jpeg = FileBytes(BridgeImage());
  std::string batch = "--B0und\r\nContent-Disposition: form-data; name=\"a\"; filename=\"a.png\"\r\nContent-Type: IMAGE/PNG\r\n\r\n" +
                      png + "\r\n--B0und\r\ncontent-disposition: Form-Data; name=\"b\"\r\ncontent-type: Image/Jpeg\r\n\r\n" +
                      jpeg + "\r\n--B0und--\r\n";
  auto c = f.server.Client();
  auto b = c->Post("/v1/screen/batch", Bearer(f.keys["ingest"]), batch, "Multipart/Form-Data; Boundary=\"B0und\"");
  REQUIRE(b);
  REQUIRE(b->status == 200);
  json results = Json(b)["results"];
  REQUIRE(results.size() == 2);
  CHECK(results[0]["match"] == false);
  CHECK(results[1]["match"] == true);
}

TEST_CASE("a malformed multipart batch is refused with 400 naming the problem") {
  ServerFixture f({}, /*with_list=*/false);
  auto c = f.server.Client();
  struct Case {
    std::string body, problem;
  } cases[] = {
      {"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nbytes with no end", "not terminated by the boundary"},
      {"--x\r\nContent-Type: image/png\r\n\r\nabc\r\n--x--\r\n", "no Content-Disposition"},
      {"--yy\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc\r\n--yy--\r\n", "no multipart boundary line"},
      {"--xy\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc\r\n--xy--\r\n", "not followed by CRLF"},
      {"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n folded\r\n\r\nabc\r\n--x--\r\n", "folding"},
  };
  // A part with a Content-Encoding is refused like a compressed request body.
  auto gz = c->Post("/v1/screen/batch", Bearer(f.keys["ingest"]),
                    "--x\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Encoding: gzip\r\n\r\nabc\r\n--x--\r\n",
                    "multipart/form-data; boundary=x");
  REQUIRE(gz);
  CHECK(gz->status == 415);
  for (const auto& k : cases) {
    CAPTURE(k.problem);
    auto r = c->Post("/v1/screen/batch", Bearer(f.keys["ingest"]), k.body, "multipart/form-data; boundary=x");
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(Json(r)["error"]["message"].get<std::string>().find(k.problem) != std::string::npos);
  }
}

TEST_CASE("SIGHUP keeps the server running and reloads the certificate for new connections") {
  ServerFixture f({}, /*with_list=*/false);
  REQUIRE(f.server.Client()->Get("/healthz")->status == 200);
  // A keep-alive connection opened with the first certificate.
  RawClient old_conn;
  REQUIRE(Open(old_conn, f));
  // A new certificate and key, written over the configured files.
  fs::path cert, key;
  MakeTestCertificate(f.server.dir(), &cert, &key);
  REQUIRE(cert == f.server.cert());
  // Before SIGHUP the server still presents the old one: verification against the new one fails.
  CHECK_FALSE(f.server.Client()->Get("/healthz"));
  REQUIRE(kill(f.server.pid(), SIGHUP) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  REQUIRE(kill(f.server.pid(), 0) == 0);  // still running
  auto r = f.server.Client()->Get("/healthz");
  REQUIRE(r);
  CHECK(r->status == 200);
  // The connection made before the reload keeps working.
  REQUIRE(old_conn.Send(Head("GET", "/healthz", "")));
  int status = 0;
  std::string head, body;
  REQUIRE(old_conn.ReadResponse(5000, &status, &head, &body));
  CHECK(status == 200);
  CHECK(f.server.Log().find("SIGHUP: reloaded the TLS certificate") != std::string::npos);
  // Unusable files: the reload fails, says so, and the current certificate stays.
  std::ofstream(f.server.dir() / "key.pem") << "not a key";
  REQUIRE(kill(f.server.pid(), SIGHUP) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  REQUIRE(kill(f.server.pid(), 0) == 0);
  CHECK(f.server.Client()->Get("/healthz")->status == 200);
  CHECK(f.server.Log().find("SIGHUP: TLS reload failed") != std::string::npos);
  CHECK(f.server.Stop(SIGTERM) == 0);
}

namespace {

// Whether `pid` (a child of this process) has exited within `ms`: its
// /proc entry is a zombie until it is reaped.
bool ExitsWithin(pid_t pid, int ms) {
  for (int waited = 0; waited < ms; waited += 50) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t paren = all.rfind(')');
    if (!in || paren == std::string::npos || all.substr(paren + 2, 1) == "Z") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

TEST_CASE("SIGHUP with a FIFO, directory or device at the certificate or key path fails the reload, and SIGTERM still stops") {
  ServerFixture f({}, /*with_list=*/false);
  const fs::path cert = f.server.cert(), key = f.server.dir() / "key.pem";
  const fs::path cert_copy = f.server.dir() / "cert.copy", key_copy = f.server.dir() / "key.copy";
  fs::copy_file(cert, cert_copy);
  fs::copy_file(key, key_copy);
  struct Case {
    fs::path path;
    std::string kind, setting;
  } cases[] = {{key, "fifo", "server.tls_key"}, {cert, "fifo", "server.tls_cert"}, {key, "dir", "server.tls_key"},
               {cert, "device", "server.tls_cert"}};
  size_t failures = 0;
  for (const auto& k : cases) {
    CAPTURE(k.kind);
    CAPTURE(k.setting);
    fs::remove(k.path);
    if (k.kind == "fifo") REQUIRE(mkfifo(k.path.c_str(), 0600) == 0);
    if (k.kind == "dir") fs::create_directory(k.path);
    if (k.kind == "device") fs::create_symlink("/dev/zero", k.path);
    REQUIRE(kill(f.server.pid(), SIGHUP) == 0);
    // The reload must not block: it logs its failure, naming the setting.
    std::string log;
    for (int i = 0; i < 40; ++i) {
      log = f.server.Log();
      size_t n = 0;
      for (size_t p = 0; (p = log.find("SIGHUP: TLS reload failed", p)) != std::string::npos; ++p) ++n;
      if (n > failures) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    size_t n = 0;
    for (size_t p = 0; (p = log.find("SIGHUP: TLS reload failed", p)) != std::string::npos; ++p) ++n;
    CHECK(n == failures + 1);
    failures = n;
    CHECK(log.find(k.setting + ": " + k.path.string() + ": not a regular file") != std::string::npos);
    fs::remove_all(k.path);
    fs::copy_file(k.path == cert ? cert_copy : key_copy, k.path);
    // The current certificate is still served.
    auto r = f.server.Client()->Get("/healthz");
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  // A FIFO left in place: one more SIGHUP, then SIGTERM must stop the server.
  fs::remove(cert);
  REQUIRE(mkfifo(cert.c_str(), 0600) == 0);
  REQUIRE(kill(f.server.pid(), SIGHUP) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  REQUIRE(kill(f.server.pid(), SIGTERM) == 0);
  const bool exited = ExitsWithin(f.server.pid(), 10000);
  CHECK(exited);
  if (!exited) kill(f.server.pid(), SIGKILL);  // a wedged server must not outlive the test
  CHECK(f.server.Stop(SIGTERM) == (exited ? 0 : 128 + SIGKILL));
  fs::remove(cert);
  fs::copy_file(cert_copy, cert);
}

TEST_CASE("the metrics listener is refused off loopback unless allowed") {
  TempDir tmp;
  std::string out, err;
  int rc = RunProgram({"/usr/bin/timeout", "20", HASHSCREEND, "serve", "--plain-http", "--listen", "127.0.0.1:0", "--data",
                       (tmp.path() / "d").string(), "--metrics-listen", "0.0.0.0:0"},
                      &out, &err);
  CHECK(rc == 1);
  CHECK(err.find("metrics.listen") != std::string::npos);
  CHECK(err.find("allow_remote") != std::string::npos);
}

TEST_CASE("pipelined requests, Expect: 100-continue and HEAD on one keep-alive connection") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  RawClient c;
  REQUIRE(Open(c, f));
  // Two requests in one write: two answers, in order.
  REQUIRE(c.Send(Head("GET", "/healthz", "") + Head("GET", "/readyz", "")));
  int status = 0;
  std::string head, body;
  REQUIRE(c.ReadResponse(5000, &status, &head, &body));
  CHECK(status == 200);
  CHECK(json::parse(body)["ok"] == true);
  REQUIRE(c.ReadResponse(5000, &status, &head, &body));
  CHECK(status == 200);
  CHECK(json::parse(body)["ready"] == true);
  // 100-continue: the body is sent only after the server said so.
  std::string jpeg = FileBytes(BridgeImage());
  REQUIRE(c.Send(Head("POST", "/v1/screen", "Authorization: Bearer " + f.keys["ingest"] +
                                                "\r\nContent-Type: image/jpeg\r\nExpect: 100-continue\r\nContent-Length: " +
                                                std::to_string(jpeg.size()) + "\r\n")));
  REQUIRE(c.ReadUntil("HTTP/1.1 100 Continue\r\n\r\n", 5000));
  c.ReadResponse(0, &status, &head, &body);  // consumes the interim answer
  REQUIRE(c.Send(jpeg));
  REQUIRE(c.ReadResponse(10000, &status, &head, &body));
  CHECK(status == 200);
  CHECK(json::parse(body)["match"] == true);
  // HEAD: the GET route's head, no body.
  REQUIRE(c.Send(Head("HEAD", "/healthz", "")));
  REQUIRE(c.ReadUntil("\r\n\r\n", 5000));
  CHECK(c.received().rfind("HTTP/1.1 200", 0) == 0);
  CHECK(c.received().find("Content-Length: 11") != std::string::npos);
  CHECK(c.received().size() == c.received().find("\r\n\r\n") + 4);
}

TEST_CASE("body buffer space is taken as bytes arrive: announced lengths hold nothing, and one key cannot starve another") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f({"--max-body-bytes", "1048576", "--body-buffer-bytes", "4194304", "--body-buffer-per-key-bytes", "2097152"});
  auto admin = f.server.Client();
  auto made = admin->Post("/v1/keys", {{"Authorization", "Bearer " + f.keys["admin"]}}, R"({"role":"ingest"})",
                          "application/json");
  REQUIRE(made);
  REQUIRE(made->status == 201);
  const std::string victim = json::parse(made->body)["secret"].get<std::string>();
  const std::string jpeg = FileBytes(BridgeImage());
  auto screen_as_victim = [&] {
    auto c = f.server.Client();
    auto r = c->Post("/v1/screen", {{"Authorization", "Bearer " + victim}}, jpeg, "image/jpeg");
    return r ? r->status : -1;
  };
  // The attacker's key announces 8 x 1 MB (twice the whole buffer) and sends nothing.
  const std::string fields =
      "Authorization: Bearer " + f.keys["ingest"] + "\r\nContent-Type: image/jpeg\r\nContent-Length: 1000000\r\n";
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(std::make_unique<RawClient>());
    REQUIRE(Open(*held.back(), f));
    REQUIRE(held.back()->Send(Head("POST", "/v1/screen", fields)));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // At most the byte that ends each head (the parser's last step) is held,
  // not the 8 MB announced.
  CHECK(MetricValue(Metrics(f), "hashscreen_http_body_buffer_bytes") <= 8);
  CHECK(screen_as_victim() == 200);
  // Now it sends all but the last byte on each: its share (2 MiB) fits two
  // bodies, the third is refused, and the victim still screens.
  int refused = 0;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(held[i]->Send(std::string(999999, 'a')));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  for (int i = 0; i < 3; ++i) {
    int status = 0;
    std::string head, body;
    if (held[i]->ReadResponse(1000, &status, &head, &body)) {
      CHECK(status == 503);
      CHECK(head.find("Retry-After: 1") != std::string::npos);
      ++refused;
    }
  }
  CHECK(refused == 1);
  CHECK(screen_as_victim() == 200);
  CHECK(MetricValue(Metrics(f), "hashscreen_http_body_buffer_refusals_total") == 1);
}

TEST_CASE("chunk extensions count: a chunked body's framing may not exceed twice the body limit") {
  ServerFixture f({"--max-body-bytes", "1048576"}, /*with_list=*/false);
  RawClient c;
  REQUIRE(Open(c, f));
  REQUIRE(c.Send(Head("POST", "/v1/screen",
                      "Authorization: Bearer " + f.keys["ingest"] +
                          "\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n")));
  // One payload byte per 4 KB of chunk line: 8 MiB of wire for 2 KB of body.
  const std::string chunk = "1;" + std::string(4000, 'e') + "\r\nA\r\n";
  std::string burst;
  for (int i = 0; i < 64; ++i) burst += chunk;
  // Up to 8 MiB of framing; the server may stop reading (and close) well
  // before, and how much the sockets' buffers absorb after that varies.
  for (size_t sent = 0; sent + burst.size() <= (8u << 20) && c.Send(burst);) sent += burst.size();
  int status = 0;
  std::string head, body;
  REQUIRE(c.ReadResponse(5000, &status, &head, &body));
  CHECK(status == 413);  // without the framing limit: no answer until the body deadline
  CHECK(head.find("Connection: close") != std::string::npos);
  CHECK(c.WaitClosed(2000));
}

TEST_CASE("uploads beyond the body buffer budget get 503 with Retry-After instead of memory") {
  ServerFixture f({"--max-body-bytes", "1048576", "--body-buffer-bytes", "1500000"}, /*with_list=*/false);
  std::string fields = "Authorization: Bearer " + f.keys["ingest"] + "\r\nContent-Type: image/jpeg\r\nContent-Length: 1000000\r\n";
  RawClient first;
  REQUIRE(Open(first, f));
  REQUIRE(first.Send(Head("POST", "/v1/screen", fields) + std::string(990000, 'a')));  // holds ~1 MB of the budget
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  RawClient second;
  REQUIRE(Open(second, f));
  REQUIRE(second.Send(Head("POST", "/v1/screen", fields) + std::string(600000, 'a')));
  int status = 0;
  std::string head, body;
  REQUIRE(second.ReadResponse(5000, &status, &head, &body));
  CHECK(status == 503);
  CHECK(head.find("Retry-After: 1") != std::string::npos);
  // The first upload completes normally (its bytes are not an image: 415).
  REQUIRE(first.Send(std::string(10000, 'a')));
  REQUIRE(first.ReadResponse(10000, &status, &head, &body));
  CHECK(status == 415);
  CHECK(MetricValue(Metrics(f), "hashscreen_http_body_buffer_refusals_total") == 1);
}
