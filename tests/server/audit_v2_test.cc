// Audit v2 over HTTP against a real hashscreend: dispositions (reported with
// a report id, the note rule), the current disposition on every entry, the
// review queue and every filter from the index, strict parameters and
// cursors, admin keys on the reviewer routes, and the export (CSV escaping
// and the formula-injection guard, JSON with the review history, paging).
#include <set>

#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;

namespace {

std::string Screen(ServerFixture& f, const std::string& ref) {
  auto r = f.Screen(FileBytes(BridgeImage()), "ingest", "image/jpeg", "?ref=" + ref);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  return Json(r)["audit_id"].get<std::string>();
}

httplib::Result Review(ServerFixture& f, const std::string& id, const json& body, const std::string& role = "reviewer") {
  return f.server.Client()->Post(("/v1/audit/" + id + "/review").c_str(), Bearer(f.keys[role]), body.dump(), "application/json");
}

json Get(ServerFixture& f, const std::string& path, int expect = 200, const std::string& role = "reviewer") {
  auto r = f.server.Client()->Get(path.c_str(), Bearer(f.keys[role]));
  REQUIRE(r);
  CHECK_MESSAGE(r->status == expect, r->body);
  return Json(r);
}

}  // namespace

TEST_CASE("audit v2 API: dispositions, the queue, every filter, strict parameters, admin access") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  const std::string a = Screen(f, "first"), b = Screen(f, "second");
  auto none = f.server.Client()->Post("/v1/screen/hashes", Bearer(f.keys["ingest"]), R"({"md5":"00000000000000000000000000000000"})",
                                      "application/json");
  REQUIRE(none->status == 200);

  json entry = Get(f, "/v1/audit/" + a);
  CHECK(entry["disposition"].is_null());
  CHECK(entry["review"].is_null());
  CHECK(entry["reviews"].empty());
  REQUIRE(entry["hits"].size() == 1);
  CHECK(entry["hits"][0]["tags"] == json::array());
  CHECK(entry["hits"][0]["first_seen_ms"].get<int64_t>() > 0);  // the list entry's added time

  // The queue: matches without a review, oldest first; newest first too.
  json queue = Get(f, "/v1/audit?verdict=match&disposition=unreviewed");
  REQUIRE(queue["entries"].size() == 2);
  CHECK(queue["entries"][0]["id"] == a);
  CHECK(queue["next"].is_null());
  json newest = Get(f, "/v1/audit?disposition=unreviewed&order=newest&limit=1");
  REQUIRE(newest["entries"].size() == 1);
  CHECK(newest["entries"][0]["id"] == b);
  REQUIRE(newest["next"].is_string());
  json rest = Get(f, "/v1/audit?disposition=unreviewed&order=newest&limit=1&cursor=" + newest["next"].get<std::string>());
  REQUIRE(rest["entries"].size() == 1);
  CHECK(rest["entries"][0]["id"] == a);
  CHECK(Get(f, "/v1/audit?partner=acme")["entries"].size() == 2);
  CHECK(Get(f, "/v1/audit?partner=globex")["entries"].empty());
  CHECK(Get(f, "/v1/audit?list=" + std::to_string(f.list_id) + "&verdict=match")["entries"].size() == 2);
  CHECK(Get(f, "/v1/audit?verdict=no_match")["entries"].size() == 1);
  const std::string own = entry["instance"];
  CHECK(Get(f, "/v1/audit?instance=" + own)["entries"].size() == 3);
  CHECK(Get(f, "/v1/audit?instance=" + own.substr(0, 8) + "&verdict=match")["entries"].size() == 2);
  CHECK(Get(f, "/v1/audit?instance=0123456789abcdef0123456789abcdef")["entries"].empty());
  const int64_t t = entry["time_ms"];
  CHECK(Get(f, "/v1/audit?since=" + std::to_string(t) + "&until=" + std::to_string(t))["entries"].size() >= 1);
  CHECK(Get(f, "/v1/audit?until=" + std::to_string(t - 1))["entries"].empty());

  // Strict parameters: unknown ones named, bad values and cursors refused.
  json unknown = Get(f, "/v1/audit?verdict=match&dispositon=unreviewed", 400);
  CHECK(unknown["error"]["message"].get<std::string>().find("dispositon") != std::string::npos);
  for (const char* bad : {"disposition=maybe", "order=sideways", "cursor=abc", "cursor=0", "cursor=999999", "limit=0",
                          "after=1&cursor=1", "order=newest&after=1", "partner=", "verdict=matches"}) {
    CAPTURE(bad);
    Get(f, std::string("/v1/audit?") + bad, 400);
  }
  // Admin keys may use the reviewer's routes; other roles may not.
  CHECK(Get(f, "/v1/audit?limit=1", 200, "admin")["entries"].size() == 1);
  Get(f, "/v1/audit?limit=1", 403, "ingest");

  // Reviews: reported needs a report id; once reviewed, a new review needs a note.
  auto r = Review(f, a, {{"disposition", "reported"}});
  CHECK(r->status == 400);
  r = Review(f, a, {{"disposition", "confirmed"}, {"report_id", "CT-1"}});
  CHECK(r->status == 400);
  r = Review(f, a, {{"disposition", "reported"}, {"report_id", ""}});
  CHECK(r->status == 400);
  r = Review(f, a, {{"disposition", "confirmed"}});
  REQUIRE(r->status == 201);
  CHECK(Json(r)["target_id"] == a);
  CHECK(Json(r)["disposition"] == "confirmed");
  r = Review(f, a, {{"disposition", "confirmed"}});
  CHECK(r->status == 400);
  CHECK(Json(r)["error"]["code"] == "note_required");
  r = Review(f, a, {{"disposition", "reported"}, {"note", "sent to NCMEC"}, {"report_id", "CT-123456"}}, "admin");
  REQUIRE(r->status == 201);
  CHECK(Json(r)["report_id"] == "CT-123456");
  entry = Get(f, "/v1/audit/" + a);
  CHECK(entry["disposition"] == "reported");
  CHECK(entry["review"]["report_id"] == "CT-123456");
  REQUIRE(entry["reviews"].size() == 2);
  CHECK(entry["reviews"][0]["disposition"] == "confirmed");
  CHECK(entry["reviews"][0]["report_id"].is_null());
  CHECK(entry["reviews"][1]["note"] == "sent to NCMEC");

  queue = Get(f, "/v1/audit?verdict=match&disposition=unreviewed");
  REQUIRE(queue["entries"].size() == 1);
  CHECK(queue["entries"][0]["id"] == b);
  CHECK(Get(f, "/v1/audit?disposition=reported&partner=acme")["entries"].size() == 1);
  CHECK(Get(f, "/v1/audit?disposition=confirmed")["entries"].empty());
  CHECK(Get(f, "/v1/audit?verdict=review")["entries"].size() == 2);
  CHECK(Get(f, "/v1/audit/verify", 200, "admin")["ok"] == true);
}

TEST_CASE("audit v2 export: CSV header, escaping and formula guard, JSON with history, paging") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  const std::string a = Screen(f, "%3Dcmd%7C'%2FC%20calc'!A0");  // =cmd|'/C calc'!A0
  const std::string b = Screen(f, "quote%22and%2Ccomma");        // quote"and,comma
  REQUIRE(Review(f, b, {{"disposition", "escalated"}, {"note", "-1 line\nnext"}})->status == 201);

  auto c = f.server.Client();
  auto csv = c->Get("/v1/audit/export?format=csv", Bearer(f.keys["reviewer"]));
  REQUIRE(csv->status == 200);
  CHECK(csv->get_header_value("Content-Type").find("text/csv") == 0);
  CHECK(csv->get_header_value("Content-Disposition").find("attachment; filename=") == 0);
  const std::string& body = csv->body;
  const std::string header =
      "audit_id,time_utc,time_ms,instance,caller_ref,source,pdq,quality,md5,sha256,image_format,width,height,bytes,"
      "list,partner,partner_ref,tags,signal,list_hash,distance,variant,disposition,report_id,reviewed_by,reviewed_utc,"
      "note\r\n";
  REQUIRE(body.rfind(header, 0) == 0);
  CHECK(body.find(a + ",") != std::string::npos);
  CHECK(body.find(",'=cmd|'/C calc'!A0,") != std::string::npos);  // never a bare leading '='
  CHECK(body.find(",=cmd") == std::string::npos);
  CHECK(body.find(",\"quote\"\"and,comma\",") != std::string::npos);
  CHECK(body.find(",\"'-1 line\nnext\"\r\n") != std::string::npos);
  CHECK(body.find(",unreviewed,") != std::string::npos);
  CHECK(body.find(",escalated,") != std::string::npos);

  json j = Json(c->Get("/v1/audit/export?format=json&disposition=escalated", Bearer(f.keys["admin"])));
  REQUIRE(j["matches"].size() == 1);
  CHECK(j["matches"][0]["audit_id"] == b);
  CHECK(j["matches"][0]["caller_ref"] == "quote\"and,comma");
  CHECK(j["matches"][0]["tags"] == json::array());
  REQUIRE(j["matches"][0]["reviews"].size() == 1);
  CHECK(j["matches"][0]["reviews"][0]["note"] == "-1 line\nnext");
  CHECK(j["next"].is_null());

  // Time window, and errors.
  const int64_t t = Json(c->Get(("/v1/audit/" + a).c_str(), Bearer(f.keys["reviewer"])))["time_ms"];
  j = Json(c->Get(("/v1/audit/export?format=json&until=" + std::to_string(t - 1)).c_str(), Bearer(f.keys["reviewer"])));
  CHECK(j["matches"].empty());
  for (const char* bad : {"format=xml", "since=x", "disposition=maybe", "verdict=match", "cursor=0"}) {
    CAPTURE(bad);
    CHECK(c->Get((std::string("/v1/audit/export?") + bad).c_str(), Bearer(f.keys["reviewer"]))->status == 400);
  }
  CHECK(c->Get("/v1/audit/export", Bearer(f.keys["ingest"]))->status == 403);
}

TEST_CASE("audit v2 export: more than one answer's worth pages by X-Audit-Next, every match once, the CSV header once") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f({"--rate-per-key", "0", "--quarantine-enabled=false"});  // 2005 matches of one signal: a flood
  auto c = f.server.Client();
  const std::string pdq = PdqHexOf(BridgeImage());
  const int kMatches = 2005;  // the export answers at most 2000 entries at once
  for (int done = 0; done < kMatches;) {
    json items = json::array();
    for (int i = 0; i < 500 && done < kMatches; ++i, ++done) {
      items.push_back({{"ref", "m-" + std::to_string(done)}, {"pdq", {pdq}}, {"quality", 90}});
    }
    auto r = c->Post("/v1/screen/hashes/batch", Bearer(f.keys["ingest"]), json{{"items", items}}.dump(), "application/json");
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 200, r->body);
  }
  for (const char* format : {"csv", "json"}) {
    CAPTURE(format);
    std::set<std::string> refs;
    size_t answers = 0, headers = 0;
    std::string cursor;
    for (; answers < 10; ++answers) {
      std::string path = std::string("/v1/audit/export?format=") + format + (cursor.empty() ? "" : "&cursor=" + cursor);
      auto r = c->Get(path.c_str(), Bearer(f.keys["reviewer"]));
      REQUIRE(r);
      REQUIRE(r->status == 200);
      if (std::string(format) == "csv") {
        std::string body = r->body;
        for (size_t at = 0; at < body.size();) {
          const size_t end = body.find("\r\n", at);
          const std::string line = body.substr(at, end - at);
          at = end + 2;
          if (line.rfind("audit_id,", 0) == 0) {
            ++headers;
            continue;
          }
          const size_t ref_at = line.find(",m-");
          REQUIRE(ref_at != std::string::npos);
          refs.insert(line.substr(ref_at + 1, line.find(',', ref_at + 1) - ref_at - 1));
        }
      } else {
        json j = Json(r);
        for (const auto& m : j["matches"]) refs.insert(m["caller_ref"].get<std::string>());
        CHECK(j["next"].is_string() == r->has_header("X-Audit-Next"));
      }
      cursor = r->get_header_value("X-Audit-Next");
      if (cursor.empty()) break;
    }
    CHECK(answers == 1);  // two answers: the second ends it
    CHECK(refs.size() == static_cast<size_t>(kMatches));
    if (std::string(format) == "csv") CHECK(headers == 1);
  }
}
