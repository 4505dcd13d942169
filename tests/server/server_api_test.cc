// The HTTP API of a real hashscreend over HTTPS: roles, screening verdicts on
// real photos, every error class, lists and batches, audit routes, limits.
#include <atomic>
#include <set>
#include <thread>

#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;

namespace {

struct RouteCase {
  std::string method, path, body, content_type;
  std::set<std::string> allowed;  // roles
};

httplib::Result Call(httplib::SSLClient& c, const RouteCase& rc, const httplib::Headers& h) {
  if (rc.method == "GET") return c.Get(rc.path.c_str(), h);
  if (rc.method == "PATCH") return c.Patch(rc.path.c_str(), h, rc.body, rc.content_type.c_str());
  return c.Post(rc.path.c_str(), h, rc.body, rc.content_type.c_str());
}

}  // namespace

TEST_CASE("every route refuses a missing or bad key with 401 and every role it does not allow with 403") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  std::string id = std::to_string(f.list_id);
  std::string jpeg = FileBytes(BridgeImage());
  std::string multipart_body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n" + jpeg +
      "\r\n--XyZ--\r\n";
  const std::vector<RouteCase> routes = {
      {"POST", "/v1/screen", jpeg, "image/jpeg", {"ingest"}},
      {"POST", "/v1/screen/batch", multipart_body, "multipart/form-data; boundary=XyZ", {"ingest"}},
      {"POST", "/v1/screen/hashes", R"({"md5":"00000000000000000000000000000000"})", "application/json", {"ingest"}},
      {"POST", "/v1/screen/hashes/batch", R"({"items":[{"md5":"00000000000000000000000000000000"}]})", "application/json", {"ingest"}},
      {"GET", "/v1/audit", "", "", {"reviewer", "admin"}},
      {"GET", "/v1/audit/1", "", "", {"reviewer", "admin"}},
      {"GET", "/v1/audit/export", "", "", {"reviewer", "admin"}},
      {"POST", "/v1/audit/1/review", R"({"disposition":"confirmed"})", "application/json", {"reviewer", "admin"}},
      {"GET", "/v1/audit/verify", "", "", {"admin"}},
      {"GET", "/v1/audit/checkpoint", "", "", {"admin"}},
      {"GET", "/v1/lists", "", "", {"partner", "admin", "replica"}},
      {"POST", "/v1/lists", R"({"name":"n","kind":"allow","owner":"acme"})", "application/json", {"partner", "admin"}},
      {"GET", "/v1/lists/" + id, "", "", {"partner", "admin", "replica"}},
      {"PATCH", "/v1/lists/" + id, R"({"enabled":true})", "application/json", {"partner", "admin"}},
      {"POST", "/v1/lists/" + id + "/batches", R"({"batch_id":"x","add":[]})", "application/json", {"partner"}},
      {"GET", "/v1/lists/" + id + "/changes", "", "", {"replica", "partner"}},
      {"GET", "/v1/feed", "", "", {"replica", "admin"}},
  };
  auto c = f.server.Client();
  // Create one audit entry so /v1/audit/1 exists for the roles that may see it.
  REQUIRE(f.Screen(jpeg)->status == 200);
  for (const auto& rc : routes) {
    CAPTURE(rc.method);
    CAPTURE(rc.path);
    auto none = Call(*c, rc, {});
    REQUIRE(none);
    CHECK(none->status == 401);
    CHECK(Json(none)["error"]["code"] == "unauthenticated");
    auto bad = Call(*c, rc, Bearer("hsk_0123456789abcdef_" + std::string(64, '0')));
    REQUIRE(bad);
    CHECK(bad->status == 401);
    auto garbage = Call(*c, rc, {{"Authorization", "Basic Zm9vOmJhcg=="}});
    REQUIRE(garbage);
    CHECK(garbage->status == 401);
    for (const char* role : {"ingest", "reviewer", "partner", "replica", "admin"}) {
      CAPTURE(role);
      auto r = Call(*c, rc, Bearer(f.keys[role]));
      REQUIRE(r);
      if (rc.allowed.count(role)) {
        CHECK(r->status != 401);
        CHECK(r->status != 403);
        CHECK(r->status < 500);
      } else {
        CHECK(r->status == 403);
        CHECK(Json(r)["error"]["code"] == "permission_denied");
      }
    }
  }
  // A wrong role learns nothing about existence: same answer for a list that
  // exists and one that does not (the same request id, so the bodies can be
  // compared byte for byte).
  httplib::Headers same = Bearer(f.keys["ingest"]);
  same.emplace("X-Request-Id", "existence-probe");
  auto exists = c->Get(("/v1/lists/" + id + "/changes").c_str(), same);
  auto missing = c->Get("/v1/lists/99999/changes", same);
  REQUIRE(exists);
  REQUIRE(missing);
  CHECK(exists->status == missing->status);
  CHECK(exists->body == missing->body);
}

TEST_CASE("the bridge photo and every rotated or mirrored copy match, another photo does not") {
  if (!RequireData(ConformanceImages() / "reg-test-input" / "dih", "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(ConformanceImages() / "reg-test-input" / "dih")) {
    CAPTURE(entry.path());
    auto r = f.Screen(FileBytes(entry.path()));
    REQUIRE(r);
    REQUIRE(r->status == 200);
    json j = Json(r);
    CHECK(j["match"] == true);
    ++files;
  }
  CHECK(files == 8);
  auto r = f.Screen(FileBytes(ConformanceImages() / "misc-images" / "c.png"), "ingest", "image/png", "?ref=item-42");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  json j = Json(r);
  // Exactly the verdict and the audit id: nothing about lists, partners or hashes.
  CHECK(j.size() == 2);
  CHECK(j["match"] == false);
  REQUIRE(j["audit_id"].is_string());
  for (const auto& [name, value] : r->headers) {
    CHECK(value.find("acme") == std::string::npos);
    CHECK(value.find("known") == std::string::npos);
  }
  auto m = f.Screen(FileBytes(BridgeImage()));
  json mj = Json(m);
  CHECK(mj.size() == 2);
  CHECK(m->body.find("acme") == std::string::npos);
  CHECK(m->body.find("bridge-ref") == std::string::npos);

  // The reviewer sees the whole story of the match, and the caller's ref of the no-match.
  auto c = f.server.Client();
  auto shown = c->Get(("/v1/audit/" + mj["audit_id"].get<std::string>()).c_str(), Bearer(f.keys["reviewer"]));
  REQUIRE(shown);
  REQUIRE(shown->status == 200);
  json e = Json(shown);
  CHECK(e["verdict"] == "match");
  REQUIRE(e["hits"].size() == 1);
  CHECK(e["hits"][0]["partner"] == "acme");
  CHECK(e["hits"][0]["partner_ref"] == "bridge-ref-1");
  CHECK(e["hits"][0]["list_id"] == f.list_id);
  CHECK(e["query"]["quality"].get<int>() >= 50);
  CHECK(e["image"]["format"] == "jpeg");
  auto no = c->Get(("/v1/audit/" + j["audit_id"].get<std::string>()).c_str(), Bearer(f.keys["reviewer"]));
  CHECK(Json(no)["ref"] == "item-42");
  CHECK(Json(no)["verdict"] == "no_match");
}

TEST_CASE("a batch is matchable by the next screen, retries are idempotent, and removal takes effect") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f({}, /*with_list=*/false);
  auto c = f.server.Client();
  auto created = c->Post("/v1/lists", Bearer(f.keys["partner"]), R"({"name":"l","kind":"block"})", "application/json");
  REQUIRE(created->status == 201);
  std::string base = "/v1/lists/" + std::to_string(Json(created)["id"].get<uint64_t>());
  std::string jpeg = FileBytes(BridgeImage());
  CHECK(Json(f.Screen(jpeg))["match"] == false);

  std::string sha = Json(c->Get("/v1/audit/1", Bearer(f.keys["reviewer"])))["query"]["sha256"];
  json add{{"batch_id", "b-1"}, {"add", {{{"type", "sha256"}, {"hash", sha}, {"ref", "r1"}}}}};
  auto first = c->Post((base + "/batches").c_str(), Bearer(f.keys["partner"]), add.dump(), "application/json");
  REQUIRE(first->status == 200);
  CHECK(Json(first)["added"] == 1);
  CHECK(Json(first)["replayed"] == false);
  CHECK(Json(f.Screen(jpeg))["match"] == true);

  auto retry = c->Post((base + "/batches").c_str(), Bearer(f.keys["partner"]), add.dump(), "application/json");
  REQUIRE(retry->status == 200);
  CHECK(Json(retry)["replayed"] == true);
  CHECK(Json(retry)["seq"] == Json(first)["seq"]);
  CHECK(Json(retry)["added"] == 1);

  json remove{{"batch_id", "b-2"}, {"remove", {{{"type", "sha256"}, {"hash", sha}}}}};
  auto removed = c->Post((base + "/batches").c_str(), Bearer(f.keys["partner"]), remove.dump(), "application/json");
  REQUIRE(removed->status == 200);
  CHECK(Json(removed)["removed"] == 1);
  CHECK(Json(f.Screen(jpeg))["match"] == false);

  auto changes = c->Get((base + "/changes?after=0&limit=10").c_str(), Bearer(f.keys["replica"]));
  REQUIRE(changes->status == 200);
  json ch = Json(changes);
  REQUIRE(ch["changes"].size() == 2);
  CHECK(ch["changes"][0]["op"] == "add");
  CHECK(ch["changes"][1]["op"] == "remove");
  CHECK(ch["changes"][0]["hash"] == sha);
  auto tail = c->Get((base + "/changes?after=" + std::to_string(ch["next"].get<uint64_t>())).c_str(), Bearer(f.keys["replica"]));
  CHECK(Json(tail)["changes"].empty());

  // The hashes route reaches the same index.
  json hashes{{"sha256", sha}};
  auto hr = c->Post("/v1/screen/hashes", Bearer(f.keys["ingest"]), hashes.dump(), "application/json");
  REQUIRE(hr->status == 200);
  CHECK(Json(hr)["match"] == false);
  CHECK(Json(hr).size() == 2);
}

TEST_CASE("a batch id reused with other content is 409 batch_id_reused and applies nothing, and the same content replays") {
  ServerFixture f({}, /*with_list=*/false);
  auto c = f.server.Client();
  auto created = c->Post("/v1/lists", Bearer(f.keys["partner"]), R"({"name":"l"})", "application/json");
  REQUIRE(created->status == 201);
  const std::string base = "/v1/lists/" + std::to_string(Json(created)["id"].get<uint64_t>());
  const std::string hash = std::string(32, 'a');
  json add{{"batch_id", "b-1"}, {"add", {{{"type", "md5"}, {"hash", hash}, {"ref", "r"}}}}};
  REQUIRE(c->Post((base + "/batches").c_str(), Bearer(f.keys["partner"]), add.dump(), "application/json")->status == 200);
  json list_before = Json(c->Get(base.c_str(), Bearer(f.keys["partner"])));
  // The withdrawal under the same id is refused, not answered as a replay.
  json withdraw{{"batch_id", "b-1"}, {"remove", {{{"type", "md5"}, {"hash", hash}}}}};
  auto reused = c->Post((base + "/batches").c_str(), Bearer(f.keys["partner"]), withdraw.dump(), "application/json");
  REQUIRE(reused);
  CHECK(reused->status == 409);
  CHECK(Json(reused)["error"]["code"] == "batch_id_reused");
  CHECK(Json(c->Get(base.c_str(), Bearer(f.keys["partner"]))) == list_before);
  auto feed = Json(c->Get((base + "/changes").c_str(), Bearer(f.keys["partner"])));
  CHECK(feed["changes"].size() == 1);
  auto hr = c->Post("/v1/screen/hashes", Bearer(f.keys["ingest"]), json{{"md5", hash}}.dump(), "application/json");
  CHECK(Json(hr)["match"] == true);
  auto replay = c->Post((base + "/batches").c_str(), Bearer(f.keys["partner"]), add.dump(), "application/json");
  REQUIRE(replay->status == 200);
  CHECK(Json(replay)["replayed"] == true);
  CHECK(Json(replay)["content_verified"] == true);
}

TEST_CASE("paging cursors and limits out of range are 400 in every paging route, never a wrap to the start") {
  ServerFixture f({}, /*with_list=*/false);
  auto c = f.server.Client();
  for (int i = 0; i < 3; ++i) {
    json body{{"md5", std::string(31, '0') + std::to_string(i)}};
    REQUIRE(c->Post("/v1/screen/hashes", Bearer(f.keys["ingest"]), body.dump(), "application/json")->status == 200);
  }
  auto created = c->Post("/v1/lists", Bearer(f.keys["partner"]), R"({"name":"l"})", "application/json");
  const std::string feed = "/v1/lists/" + std::to_string(Json(created)["id"].get<uint64_t>()) + "/changes";
  json add{{"batch_id", "b"}, {"add", {{{"type", "md5"}, {"hash", std::string(32, 'b')}}}}};
  REQUIRE(c->Post((feed.substr(0, feed.rfind('/')) + "/batches").c_str(), Bearer(f.keys["partner"]), add.dump(),
                  "application/json")
              ->status == 200);
  const std::string reviewer = f.keys["reviewer"], replica = f.keys["replica"];
  for (const char* q : {"after=18446744073709551615", "after=18446744073709551616", "after=4", "after=-1",
                               "after=", "after=1x", "limit=0", "limit=1001", "limit=18446744073709551615",
                               "since=9223372036854775808", "until=99999999999999999999", "list=-1"}) {
    CAPTURE(q);
    auto r = c->Get((std::string("/v1/audit?") + q).c_str(), Bearer(reviewer));
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(Json(r)["error"]["code"] == "invalid_argument");
  }
  auto end = Json(c->Get("/v1/audit?after=3", Bearer(reviewer)));
  CHECK(end["entries"].empty());
  CHECK(Json(c->Get("/v1/audit?after=2&limit=1000", Bearer(reviewer)))["entries"].size() == 1);
  for (const char* q : {"after=18446744073709551615", "after=2", "after=-1", "limit=0", "limit=10001",
                               "limit=18446744073709551616"}) {
    CAPTURE(q);
    auto r = c->Get((feed + "?" + q).c_str(), Bearer(replica));
    REQUIRE(r);
    CHECK(r->status == 400);
  }
  CHECK(Json(c->Get((feed + "?after=1").c_str(), Bearer(replica)))["changes"].empty());
  CHECK(Json(c->Get((feed + "?after=0&limit=10000").c_str(), Bearer(replica)))["changes"].size() == 1);
}

TEST_CASE("partners see and change only their own lists, others' lists look absent") {
  ServerFixture f({}, /*with_list=*/false);
  auto c = f.server.Client();
  auto mine = c->Post("/v1/lists", Bearer(f.keys["partner"]), R"({"name":"a","kind":"block"})", "application/json");
  REQUIRE(mine->status == 201);
  CHECK(Json(mine)["owner"] == "acme");
  std::string id = std::to_string(Json(mine)["id"].get<uint64_t>());
  auto theirs = c->Post("/v1/lists", Bearer(f.keys["partner2"]), R"({"name":"b","kind":"allow"})", "application/json");
  REQUIRE(theirs->status == 201);

  auto listed = Json(c->Get("/v1/lists", Bearer(f.keys["partner"])));
  REQUIRE(listed["lists"].size() == 1);
  CHECK(listed["lists"][0]["name"] == "a");
  CHECK(Json(c->Get("/v1/lists", Bearer(f.keys["admin"])))["lists"].size() == 2);

  auto other = c->Get(("/v1/lists/" + id).c_str(), Bearer(f.keys["partner2"]));
  auto absent = c->Get("/v1/lists/424242", Bearer(f.keys["partner2"]));
  CHECK(other->status == 404);
  CHECK(absent->status == 404);
  CHECK(Json(other)["error"]["code"] == Json(absent)["error"]["code"]);
  json batch{{"batch_id", "x"}, {"add", json::array()}};
  auto push = c->Post(("/v1/lists/" + id + "/batches").c_str(), Bearer(f.keys["partner2"]), batch.dump(), "application/json");
  CHECK(push->status == 404);
  auto feed = c->Get(("/v1/lists/" + id + "/changes").c_str(), Bearer(f.keys["partner2"]));
  CHECK(feed->status == 404);
  auto spoof = c->Post("/v1/lists", Bearer(f.keys["partner2"]), R"({"name":"c","owner":"acme"})", "application/json");
  CHECK(spoof->status == 400);
  auto dup = c->Post("/v1/lists", Bearer(f.keys["partner"]), R"({"name":"a"})", "application/json");
  CHECK(dup->status == 409);
  CHECK(Json(dup)["error"]["code"] == "already_exists");
  auto off = c->Patch(("/v1/lists/" + id).c_str(), Bearer(f.keys["partner"]), R"({"enabled":false})", "application/json");
  REQUIRE(off->status == 200);
  CHECK(Json(off)["enabled"] == false);
}

TEST_CASE("every error class has its status and a JSON error, every failed screen is audited") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f({"--max-body-bytes", "200000", "--max-pixels", "100000"});
  auto c = f.server.Client();
  auto expect = [](const httplib::Result& r, int status, const char* code) {
    REQUIRE(r);
    CHECK(r->status == status);
    json j = Json(r);
    REQUIRE(j.is_object());
    CHECK(j["error"]["code"] == code);
    CHECK(j["error"]["message"].is_string());
    CHECK(j.size() == 1);
  };
  std::string jpeg = FileBytes(BridgeImage());  // 361 KB: over the body limit here
  std::string small = FileBytes(ConformanceImages() / "bridge-mods" / "square-256x256.jpg");
  REQUIRE(small.size() < 200000);
  expect(f.Screen(jpeg), 413, "too_large");
  // 2000 x 150 = 300000 pixels: over the pixel limit, refused from the header.
  std::string wide = FileBytes(ConformanceImages() / "synthetic" / "synth_2000x150_grey.png");
  REQUIRE(wide.size() < 200000);
  expect(f.Screen(wide, "ingest", "image/png"), 413, "too_large");
  expect(f.Screen("this is not an image at all"), 415, "unsupported");
  expect(f.Screen(small, "ingest", "application/json"), 415, "unsupported");
  expect(f.Screen(small.substr(0, small.size() / 2)), 422, "corruption");
  // Not screens: refused before anything was hashed, and not audited.
  expect(f.Screen(small, "ingest", "image/jpeg", "?ref=" + std::string(300, 'r')), 400, "invalid_argument");
  expect(c->Post("/v1/screen/hashes", Bearer(f.keys["ingest"]), R"({"pdq":"zz"})", "application/json"), 400,
         "invalid_argument");
  expect(c->Post("/v1/screen/hashes", Bearer(f.keys["ingest"]), R"({})", "application/json"), 400, "invalid_argument");
  expect(c->Post("/v1/screen/hashes", Bearer(f.keys["ingest"]), "not json", "application/json"), 400, "invalid_argument");
  expect(c->Post("/v1/lists", Bearer(f.keys["partner"]), R"({"name":5})", "application/json"), 400, "invalid_argument");
  expect(c->Post("/v1/lists", Bearer(f.keys["partner"]), R"({"name":"x","pdq_threshold":99})", "application/json"), 400,
         "invalid_argument");
  expect(c->Post("/v1/lists", Bearer(f.keys["partner"]), R"({"name":"x","kind":"maybe"})", "application/json"), 400,
         "invalid_argument");
  expect(c->Post(("/v1/lists/" + std::to_string(f.list_id) + "/batches").c_str(), Bearer(f.keys["partner"]),
                 R"({"batch_id":"bad","add":[{"type":"pdq","hash":"abc"}]})", "application/json"),
         400, "invalid_argument");
  expect(c->Get("/v1/audit/999999", Bearer(f.keys["reviewer"])), 404, "not_found");
  expect(c->Post("/v1/audit/999999/review", Bearer(f.keys["reviewer"]), R"({"disposition":"confirmed"})", "application/json"),
         404, "not_found");
  expect(c->Get("/v1/no/such/route", Bearer(f.keys["admin"])), 404, "not_found");
  expect(c->Get("/v1/audit?limit=0", Bearer(f.keys["reviewer"])), 400, "invalid_argument");
  expect(c->Get("/v1/audit?verdict=maybe", Bearer(f.keys["reviewer"])), 400, "invalid_argument");

  // The five refused images each have an audit entry saying why.
  auto errors = c->Get("/v1/audit?verdict=error", Bearer(f.keys["reviewer"]));
  REQUIRE(errors->status == 200);
  json entries = Json(errors)["entries"];
  REQUIRE(entries.size() == 5);
  std::vector<std::string> reasons;
  for (const auto& e : entries) reasons.push_back(e["error"]);
  CHECK(reasons == std::vector<std::string>{"too_large", "too_large", "unsupported", "unsupported", "corruption"});
  CHECK(entries[0]["image"]["bytes"] == jpeg.size());
  auto verify = c->Get("/v1/audit/verify", Bearer(f.keys["admin"]));
  CHECK(Json(verify)["ok"] == true);
}

TEST_CASE("reviews are recorded as chain entries and shown with their target") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  auto c = f.server.Client();
  std::string id = Json(f.Screen(FileBytes(BridgeImage())))["audit_id"];
  auto review = c->Post(("/v1/audit/" + id + "/review").c_str(), Bearer(f.keys["reviewer"]),
                        R"({"disposition":"false_positive","note":"a bridge"})", "application/json");
  REQUIRE(review->status == 201);
  CHECK(Json(review)["kind"] == "review");
  CHECK(Json(review)["target_id"] == id);
  auto bad = c->Post(("/v1/audit/" + id + "/review").c_str(), Bearer(f.keys["reviewer"]), R"({"disposition":"meh"})",
                     "application/json");
  CHECK(bad->status == 400);
  auto shown = Json(c->Get(("/v1/audit/" + id).c_str(), Bearer(f.keys["reviewer"])));
  REQUIRE(shown["reviews"].size() == 1);
  CHECK(shown["reviews"][0]["note"] == "a bridge");
  auto reviews = Json(c->Get("/v1/audit?verdict=review", Bearer(f.keys["reviewer"])));
  CHECK(reviews["entries"].size() == 1);
  auto by_list = Json(c->Get(("/v1/audit?list=" + std::to_string(f.list_id)).c_str(), Bearer(f.keys["reviewer"])));
  CHECK(by_list["entries"].size() == 1);
  auto page = Json(c->Get("/v1/audit?limit=1", Bearer(f.keys["reviewer"])));
  CHECK(page["entries"].size() == 1);
  CHECK(page["next"] == "1");
  auto verify = Json(c->Get("/v1/audit/verify", Bearer(f.keys["admin"])));
  CHECK(verify["ok"] == true);
  CHECK(verify["entries"] == 3);  // the screen, the review, and the signal_suppressed event of its false_positive
}

TEST_CASE("a key over its rate gets 429 with Retry-After") {
  ServerFixture f({"--rate-per-key", "0.1", "--rate-burst", "3"}, /*with_list=*/false);
  auto c = f.server.Client();
  int ok = 0, limited = 0;
  std::string retry_after;
  for (int i = 0; i < 6; ++i) {
    auto r = c->Get("/v1/audit?limit=1", Bearer(f.keys["reviewer"]));
    REQUIRE(r);
    if (r->status == 200) ++ok;
    if (r->status == 429) {
      ++limited;
      retry_after = r->get_header_value("Retry-After");
      CHECK(Json(r)["error"]["code"] == "rate_limited");
    }
  }
  CHECK(ok == 3);
  CHECK(limited == 3);
  CHECK(std::stoi(retry_after) >= 1);
  // Another key has its own bucket.
  CHECK(c->Get("/v1/audit/verify", Bearer(f.keys["admin"]))->status == 200);
}

TEST_CASE("screens beyond the workers and the queue get 503 with Retry-After, never a hang") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f({"--screen-workers", "1", "--screen-queue", "0"});
  std::string jpeg = FileBytes(BridgeImage());
  std::atomic<int> ok{0}, unavailable{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      auto c = f.server.Client();
      for (int i = 0; i < 4; ++i) {
        auto r = c->Post("/v1/screen", Bearer(f.keys["ingest"]), jpeg, "image/jpeg");
        if (!r) { ++other; continue; }
        if (r->status == 200) ++ok;
        else if (r->status == 503 && r->get_header_value("Retry-After") == "1") ++unavailable;
        else ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(other == 0);
  CHECK(ok > 0);
  CHECK(unavailable > 0);
  auto metrics = f.server.Client()->Get("/metrics", Bearer(f.keys["admin"]));
  REQUIRE(metrics);
  CHECK(metrics->body.find("hashscreen_http_requests_total{route=\"/v1/screen\",status=\"503\"}") != std::string::npos);
}

TEST_CASE("health and readiness need no key, /metrics needs an admin key except on the metrics listener") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  auto c = f.server.Client();
  f.Screen(FileBytes(BridgeImage()));
  f.Screen("junk");
  CHECK(c->Get("/healthz")->status == 200);
  auto ready = c->Get("/readyz");
  CHECK(ready->status == 200);
  CHECK(Json(ready)["ready"] == true);
  // The public listener serves metrics to admins only.
  auto anonymous = c->Get("/metrics");
  REQUIRE(anonymous);
  CHECK(anonymous->status == 401);
  CHECK(c->Get("/metrics", Bearer(f.keys["ingest"]))->status == 403);
  CHECK(c->Get("/metrics", Bearer(f.keys["admin"]))->status == 200);
  // The metrics listener (plain HTTP, its own port) needs no key, and serves nothing else.
  REQUIRE(f.server.metrics_port() > 0);
  REQUIRE(f.server.metrics_port() != f.server.port());
  httplib::Client scraper("127.0.0.1", f.server.metrics_port());
  CHECK(scraper.Get("/healthz")->status == 404);
  CHECK(scraper.Get("/v1/audit", Bearer(f.keys["reviewer"]))->status == 404);
  auto m = scraper.Get("/metrics");
  REQUIRE(m);
  REQUIRE(m->status == 200);
  for (const char* needle : {"hashscreen_http_requests_total{route=\"/v1/screen\",status=\"200\"} 1",
                             "hashscreen_http_request_duration_seconds_bucket{route=\"/v1/screen\",status=\"200\",le=\"+Inf\"} 1",
                             "hashscreen_screen_verdicts_total{verdict=\"match\"} 1",
                             "hashscreen_decode_errors_total{reason=\"unsupported\"} 1",
                             "hashscreen_index_pdq_hashes 1", "hashscreen_audit_seq 2"}) {
    CHECK_MESSAGE(m->body.find(needle) != std::string::npos, needle);
  }
  // Logs carry key ids, never secrets.
  std::string log = f.server.Log();
  for (const auto& [role, secret] : f.keys) CHECK(log.find(secret) == std::string::npos);
  CHECK(log.find("route=/v1/screen status=200") != std::string::npos);
}

TEST_CASE("every JSON body refuses a duplicate key (at any depth) and an unknown field, naming it, and applies nothing") {
  ServerFixture f;
  auto c = f.server.Client();
  const std::string id = std::to_string(f.list_id);
  struct BodyCase {
    std::string role, method, path, body, named;
  };
  const std::vector<BodyCase> cases = {
      {"admin", "POST", "/v1/keys", R"({"role":"ingest","role":"admin"})", "\"role\""},
      {"admin", "POST", "/v1/keys", R"({"role":"ingest","rolle":"admin"})", "\"rolle\""},
      {"admin", "POST", "/v1/keys", R"({"role":"ingest","partner":"acme"})", "partner"},
      {"partner", "POST", "/v1/lists", R"({"name":"a","name":"b"})", "\"name\""},
      {"partner", "POST", "/v1/lists", R"({"name":"a","knd":"allow"})", "\"knd\""},
      {"partner", "PATCH", "/v1/lists/" + id, R"({"enabled":false,"enabled":true})", "\"enabled\""},
      {"partner", "PATCH", "/v1/lists/" + id, R"({"owner":"globex"})", "\"owner\""},
      {"partner", "PATCH", "/v1/lists/" + id, R"({"kind":"allow"})", "\"kind\""},
      {"partner", "POST", "/v1/lists/" + id + "/batches", R"({"batch_id":"B","batch_id":"C","add":[]})", "\"batch_id\""},
      {"partner", "POST", "/v1/lists/" + id + "/batches", R"({"batch_id":"B","ad":[]})", "\"ad\""},
      {"partner", "POST", "/v1/lists/" + id + "/batches",
       R"({"batch_id":"D","add":[{"type":"md5","hash":"00000000000000000000000000000001","hash":"00000000000000000000000000000002"}]})",
       "\"hash\""},
      {"partner", "POST", "/v1/lists/" + id + "/batches",
       R"({"batch_id":"E","add":[{"type":"md5","hash":"00000000000000000000000000000001","note":"x"}]})", "\"note\""},
      {"ingest", "POST", "/v1/screen/hashes", R"({"md5":"00000000000000000000000000000000","md5":"11111111111111111111111111111111"})", "\"md5\""},
      {"ingest", "POST", "/v1/screen/hashes", R"({"md5":"00000000000000000000000000000000","pqd":"00"})", "\"pqd\""},
      {"reviewer", "POST", "/v1/audit/1/review", R"({"disposition":"confirmed","disposition":"false_positive"})",
       "\"disposition\""},
      {"reviewer", "POST", "/v1/audit/1/review", R"({"disposition":"confirmed","notes":"x"})", "\"notes\""},
  };
  const uint64_t before_seq = Json(c->Get(("/v1/lists/" + id).c_str(), Bearer(f.keys["partner"])))["last_seq"];
  const size_t before_keys = Json(c->Get("/v1/keys", Bearer(f.keys["admin"])))["keys"].size();
  for (const auto& bc : cases) {
    CAPTURE(bc.body);
    httplib::Result r = bc.method == "PATCH"
                            ? c->Patch(bc.path.c_str(), Bearer(f.keys[bc.role]), bc.body, "application/json")
                            : c->Post(bc.path.c_str(), Bearer(f.keys[bc.role]), bc.body, "application/json");
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(Json(r)["error"]["code"] == "invalid_argument");
    CHECK(Json(r)["error"]["message"].get<std::string>().find(bc.named) != std::string::npos);
  }
  json list = Json(c->Get(("/v1/lists/" + id).c_str(), Bearer(f.keys["partner"])));
  CHECK(list["last_seq"] == before_seq);
  CHECK(list["enabled"] == true);
  CHECK(list["owner"] == "acme");
  CHECK(Json(c->Get("/v1/keys", Bearer(f.keys["admin"])))["keys"].size() == before_keys);
  CHECK(Json(c->Get("/v1/audit?verdict=review", Bearer(f.keys["reviewer"])))["entries"].empty());
  // The same objects without the duplicate are accepted.
  CHECK(c->Post("/v1/keys", Bearer(f.keys["admin"]), R"({"role":"ingest"})", "application/json")->status == 201);
  CHECK(c->Patch(("/v1/lists/" + id).c_str(), Bearer(f.keys["partner"]), R"({"enabled":true})", "application/json")->status ==
        200);
}
