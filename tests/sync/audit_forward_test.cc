// One match log across instances, end to end: a real primary and a real
// follower hashscreend on loopback. Screens on the follower appear on the
// primary's GET /v1/audit with every field and the follower's instance;
// ?instance= filters; verify covers both chains; a primary that was down and
// a follower SIGKILLed mid-forwarding lose nothing and double nothing;
// hostile forwards are refused and change nothing; reviews are the primary's.
#include <doctest/doctest.h>

#include <csignal>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "base/hex.h"
#include "store/audit_log.h"
#include "tests/server/server_fixture.h"
#include "tests/sync/follower_process.h"

using namespace testing_support;
using nlohmann::json;

namespace {

// No per-key rate and no fsync per screen (the tests screen hundreds): what a
// SIGKILL tests is the process dying, and the page cache survives that.
const std::vector<std::string> kForwardingFlags = {"--rate-per-key", "0", "--audit-sync=false"};

std::string InstanceOf(const ServerProcess& s, const std::string& admin_key) {
  auto r = s.Client()->Get("/v1/audit/checkpoint", Bearer(admin_key));
  REQUIRE(Status(r) == 200);
  return Json(r)["instance_id"].get<std::string>();
}

// Every entry of GET /v1/audit (+ query), following the cursor.
json AllEntries(const ServerProcess& s, const std::string& key, const std::string& query = "") {
  json all = json::array();
  std::string after = "0";
  for (;;) {
    auto r = s.Client()->Get(("/v1/audit?limit=1000&after=" + after + query).c_str(), Bearer(key));
    REQUIRE_MESSAGE(Status(r) == 200, (r ? r->body : "no answer"));
    json j = Json(r);
    for (auto& e : j["entries"]) all.push_back(e);
    if (j["next"].is_null()) return all;
    after = j["next"].get<std::string>();
  }
}

// The instance seqs the primary holds of `instance`, in its order.
std::vector<uint64_t> HeldSeqs(ServerFixture& p, const std::string& instance) {
  std::vector<uint64_t> seqs;
  for (const auto& e : AllEntries(p.server, p.keys["reviewer"], "&instance=" + instance)) {
    seqs.push_back(e["instance_seq"].get<uint64_t>());
  }
  return seqs;
}

uint64_t LastSeq(const ServerProcess& s, const std::string& admin_key) {
  auto r = s.Client()->Get("/v1/audit/checkpoint", Bearer(admin_key));
  REQUIRE(Status(r) == 200);
  return std::stoull(Json(r)["id"].get<std::string>());
}

json Verify(ServerFixture& p) {
  auto r = p.server.Client()->Get("/v1/audit/verify", Bearer(p.keys["admin"]));
  REQUIRE(Status(r) == 200);
  return Json(r);
}

std::string PdqHex(std::mt19937_64& rng) {
  static const char* kHex = "0123456789abcdef";
  std::string s(64, '0');
  for (auto& c : s) c = kHex[rng() & 15];
  return s;
}

}  // namespace

TEST_CASE("audit forward: a follower's screens reach the primary's log with every field, filtered by instance") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture p({"--rate-per-key", "0"});
  FollowerProcess f(p, kForwardingFlags);
  f.Start();
  f.WaitReady();
  const std::string fid = InstanceOf(f.server, f.keys["admin"]);
  const std::string pid = InstanceOf(p.server, p.keys["admin"]);
  REQUIRE(fid != pid);

  auto c = f.server.Client();
  REQUIRE(Status(c->Post("/v1/screen?ref=img-1", Bearer(f.keys["ingest"]), FileBytes(BridgeImage()), "image/jpeg")) == 200);
  f.ScreenHash(PdqHexOf(BridgeImage()), "hash-1");
  REQUIRE(Status(c->Post("/v1/screen/hashes", Bearer(f.keys["ingest"]),
                         json{{"md5", std::string(32, 'c')}, {"ref", "hash-2"}}.dump(), "application/json")) == 200);

  const json mine = AllEntries(f.server, f.keys["reviewer"]);
  REQUIRE(mine.size() >= 3);
  for (const auto& e : mine) CHECK(e["instance"] == fid);
  REQUIRE_MESSAGE(WaitFor([&] { return HeldSeqs(p, fid).size() == mine.size(); }, 10), f.server.Log());

  const json held = AllEntries(p.server, p.keys["reviewer"], "&instance=" + fid);
  REQUIRE(held.size() == mine.size());
  std::string image_entry;
  for (size_t i = 0; i < mine.size(); ++i) {
    const json& m = mine[i];
    const json& h = held[i];
    INFO(m.dump());
    CHECK(h["instance"] == fid);
    CHECK(h["instance_seq"] == m["seq"]);
    CHECK(h["instance_chain"]["entry_hash"] == m["entry_hash"]);
    CHECK(h["instance_chain"]["prev_hash"] == m["prev_hash"]);
    CHECK(h["forwarded"]["key_id"].is_string());
    // Every field the follower shows, the primary shows alike; only the
    // chain position (id, seq, hashes) is the primary's.
    for (const auto& [name, value] : m.items()) {
      if (name == "id" || name == "seq" || name == "prev_hash" || name == "entry_hash" || name == "hmac") continue;
      CHECK_MESSAGE(h[name] == value, name);
    }
    if (m.value("ref", "") == "img-1") image_entry = h["id"].get<std::string>();
  }
  REQUIRE(!image_entry.empty());
  bool matched = false;
  for (const auto& h : held) matched |= h.value("ref", "") == "hash-1" && h["verdict"] == "match" && !h["hits"].empty();
  CHECK(matched);

  // The primary's own entries name the primary; the filters exclude each other.
  for (const auto& e : AllEntries(p.server, p.keys["reviewer"], "&instance=" + pid)) CHECK(e["instance"] == pid);
  CHECK(AllEntries(p.server, p.keys["reviewer"], "&instance=" + std::string(32, '0')).empty());
  CHECK(AllEntries(p.server, p.keys["reviewer"], "&instance=" + fid + "&verdict=match").size() == 2);

  // verify covers both chains.
  const json v = Verify(p);
  CHECK_MESSAGE(v["ok"] == true, v.dump());
  REQUIRE(v["instances"].size() == 2);
  CHECK(v["instances"][0]["instance"] == pid);
  CHECK(v["instances"][1]["instance"] == fid);
  CHECK(v["instances"][1]["entries"] == mine.size());
  CHECK(v["instances"][1]["ok"] == true);
  std::string out;
  CHECK(RunProgram({HASHSCREEN_CLI, "audit", "verify", "--server", "https://127.0.0.1:" + std::to_string(p.server.port()),
                    "--cacert", p.server.cert().string(), "--key", p.keys["admin"]},
                   &out) == 0);
  CHECK_MESSAGE(out.find(fid) != std::string::npos, out);

  // Reviews are written on the primary: the follower refuses with its URL,
  // the primary reviews the forwarded screen like its own.
  auto refused = c->Post("/v1/audit/1/review", Bearer(f.keys["reviewer"]), R"({"disposition":"confirmed"})",
                         "application/json");
  REQUIRE(Status(refused) == 409);
  CHECK(Json(refused)["error"]["code"] == "read_only_replica");
  CHECK(Json(refused)["error"]["message"].get<std::string>().find("127.0.0.1:" + std::to_string(p.server.port())) !=
        std::string::npos);
  auto pc = p.server.Client();
  auto reviewed = pc->Post(("/v1/audit/" + image_entry + "/review").c_str(), Bearer(p.keys["reviewer"]),
                           R"({"disposition":"confirmed","note":"seen on the follower"})", "application/json");
  REQUIRE_MESSAGE(Status(reviewed) == 201, reviewed->body);
  CHECK(Json(reviewed)["target_id"] == image_entry);
  CHECK(Json(reviewed)["instance"] == pid);
  auto shown = pc->Get(("/v1/audit/" + image_entry).c_str(), Bearer(p.keys["reviewer"]));
  REQUIRE(Status(shown) == 200);
  CHECK(Json(shown)["ref"] == "img-1");
  CHECK(Json(shown)["reviews"].size() == 1);

  // A follower takes no forwards itself; its metrics say the lag.
  auto fwd = c->Post("/v1/audit/forward", Bearer(f.keys["replica"]), json{{"instance", pid}, {"entries", json::array()}}.dump(),
                     "application/json");
  CHECK(Status(fwd) == 409);
  httplib::Client metrics("127.0.0.1", f.server.metrics_port());
  auto m = metrics.Get("/metrics");
  REQUIRE(m);
  CHECK(m->body.find("hashscreen_audit_forward_lag_entries 0") != std::string::npos);
  CHECK(m->body.find("hashscreen_audit_forward_connected 1") != std::string::npos);
}

TEST_CASE("audit forward: a primary that was down and a follower SIGKILLed mid-forwarding lose and double nothing") {
  ServerFixture p({"--rate-per-key", "0"}, false);
  FollowerProcess f(p, kForwardingFlags);
  f.Start();
  f.WaitReady();
  const std::string fid = InstanceOf(f.server, f.keys["admin"]);
  std::mt19937_64 rng(7);

  // The primary dies while the follower screens.
  const int port = p.server.port();
  REQUIRE(p.server.Stop(SIGKILL) == 128 + SIGKILL);
  for (int i = 0; i < 100; ++i) f.ScreenHash(PdqHex(rng), "down-" + std::to_string(i));
  const uint64_t written = LastSeq(f.server, f.keys["admin"]);
  std::string error;
  REQUIRE_MESSAGE(p.server.Start({"--rate-per-key", "0", "--listen", "127.0.0.1:" + std::to_string(port)}, &error), error);
  REQUIRE(p.server.port() == port);

  // The follower is killed again and again while it forwards (and screens).
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 300));
    REQUIRE(f.server.Stop(SIGKILL) == 128 + SIGKILL);
    f.Start();
    for (int i = 0; i < 10; ++i) f.ScreenHash(PdqHex(rng), "round-" + std::to_string(round) + "-" + std::to_string(i));
  }
  const uint64_t total = LastSeq(f.server, f.keys["admin"]);
  REQUIRE(total >= written + 30);
  REQUIRE_MESSAGE(WaitFor([&] { return HeldSeqs(p, fid).size() >= total; }, 40), f.server.Log());
  const std::vector<uint64_t> seqs = HeldSeqs(p, fid);
  REQUIRE(seqs.size() == total);
  for (uint64_t i = 0; i < total; ++i) REQUIRE(seqs[i] == i + 1);  // each once, in order
  const json v = Verify(p);
  CHECK_MESSAGE(v["ok"] == true, v.dump());
  CHECK(v["instances"][1]["entries"] == total);
}

TEST_CASE("audit forward: hostile forwards are refused with the right status and change nothing") {
  ServerFixture p({"--rate-per-key", "0", "--max-body-bytes", "100000"}, false);
  // A chain of another instance, made with the store itself.
  TempDir dir;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::AuditLog> log;
  REQUIRE(store::Database::Open(dir.path().string(), {}, &db).ok());
  REQUIRE(store::AuditLog::Open(db.get(), {}, &log).ok());
  for (int i = 0; i < 4; ++i) {
    store::AuditEntry e;
    e.caller_ref = "ref-" + std::to_string(i);
    e.verdict = "no_match";
    e.source = "hashes";
    REQUIRE(log->Append(&e).ok());
  }
  std::vector<std::string> stored;
  REQUIRE(log->ReadStored(0, 10, 1 << 20, &stored).ok());
  const std::string id = db->instance_id();
  auto hex = [](const std::string& b) { return base::HexEncode(std::string_view(b)); };
  auto c = p.server.Client();
  auto forward = [&](const std::vector<std::string>& entries, const std::string& role = "replica",
                     const std::string& instance = "") {
    json body{{"instance", instance.empty() ? id : instance}, {"entries", json::array()}};
    for (const auto& e : entries) body["entries"].push_back(hex(e));
    return c->Post("/v1/audit/forward", Bearer(p.keys[role]), body.dump(), "application/json");
  };
  auto r = forward({stored[0], stored[1]});
  REQUIRE(Status(r) == 200);
  CHECK(Json(r)["last_seq"] == 2);
  CHECK(Json(r)["stored"] == 2);
  const uint64_t before = LastSeq(p.server, p.keys["admin"]);

  auto refused = [&](const httplib::Result& res, int status, const std::string& code) {
    REQUIRE(res);
    CHECK_MESSAGE(res->status == status, res->body);
    if (!code.empty()) CHECK_MESSAGE(Json(res)["error"]["code"] == code, res->body);
    CHECK(LastSeq(p.server, p.keys["admin"]) == before);
  };
  refused(forward({stored[3]}), 422, "forward_rejected");  // gap
  std::string altered = stored[2];
  altered[altered.find("ref-2")] = 'x';
  refused(forward({altered}), 422, "forward_rejected");
  std::string relinked = stored[2];
  relinked[relinked.size() - 40] ^= 1;  // its prev_hash
  refused(forward({relinked}), 422, "forward_rejected");
  std::string changed = stored[1];
  changed[changed.find("ref-1")] = 'x';
  refused(forward({stored[0], changed, stored[2]}), 409, "forward_conflict");  // an old batch replayed, changed
  refused(forward({stored[2]}, "ingest"), 403, "");
  refused(forward({stored[2]}, "reviewer"), 403, "");
  refused(forward({stored[2]}, "admin"), 403, "");
  refused(forward({}, "replica", InstanceOf(p.server, p.keys["admin"])), 400, "");  // the primary's own id
  refused(forward({}, "replica", "../x"), 400, "");
  refused(c->Post("/v1/audit/forward", Bearer(p.keys["replica"]), json{{"instance", id}, {"entries", {"zz"}}}.dump(),
                  "application/json"), 400, "");
  refused(c->Post("/v1/audit/forward", Bearer(p.keys["replica"]), json{{"instance", id}, {"entries", "x"}}.dump(),
                  "application/json"), 400, "");
  refused(c->Post("/v1/audit/forward", Bearer(p.keys["replica"]),
                  json{{"instance", id}, {"entries", json::array()}, {"extra", 1}}.dump(), "application/json"), 400, "");
  refused(forward(std::vector<std::string>(store::AuditLog::kMaxForwardEntries + 1, "00")), 400, "");
  refused(forward({std::string(60000, 'a')}), 413, "");  // over limits.max_body_bytes
  // And the good continuation still goes in.
  r = forward({stored[1], stored[2], stored[3]});
  REQUIRE(Status(r) == 200);
  CHECK(Json(r)["skipped"] == 1);
  CHECK(Json(r)["stored"] == 2);
  const json v = Verify(p);
  CHECK_MESSAGE(v["ok"] == true, v.dump());
  CHECK(v["instances"][1]["entries"] == 4);
  CHECK(HeldSeqs(p, id) == std::vector<uint64_t>{1, 2, 3, 4});
}
