// The tcap kind against a fixture speaking TCAP's hash list v2 as TAT's
// documentation and python-threatexchange's client describe it (cpp-httplib
// in the test): a JSON login at /token-auth/tcap/ handing out a JWT, Bearer
// on every GET, order=asc&limit=N&after=CHECKPOINT paging while `next` is
// set, "<updated_on>,<id>" checkpoints, `deleted` records, PDQ/MD5/SHA256
// kept and SHA512 skipped; an expired token (403, one new login), a wrong
// password and a token refused twice (last_error, no secret anywhere), a
// corrupt page (alert in status and metrics, never stepped over), a 429 with
// Retry-After, a hanging server, a checkpoint refused as too old (whole
// refetch withdrawing what is gone), a reviewer's verdict on a TCAP match
// (no feedback queued), and SIGKILL mid-sync: nothing lost or doubled.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "base/hex.h"
#include "sync/exchange/tcap_client.h"
#include "tests/sync/exchange_server.h"

namespace {

using namespace testing_support;
using nlohmann::json;


struct Rec {
  int64_t id = 0;
  std::string digest, algorithm = "PDQ", ideology = "Islamist", file_type = "png";
  bool deleted = false;
  double updated_on = 0;  // set by the fixture: every change is later than the last
};

std::string Checkpoint(double t, int64_t id) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f,%lld", t, static_cast<long long>(id));
  return buf;
}

struct TcapFixture : LoopbackHttp {
  std::mutex mu;
  std::map<int64_t, Rec> records;  // id -> latest
  double clock = 1700000000;       // advances 0.5 s per change (exact in a double)
  std::string password = "s3cret-pw";
  std::set<std::string> tokens;  // valid now
  int issued = 0, logins = 0, posts_elsewhere = 0;
  int64_t corrupt_id = -1;        // a page holding it is cut JSON
  bool refuse_old = false;        // an `after` not handed out since it was set gets 410
  std::set<std::string> handed_out;
  bool throttle = false;          // the next GET gets 429, Retry-After: 2
  bool refuse_tokens = false;     // every GET is 403 (an account without access)
  int page_delay_ms = 0;
  std::atomic<bool> hang{false}, quit{false};
  std::vector<std::string> queries;
  std::atomic<int> requests{0};

  TcapFixture() {
    http.Post("/token-auth/tcap/", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard l(mu);
      ++logins;
      json j = json::parse(req.body, nullptr, false);
      if (req.get_header_value("Content-Type") != "application/json" || !j.is_object() || j.value("username", "") != "tester" ||
          j.value("password", "") != password) {
        res.status = 401;
        res.set_content(R"({"detail":"No active account found with the given credentials"})", "application/json");
        return;
      }
      const std::string token = "eyJhbGciOiJIUzI1NiJ9.jwt-" + std::to_string(++issued) + ".sig";
      tokens.insert(token);
      res.set_content(json{{"token", token}, {"user", {{"id", 1}, {"username", "tester"}}}}.dump(), "application/json");
    });
    http.Post(".*", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard l(mu);
      ++posts_elsewhere;
      res.status = 404;
    });
    http.Get("/api/hash-list/v2/all", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      while (hang && !quit) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (page_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(page_delay_ms));
      std::lock_guard l(mu);
      queries.push_back(req.target);
      const std::string auth = req.get_header_value("Authorization");
      if (refuse_tokens || auth.rfind("Bearer ", 0) != 0 || !tokens.count(auth.substr(7))) {
        res.status = 403;
        res.set_content("Authentication error: Token has expired. Please refresh.", "text/plain");
        return;
      }
      if (throttle) {
        throttle = false;
        res.status = 429;
        res.set_header("Retry-After", "2");
        return;
      }
      CHECK(req.get_param_value("order") == "asc");
      const size_t limit = std::stoul(req.get_param_value("limit"));
      const std::string after = req.get_param_value("after");
      double after_t = -1;
      int64_t after_id = -1;
      if (!after.empty()) {
        after_t = std::stod(after.substr(0, after.find(',')));
        after_id = std::stoll(after.substr(after.find(',') + 1));
        if (refuse_old && !handed_out.count(after)) {
          res.status = 410;
          res.set_content(R"({"detail":"checkpoint too old"})", "application/json");
          return;
        }
      }
      std::vector<const Rec*> visible;
      for (const auto& [id, r] : records) {
        if (r.updated_on > after_t || (r.updated_on == after_t && r.id > after_id)) visible.push_back(&r);
      }
      std::sort(visible.begin(), visible.end(), [](const Rec* a, const Rec* b) {
        return a->updated_on != b->updated_on ? a->updated_on < b->updated_on : a->id < b->id;
      });
      json out = json::array();
      std::string checkpoint = after;
      for (size_t i = 0; i < visible.size() && i < limit; ++i) {
        const Rec& r = *visible[i];
        if (r.id == corrupt_id) {
          res.set_content(R"({"count": 2, "next": null, "results": [{"hash_digest": ")", "application/json");
          return;
        }
        out.push_back({{"hash_digest", r.digest}, {"algorithm", r.algorithm}, {"ideology", r.ideology},
                       {"file_type", r.file_type}, {"deleted", r.deleted}, {"updated_on", r.updated_on}, {"id", r.id}});
        checkpoint = Checkpoint(r.updated_on, r.id);
      }
      const bool more = visible.size() > limit;
      json body{{"count", visible.size()}, {"previous", nullptr}, {"results", out}};
      body["next"] = more ? json("http://127.0.0.1/hash-list/v2/all?limit=" + std::to_string(limit) + "&offset=" +
                                 std::to_string(limit) + "&order=asc")
                          : json(nullptr);
      body["checkpoint"] = checkpoint.empty() ? json(nullptr) : json(checkpoint);
      handed_out.insert(checkpoint);
      res.set_content(body.dump(), "application/json");
    });
    Listen();
  }
  ~TcapFixture() {
    quit = true;
    Stop();
  }
  void Set(Rec r) { SetMany({std::move(r)}); }
  // At once: no fetch sees some of them without the others.
  void SetMany(std::vector<Rec> rs) {
    std::lock_guard l(mu);
    for (Rec& r : rs) {
      clock += 0.5;
      r.updated_on = clock;
      records[r.id] = std::move(r);
    }
  }
  void Delete(int64_t id) {
    std::lock_guard l(mu);
    clock += 0.5;
    records.at(id).deleted = true;
    records.at(id).updated_on = clock;
  }
  void Vanish(int64_t id) {
    std::lock_guard l(mu);
    records.erase(id);
  }
};

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// A hashscreend following the TCAP fixture on `port` as user "tester" with
// `password` (its file mode 0600, as the exchange requires), and `extra`
// settings.
struct TcapServer : ExchangeServer {
  std::string reviewer = server.CreateKey("reviewer");
  fs::path password_file;

  TcapServer(int port, const std::string& password, const std::string& extra) {
    password_file = File("tcap.password", password + "\n");
    fs::permissions(password_file, fs::perms::owner_read | fs::perms::owner_write);
    Configure("[[exchange]]\nname = \"tcap\"\nkind = \"tcap\"\nlist = \"tcap\"\ninterval_s = 1\n"
              "base_url = \"http://127.0.0.1:" + std::to_string(port) + "\"\nusername = \"tester\"\npassword_file = \"" +
              password_file.string() + "\"\n" + extra);
    Start();
  }
  json Screen(const std::string& type, const std::string& hash) {
    auto r = server.Client()->Post("/v1/screen/hashes", Bearer(ingest), json{{type, hash}}.dump(), "application/json");
    REQUIRE(HttpStatus(r) == 200);
    return Json(r);
  }
};

bool After(const json& x, const std::string& checkpoint) {
  return x["checkpoint"].is_string() && x["checkpoint"].get<std::string>().find("records after " + checkpoint) != std::string::npos;
}

}  // namespace

TEST_CASE("exchange tcap: pages parse, unscreened algorithms and bad digests are skipped, hostile pages are refused whole") {
  hsync::TcapPage page;
  const std::string pdq(64, 'A'), md5(32, 'B'), sha256(64, 'c');
  REQUIRE(hsync::ParseTcapPage(
              R"({"count":6,"next":"http://x/hash-list/v2/all?limit=6&offset=6","previous":null,
                  "checkpoint":"1724856487.709035,10594","results":[
                {"hash_digest":")" + pdq + R"(","algorithm":"PDQ","ideology":"Far-Right","file_type":"png","deleted":false,
                 "updated_on":1704901040.25,"id":2819},
                {"hash_digest":")" + md5 + R"(","algorithm":"MD5","ideology":"Islamist","file_type":"mp4","deleted":true,
                 "updated_on":1704901041,"id":2820},
                {"hash_digest":")" + sha256 + R"(","algorithm":"SHA256","id":"x-1"},
                {"hash_digest":")" + std::string(128, 'd') + R"(","algorithm":"SHA512","id":2822},
                {"hash_digest":"123abc","algorithm":"PDQ","id":2823},
                {"hash_digest":"00","algorithm":"TMK","id":2824}]})",
              &page)
              .ok());
  REQUIRE(page.records.size() == 3);
  CHECK(page.skipped == 2);
  CHECK(page.invalid == 1);
  CHECK(page.first_invalid.find("id 2823") != std::string::npos);
  CHECK(page.has_next);
  CHECK(page.checkpoint == "1724856487.709035,10594");
  CHECK(page.records[0].entry.type == base::SignalType::kPdq);
  CHECK(page.records[0].entry.ref == "2819");
  CHECK_FALSE(page.records[0].remove);
  CHECK(page.records[0].meta.tags == std::vector<std::string>{"ideology:Far-Right", "file_type:png"});
  CHECK(page.records[0].meta.first_seen_ms == 1704901040250);
  CHECK(page.records[1].entry.type == base::SignalType::kMd5);
  CHECK(page.records[1].remove);
  CHECK(page.records[2].entry.type == base::SignalType::kSha256);
  CHECK(page.records[2].entry.ref == "x-1");
  CHECK(page.records[2].meta.empty());
  // The last page of a list, and an empty one.
  REQUIRE(hsync::ParseTcapPage(R"({"next":null,"checkpoint":null,"results":[]})", &page).ok());
  CHECK_FALSE(page.has_next);
  CHECK(page.checkpoint.empty());
  for (const char* bad : {"", "{", "[]", R"({"results":{}})", R"({"results":[1]})", R"({"checkpoint":"1,2","results":[{}]})",
                          R"({"checkpoint":"1,2","results":[{"hash_digest":"00","algorithm":"PDQ"}]})",
                          R"({"checkpoint":"1,2","results":[{"hash_digest":"00","algorithm":"PDQ","id":-1}]})",
                          R"({"checkpoint":"1,2","results":[{"hash_digest":"00","algorithm":"PDQ","id":1,"deleted":"yes"}]})",
                          R"({"checkpoint":"1,2","results":[{"hash_digest":1,"algorithm":"PDQ","id":1}]})",
                          R"({"results":[{"hash_digest":"00","algorithm":"PDQ","id":1}]})",
                          R"({"next":"http://x","results":[]})", R"({"checkpoint":"soon","results":[]})",
                          R"({"checkpoint":"1.2.3,4","results":[]})", R"({"checkpoint":"1,","results":[]})",
                          R"({"checkpoint":"1,2&limit=9","results":[]})", R"({"checkpoint":7,"results":[]})",
                          R"({"next":3,"checkpoint":"1,2","results":[]})"}) {
    CAPTURE(bad);
    CHECK(hsync::ParseTcapPage(bad, &page).code() == base::Status::Code::kInvalidArgument);
  }
}

TEST_CASE("exchange tcap: config keys checked, the password file refused when missing, empty or readable by others") {
  hsync::ExchangeConfig c;
  auto parse = [&](hsync::ExchangeTable t) { return hsync::ParseExchangeTable(t, 0, &c); };
  hsync::ExchangeTable ok = {{"name", std::string("t")}, {"kind", std::string("tcap")}, {"list", std::string("t")},
                             {"username", std::string("me")}, {"password_file", std::string("/nonexistent")}};
  REQUIRE(parse(ok).ok());
  CHECK(c.base_url == "https://beta.terrorismanalytics.org");
  CHECK(c.page_limit == 1000);
  CHECK(c.ideology.empty());
  auto with = [&](const std::string& k, hsync::ExchangeValue v) {
    auto t = ok;
    t.emplace_back(k, v);
    return parse(t);
  };
  CHECK(with("page_size", int64_t{50}).ok());
  CHECK(c.page_limit == 50);
  CHECK(with("ideology", std::string("far-right")).ok());
  CHECK(with("ideology", std::string("Far-Right")).code() == base::Status::Code::kInvalidArgument);
  CHECK(with("page_size", int64_t{0}).code() == base::Status::Code::kInvalidArgument);
  CHECK(with("password", std::string("x")).message().find("unknown key(s) password") != std::string::npos);
  CHECK(with("page_limit", int64_t{5}).message().find("unknown key(s) page_limit") != std::string::npos);
  CHECK(with("base_url", std::string("http://tcap.example.org")).code() == base::Status::Code::kInvalidArgument);
  CHECK(with("list_path", std::string("api/x")).code() == base::Status::Code::kInvalidArgument);
  CHECK(with("list_path", std::string("/api/x?limit=5")).code() == base::Status::Code::kInvalidArgument);
  auto without = [&](const std::string& k) {
    auto t = ok;
    t.erase(std::remove_if(t.begin(), t.end(), [&](const auto& kv) { return kv.first == k; }), t.end());
    return parse(t);
  };
  CHECK(without("username").message().find("username: required") != std::string::npos);
  CHECK(without("password_file").message().find("password_file: required") != std::string::npos);

  TempDir tmp;
  const fs::path pw = tmp.path() / "pw";
  c.password_file = pw.string();
  std::unique_ptr<hsync::TcapClient> client;
  CHECK_FALSE(hsync::TcapClient::Create(c, &client).ok());  // missing
  std::ofstream(pw) << "\n";
  fs::permissions(pw, fs::perms::owner_read | fs::perms::owner_write);
  CHECK(hsync::TcapClient::Create(c, &client).message().find("holds no key") != std::string::npos);
  std::ofstream(pw) << "hunter2\n";
  fs::permissions(pw, fs::perms::others_read, fs::perm_options::add);
  base::Status s = hsync::TcapClient::Create(c, &client);
  CHECK(s.code() == base::Status::Code::kPermissionDenied);
  CHECK(s.message().find("readable by every user") != std::string::npos);
  CHECK(s.message().find("hunter2") == std::string::npos);
  fs::permissions(pw, fs::perms::others_read, fs::perm_options::remove);
  CHECK(hsync::TcapClient::Create(c, &client).ok());
}

TEST_CASE("exchange tcap: follows the hash list (login, paging, deletes, expired token, corrupt page, 429, hang, refused checkpoint, feedback, CLI)") {
  std::mt19937_64 rng(41);
  TcapFixture tc;
  std::vector<std::string> pdq;
  for (int i = 0; i < 12; ++i) pdq.push_back(RandomHex(rng, 32));
  const std::string md5 = RandomHex(rng, 16), sha256 = RandomHex(rng, 32);
  for (int i = 0; i < 3; ++i) tc.Set({100 + i, Upper(pdq[i])});
  tc.Set({110, Upper(md5), "MD5", "Far-Right", "mp4"});
  tc.Set({111, sha256, "SHA256"});
  tc.Set({112, RandomHex(rng, 64), "SHA512"});
  tc.Set({113, pdq[11]});
  tc.Delete(113);  // deleted before we ever saw it: never added

  TcapServer hs(tc.port, tc.password, "page_size = 2\ntimeout_s = 2\n");
  // The last page holds only the tombstone: its checkpoint counts too.
  json x = hs.WaitFor([](const json& e) { return e["last_error"].is_null() && After(e, Checkpoint(1700000004, 113)); },
                      "the first sync");
  CHECK(x["kind"] == "tcap");
  CHECK(x["entries"] == 5);
  for (int i = 0; i < 3; ++i) CHECK(hs.Matches("pdq", pdq[i]));
  CHECK(hs.Matches("md5", md5));
  CHECK(hs.Matches("sha256", sha256));
  CHECK_FALSE(hs.Matches("pdq", pdq[11]));
  const uint64_t list_id = x["list_id"].get<uint64_t>();
  {
    std::lock_guard l(tc.mu);
    CHECK(tc.logins == 1);  // one token for every page
    REQUIRE(tc.queries.size() >= 4);
    CHECK(tc.queries.at(0) == "/api/hash-list/v2/all?order=asc&limit=2&after=");
    CHECK(tc.queries.at(1).find("after=1700000001.000000%2C101") != std::string::npos);
  }
  {
    // The reviewer's view: TCAP's id, ideology and file type, its time.
    auto shown = hs.server.Client()->Get("/v1/audit/" + hs.Screen("md5", md5)["audit_id"].get<std::string>(), Bearer(hs.admin));
    REQUIRE(HttpStatus(shown) == 200);
    const json hit = Json(shown)["hits"].at(0);
    CHECK(hit["partner_ref"] == "110");
    CHECK(hit["tags"] == json::array({"ideology:Far-Right", "file_type:mp4"}));
    CHECK(hit["first_seen_ms"] == 1700000002000);
  }

  // Increments: a new hash, a delete.
  tc.Set({103, pdq[3]});
  tc.Delete(100);
  x = hs.WaitFor([&](const json& e) { return After(e, Checkpoint(tc.clock, 100)); }, "the increment");
  CHECK(x["entries"] == 5);
  CHECK(hs.Matches("pdq", pdq[3]));
  CHECK_FALSE(hs.Matches("pdq", pdq[0]));

  // The token expires (TAT's 403): one new login within the same fetch, no
  // failed fetch.
  const json errors_before = x["errors"];
  {
    std::lock_guard l(tc.mu);
    tc.tokens.clear();
  }
  tc.Set({104, pdq[4]});
  x = hs.WaitFor([&](const json& e) { return After(e, Checkpoint(tc.clock, 104)); }, "the fetch after expiry");
  CHECK(x["last_error"].is_null());
  CHECK(x["errors"] == errors_before);
  CHECK(hs.Matches("pdq", pdq[4]));
  {
    std::lock_guard l(tc.mu);
    CHECK(tc.logins == 2);
  }

  // A corrupt page: pdq 5 and 6 fill a page that applies, the one with 7 is
  // cut JSON: the checkpoint stays before it, the alert shows in the status
  // and the metrics, the page is asked again with backoff, and applies once
  // healed.
  {
    std::lock_guard l(tc.mu);
    tc.corrupt_id = 107;
  }
  tc.SetMany({{105, pdq[5]}, {106, pdq[6]}, {107, pdq[7]}});
  const std::string before_corrupt = Checkpoint(tc.clock - 0.5, 106);
  x = hs.WaitFor([](const json& e) { return !e["last_error"].is_null(); }, "the corrupt page's error");
  CHECK(x["last_error"].get<std::string>().find("TCAP page: not JSON") != std::string::npos);
  const int asked = tc.requests;
  std::this_thread::sleep_for(std::chrono::seconds(2));
  x = hs.Status();
  CHECK(After(x, before_corrupt));
  CHECK_FALSE(x["last_error"].is_null());
  CHECK(tc.requests > asked);  // retried, not wedged silently
  CHECK(hs.Matches("pdq", pdq[6]));
  CHECK_FALSE(hs.Matches("pdq", pdq[7]));
  const std::string metrics = hs.Metrics();
  CHECK(metrics.find("hashscreen_exchange_failing{exchange=\"tcap\"} 1") != std::string::npos);
  CHECK(metrics.find("hashscreen_exchange_errors_total{exchange=\"tcap\"} 0") == std::string::npos);
  {
    std::lock_guard l(tc.mu);
    tc.corrupt_id = -1;
  }
  x = hs.WaitFor([&](const json& e) { return e["last_error"].is_null() && After(e, Checkpoint(tc.clock, 107)); }, "the healed page");
  CHECK(x["entries"] == 9);
  CHECK(hs.Matches("pdq", pdq[7]));
  CHECK(hs.Metrics().find("hashscreen_exchange_failing{exchange=\"tcap\"} 0") != std::string::npos);
  CheckQuietPollsWriteNothing(hs, list_id);
  CheckThrottleHonoured(hs, tc);
  CheckHangCutOff(hs, tc);

  // The server refuses the checkpoint as too old while a hash vanished with
  // no tombstone: everything is fetched again and the vanished hash withdrawn.
  size_t asked_before;
  {
    std::lock_guard l(tc.mu);
    tc.refuse_old = true;
    tc.handed_out.clear();
    tc.records.erase(101);
    asked_before = tc.queries.size();
  }
  x = hs.WaitFor([](const json& e) { return e["entries"] == 8 && e["last_error"].is_null(); }, "the whole refetch");
  CHECK_FALSE(hs.Matches("pdq", pdq[1]));
  CHECK(hs.Matches("pdq", pdq[2]));
  CHECK(hs.Matches("md5", md5));
  {
    std::lock_guard l(tc.mu);
    bool from_start = false;
    for (size_t i = asked_before; i < tc.queries.size(); ++i) from_start |= tc.queries[i].ends_with("after=");
    CHECK(from_start);
    tc.refuse_old = false;
  }
  // Each change once: 5 adds, +1 -1, +1, +3, -1.
  CHECK(hs.List(list_id)["last_seq"] == 12);

  // A reviewer's verdict on a TCAP match queues no feedback (TCAP's feedback
  // call is not documented) and sends nothing; the false positive still
  // stops matching here.
  json hit = hs.Screen("pdq", pdq[2]);
  REQUIRE(hit["match"].get<bool>());
  const std::string audit_id = hit["audit_id"].get<std::string>();
  auto r = hs.server.Client()->Post(("/v1/audit/" + audit_id + "/review").c_str(), Bearer(hs.reviewer),
                                    json{{"disposition", "false_positive"}, {"note", "a logo"}}.dump(), "application/json");
  REQUIRE_MESSAGE(HttpStatus(r) == 201, (r ? r->body : ""));
  auto a = hs.server.Client()->Get(("/v1/audit/" + audit_id).c_str(), Bearer(hs.reviewer));
  REQUIRE(HttpStatus(a) == 200);
  const json fb = Json(a).value("feedback", json::array());
  CHECK_MESSAGE(fb.empty(), fb.dump());
  CHECK(hs.Status()["feedback_pending"] == 0);
  CHECK_FALSE(hs.Matches("pdq", pdq[2]));
  {
    std::lock_guard l(tc.mu);
    CHECK(tc.posts_elsewhere == 0);
  }

  // `hashscreen exchanges` shows it.
  std::string out;
  const std::string server_url = "https://127.0.0.1:" + std::to_string(hs.server.port());
  REQUIRE(RunProgram({HASHSCREEN_CLI, "exchanges", "--server", server_url, "--key", hs.admin, "--cacert",
                      hs.server.cert().string()},
                     &out) == 0);
  CHECK(out.find("tcap") != std::string::npos);
  CHECK(out.find("records after") != std::string::npos);
  // Neither the password nor a token anywhere.
  const std::string log = hs.server.Log();
  CHECK(log.find("tcap") != std::string::npos);
  CHECK(log.find(tc.password) == std::string::npos);
  CHECK(log.find("jwt-") == std::string::npos);
}

TEST_CASE("exchange tcap: a wrong password and a token refused twice stop it with last_error, no secret shown") {
  TcapFixture tc;
  std::mt19937_64 rng(43);
  const std::string pdq = RandomHex(rng, 32);
  tc.Set({1, pdq});
  const std::string wrong = "wr0ng-passw0rd";
  TcapServer hs(tc.port, wrong, "");
  json x = hs.WaitFor([](const json& e) { return !e["last_error"].is_null(); }, "the refused login");
  CHECK(x["last_error"].get<std::string>().find("TCAP login as 'tester' refused (HTTP 401)") != std::string::npos);
  CHECK(x["last_error"].get<std::string>().find("password_file") != std::string::npos);
  CHECK(x["entries"] == 0);
  CHECK(x.dump().find(wrong) == std::string::npos);
  CHECK(hs.Metrics().find("hashscreen_exchange_failing{exchange=\"tcap\"} 1") != std::string::npos);
  {
    std::lock_guard l(tc.mu);
    CHECK(tc.queries.empty());  // no list request without a token
    tc.password = wrong;         // the partner's side is fixed
  }
  hs.WaitFor([](const json& e) { return e["entries"] == 1 && e["last_error"].is_null(); }, "the sync once accepted");

  // Logged in, but every list request refused: one new login, then the error.
  int logins;
  {
    std::lock_guard l(tc.mu);
    tc.refuse_tokens = true;
    logins = tc.logins;
  }
  x = hs.WaitFor([](const json& e) { return !e["last_error"].is_null(); }, "the refused token");
  CHECK(x["last_error"].get<std::string>().find("refused with a new token too (HTTP 403)") != std::string::npos);
  {
    std::lock_guard l(tc.mu);
    CHECK(tc.logins > logins);
  }
  const std::string log = hs.server.Log();
  CHECK(log.find("refused") != std::string::npos);
  CHECK(log.find(wrong) == std::string::npos);
  CHECK(log.find("jwt-") == std::string::npos);
  CHECK(hs.Status().dump().find("jwt-") == std::string::npos);
}

TEST_CASE("exchange tcap: SIGKILL mid-sync resumes from the last page applied: nothing lost or doubled") {
  std::mt19937_64 rng(47);
  TcapFixture tc;
  tc.page_delay_ms = 20;
  std::vector<std::string> hashes;
  for (int i = 0; i < 3000; ++i) {
    hashes.push_back(RandomHex(rng, i % 2 ? 16 : 32));
    tc.Set({i + 1, hashes.back(), i % 2 ? "MD5" : "PDQ"});
  }
  TcapServer hs(tc.port, tc.password, "page_size = 50\n");
  json x = CheckSyncSurvivesKills(hs, {600, 900, 1200}, 3000);
  CHECK(hs.Matches("pdq", hashes[0]));
  CHECK(hs.Matches("md5", hashes[2999]));
  {
    std::lock_guard l(tc.mu);
    // Resumed, not restarted: the list was asked from the start fewer times than there were starts.
    int from_start = 0;
    for (const auto& q : tc.queries) from_start += q.ends_with("after=");
    CHECK(from_start < 4);
    CHECK(tc.queries.size() < 4 * 60);
  }
  // A delete after the kills applies once.
  tc.Delete(1);
  hs.server.Stop(SIGKILL);
  hs.Start();
  x = hs.WaitFor([](const json& e) { return e["entries"] == 2999; }, "the delete");
  CHECK(hs.List(x["list_id"].get<uint64_t>())["last_seq"] == 3001);
  CHECK_FALSE(hs.Matches("pdq", hashes[0]));
}
