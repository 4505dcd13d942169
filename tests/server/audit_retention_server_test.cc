// Audit retention through a real hashscreend: entries pruned on disk (as the
// server's schedule or `hashscreend audit prune` would, at a later time) are
// 404 `pruned` by id and for review, never listed, a cursor naming one still
// pages, and /v1/audit/verify reports the base; `hashscreend audit prune`
// refuses a short retention without the opt-in, unknown options, a running
// server, and counts with --dry-run.
#include <csignal>

#include "store/audit_log.h"
#include "store/database.h"
#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;

TEST_CASE("audit retention over HTTP: pruned entries are 404 pruned, never listed, verify reports the base") {
  ServerFixture f({"--rate-per-key", "0"}, false);
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    auto r = f.server.Client()->Post("/v1/screen/hashes", Bearer(f.keys["ingest"]),
                                     R"({"md5":"00000000000000000000000000000000"})", "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    ids.push_back(Json(r)["audit_id"].get<std::string>());
    if (i == 5) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(f.server.Stop(SIGTERM) == 0);
  uint64_t base = 0, stub = 0;
  {
    std::unique_ptr<store::Database> db;
    REQUIRE(store::Database::Open(f.server.data_dir().string(), {}, &db).ok());
    std::unique_ptr<store::AuditLog> log;
    REQUIRE(store::AuditLog::Open(db.get(), {}, &log).ok());
    store::AuditEntry sixth, last;
    REQUIRE(log->Get(std::stoull(ids[6]), &sixth).ok());
    REQUIRE(log->Get(log->last_seq(), &last).ok());
    // Cut everything before the seventh screen; stub the rest but the newest.
    store::RetentionPolicy p;
    p.now_ms = last.time_ms + 1'000'000;
    p.retain_ms = p.now_ms - sixth.time_ms;
    p.retain_no_match_ms = p.now_ms - last.time_ms - 1;
    p.batch = 3;
    store::PruneResult r;
    REQUIRE(log->Prune(p, &r).ok());
    base = r.base_seq;
    REQUIRE(base >= std::stoull(ids[5]));
    REQUIRE(r.stubbed > 0);
    stub = std::stoull(ids[8]);
    REQUIRE(log->Pruned(stub));
  }
  REQUIRE(f.server.Start({"--rate-per-key", "0"}));
  auto c = f.server.Client();
  for (const std::string& id : {ids[0], std::to_string(base), std::to_string(stub)}) {
    auto r = c->Get(("/v1/audit/" + id).c_str(), Bearer(f.keys["reviewer"]));
    REQUIRE(r);
    CHECK(r->status == 404);
    CHECK(Json(r)["error"]["code"] == "pruned");
    r = c->Post(("/v1/audit/" + id + "/review").c_str(), Bearer(f.keys["reviewer"]), R"({"disposition":"confirmed"})",
                "application/json");
    REQUIRE(r);
    CHECK(r->status == 404);
    CHECK(Json(r)["error"]["code"] == "pruned");
  }
  auto r = c->Get("/v1/audit/999999", Bearer(f.keys["reviewer"]));
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(Json(r)["error"]["code"] != "pruned");
  // Listed: only survivors, none of them pruned; a cursor on a pruned entry pages on.
  r = c->Get("/v1/audit?limit=1000", Bearer(f.keys["reviewer"]));
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const json listed = Json(r);  // a range-for over Json(r)["entries"] would walk a destroyed temporary
  for (const auto& e : listed["entries"]) {
    const uint64_t id = std::stoull(e["id"].get<std::string>());
    CHECK(id > base);
    CHECK(id != stub);
  }
  r = c->Get(("/v1/audit?cursor=" + ids[1]).c_str(), Bearer(f.keys["reviewer"]));
  REQUIRE(r);
  CHECK_MESSAGE(r->status == 200, r->body);
  r = c->Get("/v1/audit/verify", Bearer(f.keys["admin"]));
  REQUIRE(r);
  const json v = Json(r);
  CHECK_MESSAGE(v["ok"] == true, r->body);
  CHECK(v["base"]["id"] == std::to_string(base));
  CHECK(v["base"]["stubs"].get<uint64_t>() > 0);
  // The offline command refuses to run beside the server.
  std::string out, err;
  CHECK(RunProgram({HASHSCREEND, "audit", "prune", "--data", f.server.data_dir().string()}, &out, &err) != 0);
  CHECK(err.find("running") != std::string::npos);
}

TEST_CASE("hashscreend audit prune: short retention needs the opt-in, unknown options are named, --dry-run counts") {
  ServerFixture f({}, false);
  REQUIRE(f.server.Stop(SIGTERM) == 0);
  const std::string data = f.server.data_dir().string();
  std::string out, err;
  CHECK(RunProgram({HASHSCREEND, "audit", "prune", "--data", data, "--retain-days", "30"}, &out, &err) == 1);
  CHECK(err.find("allow_short_retention") != std::string::npos);
  CHECK(RunProgram({HASHSCREEND, "audit", "prune", "--data", data, "--listen", "x"}, &out, &err) == 2);
  CHECK(err.find("unknown option --listen") != std::string::npos);
  CHECK(RunProgram({HASHSCREEND, "audit", "prune", "--data", data, "--retain-days", "30", "--allow-short-retention",
                    "--dry-run"}, &out, &err) == 0);
  CHECK(out.find("dry run: 0 entries cut") != std::string::npos);
  CHECK(RunProgram({HASHSCREEND, "audit", "prune", "--data", data}, &out, &err) == 0);
  CHECK(out.find("entries cut") != std::string::npos);
}

TEST_CASE("hashscreend audit prune: a follower's database is refused even when the config does not say follow.url") {
  ServerFixture f({}, false);
  REQUIRE(f.server.Stop(SIGTERM) == 0);
  const std::string data = f.server.data_dir().string();
  std::string out, err;
  CHECK(RunProgram({HASHSCREEND, "audit", "prune", "--data", data, "--dry-run"}, &out, &err) == 0);
  {
    // What a follower's first applied feed page leaves in its database.
    std::unique_ptr<store::Database> db;
    REQUIRE(store::Database::Open(data, {}, &db).ok());
    rocksdb::WriteOptions wo;
    wo.sync = true;
    REQUIRE(db->db()->Put(wo, db->family(store::Database::kMeta), "follow_cursor", std::string(16, '\0')).ok());
  }
  CHECK(RunProgram({HASHSCREEND, "audit", "prune", "--data", data}, &out, &err) == 1);
  CHECK(err.find("is a follower's database") != std::string::npos);
}
