// A follower hashscreend of a ServerFixture primary, for tests/sync: its own
// data dir and keys (reviewer, replica, admin, partner "acme", an ingest key
// with hash queries), the primary's replica key in a file, --follow flags
// plus the test's own. Shared by the follower and audit-forwarding tests.
#pragma once

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/server/server_fixture.h"

namespace testing_support {

// Polls `ok` 20 times a second (under the default per-key rate of 50/s)
// until it holds or `seconds` pass.
inline bool WaitFor(const std::function<bool()>& ok, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ok();
}

inline int Status(const httplib::Result& r) { return r ? r->status : -1; }

struct FollowerProcess {
  TempDir tmp;
  ServerProcess server{tmp.path()};
  std::map<std::string, std::string> keys;
  std::vector<std::string> flags;
  std::unique_ptr<httplib::SSLClient> client;  // one kept-alive connection, made by Start

  explicit FollowerProcess(ServerFixture& primary, std::vector<std::string> extra = {}) {
    for (const char* role : {"reviewer", "replica", "admin"}) keys[role] = server.CreateKey(role);
    keys["ingest"] = server.CreateKey("ingest", "", {"--hash-queries"});
    keys["partner"] = server.CreateKey("partner", "acme");
    const fs::path key_file = tmp.path() / "primary.key";
    std::ofstream(key_file) << primary.keys["replica"] << "\n";
    flags = {"--follow", "https://127.0.0.1:" + std::to_string(primary.server.port()), "--follow-key-file",
             key_file.string(), "--follow-cacert", primary.server.cert().string()};
    flags.insert(flags.end(), extra.begin(), extra.end());
  }
  void Start() {
    std::string error;
    REQUIRE_MESSAGE(server.Start(flags, &error), error);
    client = server.Client();
    client->set_keep_alive(true);
  }
  bool Ready() const { return Status(server.Client()->Get("/readyz")) == 200; }
  void WaitReady(int seconds = 60) { REQUIRE_MESSAGE(WaitFor([&] { return Ready(); }, seconds), server.Log()); }
  // Screens a PDQ hash on the kept-alive connection; the answer's match.
  bool ScreenHash(const std::string& pdq_hex, const std::string& ref = "") {
    nlohmann::json body{{"pdq", pdq_hex}};
    if (!ref.empty()) body["ref"] = ref;
    auto r = client->Post("/v1/screen/hashes", Bearer(keys["ingest"]), body.dump(), "application/json");
    REQUIRE(Status(r) == 200);
    return Json(r)["match"].get<bool>();
  }
  bool Matches(const std::string& pdq_hex) {
    auto r = server.Client()->Post("/v1/screen/hashes", Bearer(keys["ingest"]), nlohmann::json{{"pdq", pdq_hex}}.dump(),
                                   "application/json");
    REQUIRE(Status(r) == 200);
    return Json(r)["match"].get<bool>();
  }
  std::string Metrics() const {
    httplib::Client c("127.0.0.1", server.metrics_port());
    auto r = c.Get("/metrics");
    return r ? r->body : "";
  }
};

}  // namespace testing_support
