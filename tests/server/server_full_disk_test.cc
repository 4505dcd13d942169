// A real hashscreend whose data directory is a small filesystem (a tmpfs
// mounted for the test) that fills up: the server never aborts, a screen
// whose audit entry cannot be written answers 507 and no verdict, /readyz
// fails and /metrics says why, list batches are refused whole, screening
// resumes by itself once space returns, and every audit id answered before,
// during and after is in the chain after a SIGKILL on a full disk and a
// restart (which itself fails cleanly while the disk is still full).
#include <signal.h>

#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "tests/server/server_fixture.h"
#include "tests/small_filesystem.h"

using namespace testing_support;
using nlohmann::json;

namespace {

std::string RandomMd5Hex(std::mt19937_64& rng) {
  static const char* kHex = "0123456789abcdef";
  std::string h;
  for (int i = 0; i < 32; ++i) h.push_back(kHex[rng() % 16]);
  return h;
}

struct Outcome {
  std::vector<std::string> acked;  // audit ids of every 200
  int no_space = 0;                // 507 with error code no_space
  int unexpected = 0;              // any other answer, or none
  std::string first_unexpected;
};

// Screens hashes from `threads` keep-alive clients until `stop` says so (or
// `max` requests each); every answer must be 200 or 507 no_space.
Outcome ScreenUntil(ServerProcess& server, const std::string& key, int threads, int max,
                    const std::function<bool(const Outcome&)>& stop) {
  Outcome all;
  std::mutex mu;
  std::vector<std::thread> pool;
  std::atomic<bool> done{false};
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<uint64_t>(t) * 7919 + 1);
      auto c = server.Client();
      for (int i = 0; i < max && !done; ++i) {
        std::string ref = std::to_string(t);
        ref += '-';
        ref += std::to_string(i);
        json body{{"md5", RandomMd5Hex(rng)}, {"ref", ref}};
        auto r = c->Post("/v1/screen/hashes", Bearer(key), body.dump(), "application/json");
        std::lock_guard<std::mutex> lock(mu);
        if (r && r->status == 200) {
          all.acked.push_back(Json(r)["audit_id"].get<std::string>());
        } else if (r && r->status == 507 && Json(r)["error"]["code"] == "no_space") {
          ++all.no_space;
        } else {
          if (all.unexpected++ == 0) all.first_unexpected = r ? std::to_string(r->status) + " " + r->body : "no answer";
        }
        if (stop(all) || all.unexpected > 0) done = true;
      }
    });
  }
  for (auto& t : pool) t.join();
  return all;
}

// Every seq in the audit log, by paging through GET /v1/audit.
std::set<std::string> AllAuditIds(ServerProcess& server, const std::string& reviewer) {
  std::set<std::string> ids;
  auto c = server.Client();
  std::string after = "0";
  for (int page = 0; page < 10000; ++page) {
    auto r = c->Get(("/v1/audit?limit=1000&after=" + after).c_str(), Bearer(reviewer));
    REQUIRE(r);
    REQUIRE(r->status == 200);
    json j = Json(r);
    for (const auto& e : j["entries"]) ids.insert(e["id"].get<std::string>());
    if (!j["next"].is_string()) break;
    after = j["next"].get<std::string>();
  }
  return ids;
}

bool WaitReady(ServerProcess& server) {
  auto c = server.Client();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = c->Get("/readyz");
    if (r && r->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

}  // namespace

TEST_CASE("a full disk: 507 and no verdict, readyz 503 with the reason, recovery by itself, nothing acknowledged lost") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  TempDir tmp;
  ServerProcess server(tmp.path());
  SmallFilesystem disk(server.data_dir(), 16 << 20);
  if (!disk.mounted()) return;
  const std::string ingest = server.CreateKey("ingest", "", {"--hash-queries"}), reviewer = server.CreateKey("reviewer"),
                    admin = server.CreateKey("admin"), partner = server.CreateKey("partner", "acme");
  std::string error;
  REQUIRE_MESSAGE(server.Start({"--log-requests=false", "--rate-per-key", "0"}, &error), error);
  auto c = server.Client();
  auto created = c->Post("/v1/lists", Bearer(partner), R"({"name":"known"})", "application/json");
  REQUIRE(created->status == 201);
  const std::string batches = "/v1/lists/" + std::to_string(Json(created)["id"].get<uint64_t>()) + "/batches";
  const std::string list_path = batches.substr(0, batches.rfind('/'));
  json batch{{"batch_id", "b1"}, {"add", {{{"type", "md5"}, {"hash", std::string(32, '1')}}}}};
  REQUIRE(c->Post(batches.c_str(), Bearer(partner), batch.dump(), "application/json")->status == 200);

  // Before: some screens answered.
  Outcome before = ScreenUntil(server, ingest, 2, 50, [](const Outcome&) { return false; });
  REQUIRE(before.unexpected == 0);
  REQUIRE(before.acked.size() == 100);

  // During: the disk fills; screens keep being answered 200 until the audit
  // entry cannot be written, then 507 (no verdict), never anything else.
  REQUIRE(disk.Fill(64 << 10));
  Outcome during = ScreenUntil(server, ingest, 3, 200000, [](const Outcome& o) { return o.no_space >= 30; });
  CHECK_MESSAGE(during.unexpected == 0, during.first_unexpected);
  REQUIRE(during.no_space >= 30);
  CHECK(c->Get("/healthz")->status == 200);  // the process is alive

  auto ready = c->Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK(Json(ready)["error"]["code"] == "no_space");
  CHECK(Json(ready)["error"]["reason"] == "store_unwritable");
  auto metrics = c->Get("/metrics", Bearer(admin));
  REQUIRE(metrics);
  CHECK(metrics->body.find("hashscreen_store_writable 0") != std::string::npos);
  CHECK(metrics->body.find("hashscreen_store_unwritable{reason=\"no_space\"} 1") != std::string::npos);
  CHECK(metrics->body.find("hashscreen_store_write_errors_total{reason=\"no_space\"} 0") == std::string::npos);
  // An image screen fails the same way, and so does a list batch, whole.
  auto image = c->Post("/v1/screen", Bearer(ingest), FileBytes(BridgeImage()), "image/jpeg");
  REQUIRE(image);
  CHECK(image->status == 507);
  CHECK(Json(image).contains("match") == false);
  json list_before = Json(c->Get(list_path.c_str(), Bearer(partner)));
  json batch2{{"batch_id", "b2"},
              {"add", {{{"type", "md5"}, {"hash", std::string(32, '2')}}}},
              {"remove", {{{"type", "md5"}, {"hash", std::string(32, '1')}}}}};
  auto refused = c->Post(batches.c_str(), Bearer(partner), batch2.dump(), "application/json");
  REQUIRE(refused);
  CHECK(refused->status == 507);
  CHECK(Json(refused)["error"]["code"] == "no_space");
  // The answer says the disk is full, not which files the store has.
  for (const auto* r : {&image, &refused}) CHECK((*r)->body.find(server.data_dir().string()) == std::string::npos);
  CHECK(Json(c->Get(list_path.c_str(), Bearer(partner))) == list_before);

  // After: space returns; the server becomes ready by itself and screens.
  disk.Free();
  REQUIRE(WaitReady(server));
  metrics = c->Get("/metrics", Bearer(admin));
  CHECK(metrics->body.find("hashscreen_store_writable 1") != std::string::npos);
  Outcome after = ScreenUntil(server, ingest, 2, 50, [](const Outcome&) { return false; });
  CHECK_MESSAGE(after.unexpected == 0, after.first_unexpected);
  CHECK(after.acked.size() == 100);
  auto applied = c->Post(batches.c_str(), Bearer(partner), batch2.dump(), "application/json");
  REQUIRE(applied);
  CHECK(applied->status == 200);
  CHECK(Json(applied)["replayed"] == false);
  CHECK(Json(applied)["removed"] == 1);

  std::vector<std::string> acked = before.acked;
  acked.insert(acked.end(), during.acked.begin(), during.acked.end());
  acked.insert(acked.end(), after.acked.begin(), after.acked.end());

  // Full again, and SIGKILL while RocksDB refuses writes (its WAL may end in
  // the failed record); then a start on the full disk: a clear error, not an
  // abort.
  REQUIRE(disk.Fill(64 << 10));
  Outcome again = ScreenUntil(server, ingest, 3, 200000, [](const Outcome& o) { return o.no_space >= 10; });
  CHECK_MESSAGE(again.unexpected == 0, again.first_unexpected);
  acked.insert(acked.end(), again.acked.begin(), again.acked.end());
  REQUIRE(server.Stop(SIGKILL) == 128 + SIGKILL);
  REQUIRE(disk.Fill(0));
  CHECK_FALSE(server.Start({}, &error));
  CHECK_MESSAGE(error.rfind("exit 1:", 0) == 0, error);
  CHECK_MESSAGE(error.find("no space") != std::string::npos, error);

  disk.Free();
  REQUIRE_MESSAGE(server.Start({}, &error), error);
  c = server.Client();
  json v = Json(c->Get("/v1/audit/verify", Bearer(admin)));
  CHECK_MESSAGE(v["ok"] == true, v.dump());
  const std::set<std::string> stored = AllAuditIds(server, reviewer);
  int missing = 0;
  for (const auto& id : acked) missing += stored.count(id) == 0;
  CHECK(missing == 0);
  CHECK(stored.size() >= acked.size());
}
