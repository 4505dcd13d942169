// Durability of the audit log through a real hashscreend: tampering on disk
// is detected, SIGTERM drains in-flight screens, SIGKILL loses nothing that
// was acknowledged.
#include <signal.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "store/audit_log.h"
#include "store/database.h"
#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;

namespace {

// Screens from `threads` keep-alive clients until `stop`; collects the audit
// ids of every answered screen.
struct Load {
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<int> answered{0};
  std::vector<std::thread> threads;

  void Start(ServerFixture& f, int n) {
    std::string jpeg = FileBytes(BridgeImage());
    std::string png = FileBytes(ConformanceImages() / "misc-images" / "c.png");
    for (int t = 0; t < n; ++t) {
      threads.emplace_back([this, &f, jpeg, png, t] {
        auto c = f.server.Client();
        for (int i = 0; !stop; ++i) {
          auto r = c->Post("/v1/screen", Bearer(f.keys["ingest"]), (i + t) % 2 ? jpeg : png, "image/jpeg");
          if (!r || r->status != 200) continue;  // refused or cut off: not acknowledged
          json j = Json(r);
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.push_back(j["audit_id"]);
          ++answered;
        }
      });
    }
  }
  void Join() {
    stop = true;
    for (auto& t : threads) {
      if (t.joinable()) t.join();
    }
  }
  ~Load() { Join(); }  // also when a failed REQUIRE leaves the test early
};

// Waits until the load has `n` answers (bounded: a dead server fails the test).
void WaitForAnswers(Load& load, int n) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (load.answered < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(load.answered >= n);
}

void CheckAllPresent(ServerFixture& f, const std::vector<std::string>& ids) {
  auto c = f.server.Client();
  auto verify = c->Get("/v1/audit/verify", Bearer(f.keys["admin"]));
  REQUIRE(verify);
  CHECK(Json(verify)["ok"] == true);
  size_t entries = Json(verify)["entries"].get<size_t>();
  CHECK(entries >= ids.size());
  int missing = 0;
  for (const auto& id : ids) {
    auto r = c->Get(("/v1/audit/" + id).c_str(), Bearer(f.keys["reviewer"]));
    if (!r || r->status != 200) ++missing;
  }
  CHECK(missing == 0);
}

}  // namespace

TEST_CASE("altering an audit entry on disk makes verification fail, naming the entry") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  for (int i = 0; i < 3; ++i) REQUIRE(f.Screen(FileBytes(BridgeImage()), "ingest", "image/jpeg", "?ref=item-" + std::to_string(i))->status == 200);
  CHECK(Json(f.server.Client()->Get("/v1/audit/verify", Bearer(f.keys["admin"])))["ok"] == true);
  REQUIRE(f.server.Stop(SIGTERM) == 0);
  {
    std::unique_ptr<store::Database> db;
    REQUIRE(store::Database::Open(f.server.data_dir().string(), {}, &db).ok());
    std::string v;
    REQUIRE(db->Get(store::Database::kAudit, store::AuditKey(2), &v).ok());
    auto pos = v.find("item-1");
    REQUIRE(pos != std::string::npos);
    v[pos + 5] = '7';  // the caller's reference rewritten after the fact
    rocksdb::WriteBatch b;
    b.Put(db->family(store::Database::kAudit), store::AuditKey(2), v);
    REQUIRE(db->Write(&b, true).ok());
  }
  std::string error;
  REQUIRE_MESSAGE(f.server.Start({}, &error), error);
  json v = Json(f.server.Client()->Get("/v1/audit/verify", Bearer(f.keys["admin"])));
  CHECK(v["ok"] == false);
  CHECK(v["first_bad_id"] == "2");
  CHECK(v["problem"].get<std::string>().find("altered") != std::string::npos);
}

TEST_CASE("SIGTERM with screens in flight: exit 0, every acknowledged screen is in the audit log") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  Load load;
  load.Start(f, 4);
  WaitForAnswers(load, 20);
  int rc = f.server.Stop(SIGTERM);
  load.Join();
  CHECK(rc == 0);
  CHECK(f.server.Log().find("msg=stopped") != std::string::npos);
  std::string error;
  REQUIRE_MESSAGE(f.server.Start({}, &error), error);
  CheckAllPresent(f, load.acknowledged);
}

TEST_CASE("SIGKILL under load: the chain verifies after restart and no acknowledged entry is lost") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  Load load;
  load.Start(f, 6);
  WaitForAnswers(load, 40);
  int rc = f.server.Stop(SIGKILL);
  load.Join();
  CHECK(rc == 128 + SIGKILL);
  std::string error;
  REQUIRE_MESSAGE(f.server.Start({}, &error), error);
  CheckAllPresent(f, load.acknowledged);
}
