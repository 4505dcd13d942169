// Exchanges (sync/exchange/): the config tables, the snapshot diff, the
// bounded HTTP fetch against hostile servers, and the url and file kinds end
// to end: a real hashscreend following a plain local HTTP server (cpp-httplib
// in the test) that serves a list, changes it, serves a bad line, answers
// 304 and 429, hangs; and a hashscreend SIGKILLed while it applies a large
// snapshot, restarted: nothing lost or doubled.
#include <doctest/doctest.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "base/hex.h"
#include "server/config.h"
#include "sync/exchange/exchange_config.h"
#include "sync/exchange/http_fetcher.h"
#include "sync/exchange/snapshot_diff.h"
#include "tests/sync/exchange_server.h"

namespace {

using namespace testing_support;
using base::Status;
using nlohmann::json;

// A plain HTTP server on a free loopback port, run by the test: serves
// `body` at /list.csv with an ETag (its generation), answers 304 to a
// matching If-None-Match, and can be told to hang or to answer an error.
struct ListServer : LoopbackHttp {
  std::mutex mu;
  std::string body;
  int generation = 0;
  int fail_status = 0;          // answer this instead (with Retry-After 2 for 429)
  std::atomic<bool> hang{false};
  std::atomic<bool> quit{false};
  std::atomic<int> requests{0}, conditional{0}, not_modified{0};

  ListServer() {
    http.Get("/list.csv", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      while (hang && !quit) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      std::lock_guard l(mu);
      if (fail_status) {
        res.status = fail_status;
        if (fail_status == 429) res.set_header("Retry-After", "2");
        return;
      }
      const std::string etag = "\"g" + std::to_string(generation) + "\"";
      if (req.has_header("If-None-Match")) {
        ++conditional;
        if (req.get_header_value("If-None-Match") == etag) {
          ++not_modified;
          res.status = 304;
          return;
        }
      }
      res.set_header("ETag", etag);
      res.set_content(body, "text/csv");
    });
    Listen();
  }
  ~ListServer() {
    quit = true;
    Stop();
  }
  void Serve(const std::string& text) {
    std::lock_guard l(mu);
    body = text;
    ++generation;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/list.csv"; }
};

std::string RandomPdq(std::mt19937_64& rng) { return RandomHex(rng, 32); }

std::string Csv(const std::vector<std::string>& pdqs) {
  std::string out = "type,hash,ref\n";
  for (size_t i = 0; i < pdqs.size(); ++i) out += "pdq," + pdqs[i] + ",ref-" + pdqs[i].substr(0, 8) + "\n";
  return out;
}

std::string UrlExchange(const std::string& url, int interval_s = 1, const std::string& extra = "") {
  return "[[exchange]]\nname = \"sample\"\nkind = \"url\"\nurl = \"" + url + "\"\nlist = \"sample\"\ninterval_s = " +
         std::to_string(interval_s) + "\n" + extra;
}

Status LoadToml(const std::string& text, server::ServerConfig* c) { return server::LoadConfigText(text, "test.toml", c); }

}  // namespace

TEST_CASE("exchange config: tables are read, unknown keys and bad values are errors naming them") {
  server::ServerConfig c;
  REQUIRE(LoadToml(UrlExchange("https://example.org/l.csv", 300, "pdq_threshold = 20\n") +
                       "[[exchange]]\nname = \"local\"\nkind = \"file\"\npath = \"/tmp/x.csv\"\nlist = \"l\"\n",
                   &c)
              .ok());
  REQUIRE(c.exchanges.size() == 2);
  CHECK(c.exchanges[0].interval_s == 300);
  CHECK(c.exchanges[0].pdq_threshold == 20);
  CHECK(c.exchanges[1].kind == hsync::ExchangeKind::kFile);

  auto error = [](const std::string& text) {
    server::ServerConfig cc;
    Status s = LoadToml(text, &cc);
    REQUIRE_FALSE(s.ok());
    return s.message();
  };
  CHECK(error(UrlExchange("https://e.org/l", 300, "password = \"x\"\n")).find("unknown key(s) password") !=
        std::string::npos);
  CHECK(error(UrlExchange("https://e.org/l", 0)).find("interval_s: 0 is outside 1..") != std::string::npos);
  CHECK(error(UrlExchange("http://example.org/l", 5)).find("not loopback") != std::string::npos);
  CHECK(error(UrlExchange("https://e.org/l", 5, "format = \"xml\"\n")).find("format") != std::string::npos);
  CHECK(error(UrlExchange("https://e.org/l", 5, "interval_s = 7\n")).find("test.toml") != std::string::npos);
  CHECK(error("[[exchange]]\nname = \"a b\"\nkind = \"url\"\n").find("name") != std::string::npos);
  CHECK(error("[[exchange]]\nname = \"a\"\nkind = \"gopher\"\nlist = \"l\"\n").find("gopher") != std::string::npos);
  CHECK(error("[[exchange]]\nname = \"a\"\nkind = \"url\"\nlist = \"l\"\n").find("url: required") != std::string::npos);
  CHECK(error("[exchange]\nname = \"a\"\n").find("array of tables") != std::string::npos);
  CHECK(error(UrlExchange("https://e.org/l") + UrlExchange("https://e.org/m")).find("used twice") != std::string::npos);
  CHECK(error(UrlExchange("https://e.org/l", 5, "timeout_s = 1.5\n")).find("timeout_s") != std::string::npos);
  // A follower copies its primary's lists: it runs no exchanges.
  server::ServerConfig f;
  REQUIRE(LoadToml(UrlExchange("https://e.org/l"), &f).ok());
  f.follow_url = "https://primary:8443";
  f.follow_key_file = "/dev/null";
  f.plain_http = true;
  f.listen = "127.0.0.1:0";
  CHECK(server::ValidateConfig(f).message().find("[[exchange]]") != std::string::npos);
}

TEST_CASE("exchange snapshot diff: adds, withdrawals, duplicates once, references kept") {
  auto e = [](uint8_t b, const std::string& ref) {
    base::SignalEntry x;
    x.type = base::SignalType::kMd5;
    x.hash = std::string(16, static_cast<char>(b));
    x.ref = ref;
    return x;
  };
  std::vector<base::SignalEntry> add, remove;
  hsync::DiffSnapshot({e(1, "a"), e(2, "b")}, {e(2, "other"), e(3, "c"), e(3, "dup")}, &add, &remove);
  REQUIRE(add.size() == 1);
  CHECK(add[0].hash == std::string(16, '\3'));
  CHECK(add[0].ref == "c");
  REQUIRE(remove.size() == 1);
  CHECK(remove[0].hash == std::string(16, '\1'));
}

TEST_CASE("exchange http fetch: Retry-After, URL splitting") {
  CHECK(hsync::ParseRetryAfter("120", 0) == 120);
  CHECK(hsync::ParseRetryAfter("99999999", 0) == 86400);
  CHECK(hsync::ParseRetryAfter("soon", 0) == -1);
  CHECK(hsync::ParseRetryAfter("Thu, 01 Jan 1970 00:01:40 GMT", 40'000) == 60);
  std::string origin, target;
  REQUIRE(hsync::SplitUrl("http://127.0.0.1:80?x=1", &origin, &target).ok());
  CHECK(origin == "http://127.0.0.1:80");
  CHECK(target == "/?x=1");
  CHECK_FALSE(hsync::SplitUrl("ftp://x/y", &origin, &target).ok());
  CHECK_FALSE(hsync::SplitUrl("http:///y", &origin, &target).ok());
}

TEST_CASE("exchange http fetch: a hanging or trickling server is cut off, an oversized body refused, Cancel is prompt") {
  std::atomic<bool> quit{false};
  LoopbackHttp server;  // after quit: stopped before it goes
  httplib::Server& http = server.http;
  http.Get("/hang", [&](const httplib::Request&, httplib::Response& res) {
    while (!quit) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    res.set_content("late", "text/plain");
  });
  // One byte every 300 ms: each read is quick, the whole never ends in time.
  http.Get("/trickle", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/plain", [&](size_t, httplib::DataSink& sink) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return !quit && sink.write("x", 1);
    });
  });
  http.Get("/big", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(1 << 20, 'x'), "text/plain");
  });
  server.Listen();
  const int port = server.port;
  const std::string base = "http://127.0.0.1:" + std::to_string(port);

  hsync::HttpFetcher fetcher;
  hsync::HttpRequest req;
  req.timeout_s = 2;
  hsync::HttpAnswer a;
  for (const char* path : {"/hang", "/trickle"}) {
    req.url = base + path;
    Status s = fetcher.Get(req, &a);
    CHECK(s.code() == Status::Code::kUnavailable);
    CHECK(s.message().find("timed out after 2 s") != std::string::npos);
  }
  req.url = base + "/big";
  req.max_bytes = 1000;
  CHECK(fetcher.Get(req, &a).code() == Status::Code::kTooLarge);
  req.max_bytes = 2 << 20;
  REQUIRE(fetcher.Get(req, &a).ok());
  CHECK(a.body.size() == (1u << 20));

  // Cancel from another thread stops a fetch that would wait 60 s.
  req.url = base + "/hang";
  req.timeout_s = 60;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    fetcher.Cancel();
  });
  Status s = fetcher.Get(req, &a);
  canceller.join();
  CHECK(s.message().find("canceled") != std::string::npos);
  CHECK(fetcher.Get(req, &a).message().find("canceled") != std::string::npos);  // and every later one
  quit = true;
  server.Stop();
}

TEST_CASE("exchange url: follows a list, withdraws, rejects a bad line whole, 304s, Retry-After") {
  std::mt19937_64 rng(11);
  std::vector<std::string> v1;
  for (int i = 0; i < 5; ++i) v1.push_back(RandomPdq(rng));
  ListServer partner;
  partner.Serve(Csv(v1));
  ExchangeServer hs(UrlExchange(partner.url()));

  json x = hs.WaitFor([](const json& e) { return e["entries"] == 5; }, "the first snapshot");
  CHECK(x["name"] == "sample");
  CHECK(x["kind"] == "url");
  CHECK(x["list"] == "sample");
  CHECK(x["last_error"].is_null());
  CHECK(x["last_success"].is_string());
  CHECK(x["checkpoint"].get<std::string>().find("etag \"g1\"") != std::string::npos);
  CHECK(x["lag_s"].is_number());
  for (const auto& h : v1) CHECK(hs.Matches(h));
  const uint64_t list_id = x["list_id"].get<uint64_t>();
  json list = hs.List(list_id);
  CHECK(list["owner"] == "exchange:sample");
  CHECK(list["kind"] == "block");
  CHECK(list["pdq_threshold"] == 31);

  // Unchanged: conditional GETs answered 304, nothing applied.
  partner.not_modified = 0;
  hs.WaitFor([&](const json&) { return partner.not_modified >= 2; }, "two 304s");
  CHECK(hs.List(list_id)["last_seq"] == 5);

  // Two withdrawn, one new: one batch.
  std::vector<std::string> v2 = {v1[0], v1[1], v1[2], RandomPdq(rng)};
  partner.Serve(Csv(v2));
  hs.WaitFor([](const json& e) { return e["checkpoint"].get<std::string>().find("g2") != std::string::npos; },
             "the second snapshot");
  CHECK(hs.Exchanges()[0]["entries"] == 4);
  CHECK_FALSE(hs.Matches(v1[3]));
  CHECK_FALSE(hs.Matches(v1[4]));
  CHECK(hs.Matches(v2[3]));
  CHECK(hs.List(list_id)["last_seq"] == 5 + 3);

  // A bad line (line 3) anywhere: nothing of the snapshot is applied, the
  // error names the line, and the list keeps what it had.
  std::vector<std::string> v3 = {v2[0], RandomPdq(rng)};
  std::string bad = Csv(v3);
  bad.insert(bad.find('\n') + 1 + 70 + 13, "pdq,nothex,x\n");
  partner.Serve(bad);
  x = hs.WaitFor([](const json& e) { return !e["last_error"].is_null(); }, "the bad line's error");
  CHECK(x["last_error"].get<std::string>().find("line") != std::string::npos);
  CHECK(x["entries"] == 4);
  CHECK_FALSE(hs.Matches(v3[1]));
  CHECK(hs.Matches(v2[1]));

  // Fixed: applied, and the error is gone.
  partner.Serve(Csv(v3));
  x = hs.WaitFor([](const json& e) { return e["last_error"].is_null() && e["entries"] == 2; }, "the fixed list");
  CHECK(hs.Matches(v3[1]));
  CHECK_FALSE(hs.Matches(v2[1]));

  // 429 with Retry-After: 2 s: the exchange waits (not its 0.25 s backoff).
  {
    std::lock_guard l(partner.mu);
    partner.fail_status = 429;
  }
  hs.WaitFor([](const json& e) { return !e["last_error"].is_null(); }, "the 429");
  const int before = partner.requests;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(partner.requests - before <= 1);
  CHECK(hs.Exchanges()[0]["last_error"].get<std::string>().find("429") != std::string::npos);
  {
    std::lock_guard l(partner.mu);
    partner.fail_status = 0;
  }
  hs.WaitFor([](const json& e) { return e["last_error"].is_null(); }, "recovery after the 429");

  // `hashscreen exchanges` prints the same.
  std::string out;
  const std::string server_url = "https://127.0.0.1:" + std::to_string(hs.server.port());
  REQUIRE(RunProgram({HASHSCREEN_CLI, "exchanges", "--server", server_url, "--key", hs.admin, "--cacert",
                      hs.server.cert().string()},
                     &out) == 0);
  CHECK(out.find("sample") != std::string::npos);
  CHECK(out.find("url") != std::string::npos);
  REQUIRE(RunProgram({HASHSCREEN_CLI, "exchanges", "--json", "--server", server_url, "--key", hs.admin, "--cacert",
                      hs.server.cert().string()},
                     &out) == 0);
  CHECK(json::parse(out)["exchanges"][0]["entries"] == 2);
  // Admin only.
  CHECK(HttpStatus(hs.server.Client()->Get("/v1/exchanges", Bearer(hs.ingest))) == 403);
  // Metrics per exchange.
  auto m = hs.server.Client()->Get("/metrics", Bearer(hs.admin));
  REQUIRE(HttpStatus(m) == 200);
  CHECK(m->body.find("hashscreen_exchange_entries{exchange=\"sample\"} 2") != std::string::npos);
  CHECK(m->body.find("hashscreen_exchange_fetches_total{exchange=\"sample\"}") != std::string::npos);
}

TEST_CASE("exchange url: a hanging server neither holds the exchange nor the shutdown") {
  ListServer partner;
  partner.Serve(Csv({}));
  partner.hang = true;
  ExchangeServer hs(UrlExchange(partner.url(), 1, "timeout_s = 2\n"));
  json x = hs.WaitFor([](const json& e) { return !e["last_error"].is_null(); }, "the timeout");
  CHECK(x["last_error"].get<std::string>().find("timed out after 2 s") != std::string::npos);
  // Shut down while a fetch hangs: SIGTERM is a clean exit, not a kill.
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(hs.server.Stop(SIGTERM) == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));
}

TEST_CASE("exchange file: a local file, unchanged files are not re-read, a FIFO is refused") {
  TempDir files;
  const fs::path list = files.path() / "list.txt";
  std::mt19937_64 rng(5);
  const std::string a = RandomPdq(rng), b = RandomPdq(rng);
  std::ofstream(list) << a << "\n" << b << "\n";
  ExchangeServer hs("[[exchange]]\nname = \"local\"\nkind = \"file\"\npath = \"" + list.string() +
                    "\"\nlist = \"mine\"\ninterval_s = 1\nformat = \"plain\"\n");
  hs.WaitFor([](const json& e) { return e["entries"] == 2; }, "the file");
  CHECK(hs.Matches(a));
  std::ofstream(list) << a << "\n";
  hs.WaitFor([](const json& e) { return e["entries"] == 1; }, "the shorter file");
  CHECK_FALSE(hs.Matches(b));
  fs::remove(list);
  REQUIRE(mkfifo(list.c_str(), 0600) == 0);
  json x = hs.WaitFor([](const json& e) { return !e["last_error"].is_null(); }, "the FIFO");
  CHECK(x["last_error"].get<std::string>().find("not a regular file") != std::string::npos);
  CHECK(x["entries"] == 1);
}

TEST_CASE("exchange url: SIGKILL while a large snapshot is applied, restart: nothing lost or doubled") {
  std::mt19937_64 rng(23);
  std::vector<std::string> big;
  for (int i = 0; i < 200000; ++i) big.push_back(RandomPdq(rng));
  ListServer partner;
  partner.Serve(Csv(big));
  ExchangeServer hs(UrlExchange(partner.url()));
  // Kill at a few points of the first fetch and apply.
  json x = CheckSyncSurvivesKills(hs, {300, 900, 1500}, 200000);
  // A change after the restarts applies once too.
  std::vector<std::string> smaller(big.begin() + 10, big.end());
  partner.Serve(Csv(smaller));
  hs.server.Stop(SIGKILL);
  hs.Start();
  x = hs.WaitFor([](const json& e) { return e["entries"] == 199990; }, "the withdrawal of 10");
  CHECK(hs.List(x["list_id"].get<uint64_t>())["last_seq"] == 200010);
  CHECK_FALSE(hs.Matches(big[0]));
  CHECK(hs.Matches(big[10]));
}
