// ExchangeServer: a real hashscreend on a loopback port whose config holds
// [[exchange]] tables, with an admin key and an ingest key that may screen
// hashes, and the calls every exchange test makes: GET /v1/exchanges,
// waiting on an exchange's status, screening a hash, reading a list.
// Every call REQUIREs success, so a broken server fails the test at once.
#pragma once

#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <random>
#include <fstream>
#include <string>
#include <thread>

#include <httplib.h>

#include "base/hex.h"
#include "tests/server/server_fixture.h"

namespace testing_support {

// A response's status, -1 when the request failed.
inline int HttpStatus(const httplib::Result& r) { return r ? r->status : -1; }

// `bytes` random bytes as lower-case hex: a synthetic partner hash.
inline std::string RandomHex(std::mt19937_64& rng, size_t bytes) {
  std::string raw(bytes, '\0');
  for (auto& c : raw) c = static_cast<char>(rng());
  return base::HexEncode(raw);
}

// The HTTP side of a test's stand-in for a partner's API (or a plain list
// server): an httplib server on a free loopback port, served by a thread of
// its own. A fixture registers its handlers on `http`, then calls Listen();
// its destructor calls Stop() first, before the members its handlers use
// are gone.
struct LoopbackHttp {
  httplib::Server http;
  int port = 0;
  std::thread thread;

  void Listen() {
    port = http.bind_to_any_port("127.0.0.1");
    REQUIRE(port > 0);
    thread = std::thread([this] { http.listen_after_bind(); });
    while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  void Stop() {
    http.stop();
    if (thread.joinable()) thread.join();
  }
  ~LoopbackHttp() { Stop(); }
};

struct ExchangeServer {
  TempDir tmp;
  ServerProcess server{tmp.path()};
  std::string admin = server.CreateKey("admin");
  std::string ingest = server.CreateKey("ingest", "", {"--hash-queries"});
  fs::path config = tmp.path() / "hashscreen.toml";

  // Keys only: write credential files (File), then Configure and Start.
  ExchangeServer() = default;
  // Configured with `exchanges` (TOML text) and started.
  explicit ExchangeServer(const std::string& exchanges) {
    Configure(exchanges);
    Start();
  }

  // Writes `contents` to a file in the server's temp dir (a credential file
  // an exchange names) and returns its path.
  std::string File(const std::string& name, const std::string& contents) {
    const fs::path p = tmp.path() / name;
    std::ofstream(p) << contents;
    return p.string();
  }
  void Configure(const std::string& exchanges) { std::ofstream(config) << exchanges; }
  void Start() {
    std::string error;
    REQUIRE_MESSAGE(server.Start({"--config", config.string(), "--rate-per-key", "0"}, &error), error);
  }

  nlohmann::json Exchanges() {
    auto r = server.Client()->Get("/v1/exchanges", Bearer(admin));
    REQUIRE(HttpStatus(r) == 200);
    return Json(r)["exchanges"];
  }
  nlohmann::json Status(size_t index = 0) { return Exchanges().at(index); }
  // Polls exchange `index` every 100 ms until done(status); fails the test
  // with the last status after `seconds`.
  template <typename F>
  nlohmann::json WaitFor(F done, const char* what, int seconds = 60, size_t index = 0) {
    for (int i = 0; i < seconds * 10; ++i) {
      nlohmann::json x = Status(index);
      if (done(x)) return x;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("timed out waiting for " << what << ": " << Exchanges().dump());
    return {};
  }

  // The ingest answer for one hash query.
  bool Matches(const std::string& type, const std::string& hash) {
    auto r = server.Client()->Post("/v1/screen/hashes", Bearer(ingest), nlohmann::json{{type, hash}}.dump(),
                                   "application/json");
    REQUIRE(HttpStatus(r) == 200);
    return Json(r)["match"].get<bool>();
  }
  bool Matches(const std::string& pdq) { return Matches("pdq", pdq); }

  nlohmann::json List(uint64_t id) {
    auto r = server.Client()->Get(("/v1/lists/" + std::to_string(id)).c_str(), Bearer(admin));
    REQUIRE(HttpStatus(r) == 200);
    return Json(r);
  }
  std::string Metrics() {
    auto r = server.Client()->Get("/metrics", Bearer(admin));
    REQUIRE(HttpStatus(r) == 200);
    return r->body;
  }
};

// The first sync survives SIGKILLs: hashscreend is killed after each of
// `delays_ms` and started again; exchange 0 then reaches `entries` with no
// error, each added exactly once (the list's signal count and change seq
// both `entries`). Returns that status.
inline nlohmann::json CheckSyncSurvivesKills(ExchangeServer& hs, std::initializer_list<int> delays_ms, uint64_t entries) {
  for (int delay_ms : delays_ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    hs.server.Stop(SIGKILL);
    hs.Start();
  }
  nlohmann::json x = hs.WaitFor(
      [entries](const nlohmann::json& e) { return e["entries"] == entries && e["last_error"].is_null(); },
      "the whole list after the kills", 120);
  const nlohmann::json list = hs.List(x["list_id"].get<uint64_t>());
  CHECK(list["signal_count"] == entries);
  CHECK(list["last_seq"] == entries);  // each hash added exactly once
  return x;
}

// Polls that bring nothing new write nothing: the list's change seq stays
// put over a few polls (interval_s = 1).
inline void CheckQuietPollsWriteNothing(ExchangeServer& hs, uint64_t list_id) {
  const uint64_t seq = hs.List(list_id)["last_seq"].get<uint64_t>();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  CHECK(hs.List(list_id)["last_seq"] == seq);
}

// A partner fixture's fault switches, shared by the pulled kinds' tests:
// `throttle` (under `mu`: its next request gets 429 with Retry-After: 2),
// `hang` (requests wait while it is set) and `requests` (a count).

// The 429 shows in last_error, nothing is asked again before Retry-After,
// and the exchange recovers. Returns the status that showed the 429.
template <typename Partner>
nlohmann::json CheckThrottleHonoured(ExchangeServer& hs, Partner& partner) {
  {
    std::lock_guard l(partner.mu);
    partner.throttle = true;
  }
  nlohmann::json x = hs.WaitFor([](const nlohmann::json& e) { return !e["last_error"].is_null(); }, "the 429");
  CHECK(x["last_error"].get<std::string>().find("HTTP 429") != std::string::npos);
  const int asked = partner.requests;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(partner.requests - asked <= 1);
  hs.WaitFor([](const nlohmann::json& e) { return e["last_error"].is_null(); }, "recovery after the 429");
  return x;
}

// A partner that hangs is cut off after timeout_s = 2 with the list as it
// was, and the exchange recovers once it answers again.
template <typename Partner>
void CheckHangCutOff(ExchangeServer& hs, Partner& partner) {
  const auto entries = hs.Status()["entries"];
  partner.hang = true;
  nlohmann::json x = hs.WaitFor([](const nlohmann::json& e) { return !e["last_error"].is_null(); }, "the hang");
  CHECK_MESSAGE(x["last_error"].get<std::string>().find("timed out after 2 s") != std::string::npos, x.dump());
  CHECK(x["entries"] == entries);
  partner.hang = false;
  hs.WaitFor([](const nlohmann::json& e) { return e["last_error"].is_null(); }, "recovery after the hang");
}

}  // namespace testing_support
