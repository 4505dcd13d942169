// The threatexchange kind against a fixture speaking Graph's threat_updates
// as Meta documents it and python-threatexchange reads it (cpp-httplib in
// the test): paging by paging.next, should_delete and descriptor-less
// updates withdrawing, tags kept as entry metadata, start_time resumes, a
// corrupt page (nothing of it applied, never stepped over, retried), an
// expired paging cursor, a 429 with Retry-After, and a checkpoint gone stale
// (a whole refetch that withdraws what vanished without a tombstone).
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "base/hex.h"
#include "store/database.h"
#include "store/hash_lists.h"
#include "sync/exchange/threat_exchange.h"
#include "tests/sync/exchange_server.h"

namespace {

using namespace testing_support;
using nlohmann::json;

constexpr const char* kToken = "1234567890|abcdefghijklmnopqrstuvwxyz";


// The fixture's descriptor id for an indicator id: digits, as Graph ids are
// (the exchange leaves out any other id).
std::string DescriptorId(const std::string& indicator_id) {
  std::string out = "4015";
  for (unsigned char c : indicator_id) out += std::to_string(c);
  return out;
}

struct Update {
  std::string id, indicator, type;
  int64_t last_updated = 0;
  bool should_delete = false;
  json tags = json::array();
};

struct TeFixture : LoopbackHttp {
  std::mutex mu;
  std::vector<Update> updates;  // kept ordered by last_updated
  std::string corrupt_id;       // a page holding this update is broken JSON
  bool expire_cursor = false;   // the next request with a cursor gets Graph's 400
  bool throttle = false;        // the next request gets 429, Retry-After: 2
  std::vector<std::string> queries;
  std::atomic<int> requests{0};

  TeFixture() {
    http.Get("/v9.0/777/threat_updates/", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      std::lock_guard l(mu);
      std::string q;
      for (const auto& [k, v] : req.params) q += k + "=" + v + "&";
      queries.push_back(q);
      if (req.get_param_value("access_token") != kToken) {
        res.status = 400;
        res.set_content(R"({"error":{"message":"Invalid OAuth access token","code":190}})", "application/json");
        return;
      }
      if (throttle) {
        throttle = false;
        res.status = 429;
        res.set_header("Retry-After", "2");
        res.set_content(R"({"error":{"message":"rate limited","code":4}})", "application/json");
        return;
      }
      const bool paged = req.has_param("after");
      if (paged && expire_cursor) {
        expire_cursor = false;
        res.status = 400;
        res.set_content(R"({"error":{"message":"The cursor has expired","code":100}})", "application/json");
        return;
      }
      const size_t limit = std::stoul(req.get_param_value("limit"));
      const int64_t start = req.has_param("start_time") ? std::stoll(req.get_param_value("start_time")) : 0;
      const size_t offset = paged ? std::stoul(req.get_param_value("after")) : 0;
      std::vector<const Update*> visible;
      for (const auto& u : updates) {
        if (u.last_updated >= start) visible.push_back(&u);
      }
      json data = json::array();
      for (size_t i = offset; i < visible.size() && i < offset + limit; ++i) {
        const Update& u = *visible[i];
        json item{{"id", u.id}, {"indicator", u.indicator}, {"type", u.type},
                  {"last_updated", std::to_string(u.last_updated)}, {"should_delete", u.should_delete}};
        if (!u.should_delete) {
          item["descriptors"] = {{"data", json::array({json{{"id", DescriptorId(u.id)}, {"tags", u.tags}, {"status", "MALICIOUS"}}})}};
        }
        data.push_back(item);
      }
      for (const auto& item : data) {
        if (!corrupt_id.empty() && item["id"] == corrupt_id) {
          res.set_content(R"({"data": [{"id": "9", "indicator": )", "application/json");
          return;
        }
      }
      json body{{"data", data}};
      if (offset + limit < visible.size()) {
        std::string next = "http://127.0.0.1:" + std::to_string(port) + "/v9.0/777/threat_updates/?access_token=" +
                           httplib::detail::encode_query_param(kToken) + "&limit=" + std::to_string(limit) +
                           "&after=" + std::to_string(offset + limit);
        if (req.has_param("start_time")) next += "&start_time=" + std::to_string(start);
        body["paging"] = {{"next", next}};
      }
      res.set_content(body.dump(), "application/json");
    });
    Listen();
  }
  ~TeFixture() {
    Stop();
  }
  void Add(Update u) {
    std::lock_guard l(mu);
    // A newer update of the same indicator replaces the older (Graph keeps one per indicator).
    std::erase_if(updates, [&](const Update& x) { return x.indicator == u.indicator && x.type == u.type; });
    updates.push_back(std::move(u));
    std::stable_sort(updates.begin(), updates.end(), [](const Update& a, const Update& b) { return a.last_updated < b.last_updated; });
  }
  void Vanish(const std::string& indicator) {
    std::lock_guard l(mu);
    std::erase_if(updates, [&](const Update& x) { return x.indicator == indicator; });
  }
};

}  // namespace

TEST_CASE("exchange threatexchange: pages parse, hostile pages are refused whole") {
  hsync::ThreatUpdatePage page;
  REQUIRE(hsync::ParseThreatUpdates(
              R"({"data":[{"id":"1","indicator":"AB)" + std::string(62, '0') +
                  R"(","type":"HASH_PDQ","last_updated":5,"descriptors":{"data":[{"tags":{"data":[{"text":"csam"}]}}]}},
                 {"id":"2","indicator":"x","type":"URI","last_updated":6},
                 {"id":"3","indicator":")" + std::string(32, 'f') + R"(","type":"HASH_MD5","last_updated":"7","should_delete":true}],
                 "paging":{"next":"http://h/n"}})",
              &page)
              .ok());
  REQUIRE(page.updates.size() == 2);
  CHECK(page.skipped_types == 1);
  CHECK_FALSE(page.updates[0].remove);
  CHECK(page.updates[0].meta.tags == std::vector<std::string>{"csam"});
  CHECK(page.updates[0].entry.ref == "1");
  CHECK(page.updates[1].remove);
  CHECK(page.updates[1].last_updated == 7);
  CHECK(page.next == "http://h/n");
  for (const char* bad : {"", "{", "[]", R"({"data":{}})", R"({"data":[1]})",
                          R"({"data":[{"indicator":"00","type":"HASH_PDQ","last_updated":1}]})",
                          R"({"data":[{"indicator":")" "0000000000000000000000000000000000000000000000000000000000000000" R"(","type":"HASH_PDQ"}]})",
                          R"({"data":[],"paging":{"next":5}})"}) {
    CAPTURE(bad);
    CHECK(hsync::ParseThreatUpdates(bad, &page).code() == base::Status::Code::kInvalidArgument);
  }
}

TEST_CASE("exchange threatexchange: descriptor ids are kept for feedback, ahead of tags, and cannot be forged by a tag") {
  hsync::ThreatUpdatePage page;
  json descriptors = json::array();
  descriptors.push_back({{"id", "4015678905432101"}, {"tags", {"csam", "descriptor:666"}}});
  descriptors.push_back({{"id", 4015678905432102ull}, {"tags", {{"data", {{{"text", "media_type_photo"}}}}}}});
  descriptors.push_back({{"id", "../me"}, {"tags", {"odd"}}});           // not a Graph id: left out
  descriptors.push_back({{"id", "4015678905432101"}});                   // the same twice: once
  descriptors.push_back({{"id", std::string(33, '7')}});                 // too long
  for (int i = 0; i < 20; ++i) descriptors.push_back({{"id", std::to_string(900 + i)}});
  json u{{"id", "3503024693117734"}, {"indicator", std::string(64, 'a')}, {"type", "HASH_PDQ"},
         {"last_updated", 1690003600}, {"descriptors", {{"data", descriptors}}}};
  REQUIRE(hsync::ParseThreatUpdates(json{{"data", {u}}}.dump(), &page).ok());
  REQUIRE(page.updates.size() == 1);
  const std::vector<std::string>& tags = page.updates[0].meta.tags;
  const std::vector<std::string> ids = hsync::ThreatDescriptorIds(tags);
  REQUIRE(ids.size() == hsync::kMaxThreatDescriptors);
  CHECK(ids[0] == "4015678905432101");
  CHECK(ids[1] == "4015678905432102");
  CHECK(ids[2] == "900");
  // The partner's tags follow; its "descriptor:666" is not taken for an id.
  CHECK(std::find(tags.begin(), tags.end(), "csam") != tags.end());
  CHECK(std::find(tags.begin(), tags.end(), "media_type_photo") != tags.end());
  CHECK(std::find(tags.begin(), tags.end(), "odd") != tags.end());
  CHECK(std::find(tags.begin(), tags.end(), "descriptor:666") == tags.end());
  CHECK(page.updates[0].entry.ref == "3503024693117734");
  CHECK(hsync::IsThreatDescriptorId("1"));
  CHECK_FALSE(hsync::IsThreatDescriptorId(""));
  CHECK_FALSE(hsync::IsThreatDescriptorId("12a"));
  CHECK_FALSE(hsync::IsThreatDescriptorId(std::string(33, '1')));
}

TEST_CASE("exchange threatexchange: follows threat_updates (paging, deletes, tags, corrupt page, expired cursor, 429, stale checkpoint)") {
  std::mt19937_64 rng(7);
  TeFixture te;
  std::vector<std::string> pdq;
  for (int i = 0; i < 8; ++i) pdq.push_back(RandomHex(rng, 32));
  for (int i = 0; i < 5; ++i) {
    te.Add({"u" + std::to_string(i), pdq[i], "HASH_PDQ", 1000 + i, false,
            i == 0 ? json::array({"csam", "media_type_photo"}) : json{{"data", json::array({json{{"text", "t" + std::to_string(i)}}})}}});
  }
  const std::string md5 = RandomHex(rng, 16);
  te.Add({"m1", md5, "HASH_MD5", 1005});
  te.Add({"x1", "https://example.org", "URI", 1006});

  ExchangeServer hs;
  const std::string token = hs.File("te.token", std::string(kToken) + "\n");
  hs.Configure("[[exchange]]\nname = \"te\"\nkind = \"threatexchange\"\nlist = \"te\"\ninterval_s = 1\n"
               "privacy_group = \"777\"\ntoken_file = \"" + token + "\"\nbase_url = \"http://127.0.0.1:" +
               std::to_string(te.port) + "/v9.0\"\npage_limit = 2\nstale_after_s = 3\n");
  hs.Start();

  // The whole group, four pages of two; the URI skipped.
  json x = hs.WaitFor([](const json& e) { return e["entries"] == 6; }, "the first sync");
  CHECK(x["kind"] == "threatexchange");
  CHECK(x["last_error"].is_null());
  CHECK(x["checkpoint"].get<std::string>().find("updates since 1006") != std::string::npos);
  for (int i = 0; i < 5; ++i) CHECK(hs.Matches("pdq", pdq[i]));
  CHECK(hs.Matches("md5", md5));
  const uint64_t list_id = x["list_id"].get<uint64_t>();
  {
    std::lock_guard l(te.mu);
    CHECK(te.queries.at(0).find("start_time") == std::string::npos);
  }

  // Increments from the checkpoint: a new hash, a deletion (should_delete).
  te.Add({"u5", pdq[5], "HASH_PDQ", 2000});
  te.Add({"u1", pdq[1], "HASH_PDQ", 2001, true});
  x = hs.WaitFor([](const json& e) { return e["checkpoint"].get<std::string>().find("since 2001") != std::string::npos; },
               "the increment");
  CHECK(x["entries"] == 6);
  CHECK(hs.Matches("pdq", pdq[5]));
  CHECK_FALSE(hs.Matches("pdq", pdq[1]));
  {
    std::lock_guard l(te.mu);
    bool resumed = false;
    for (const auto& q : te.queries) resumed |= q.find("start_time=1006") != std::string::npos;
    CHECK(resumed);
  }

  // A page holding u2's deletion is corrupt (whichever page it falls on):
  // everything before it is applied with its checkpoint, it is never
  // stepped over, the error shows, and it is retried until it heals.
  te.Add({"u6", pdq[6], "HASH_PDQ", 3000});
  te.Add({"u7", pdq[7], "HASH_PDQ", 3001});
  te.Add({"u2", pdq[2], "HASH_PDQ", 3002, true});
  {
    std::lock_guard l(te.mu);
    te.corrupt_id = "u2";
  }
  x = hs.WaitFor([](const json& e) { return !e["last_error"].is_null() &&
                                          e["checkpoint"].get<std::string>().find("since 3001") != std::string::npos; },
               "the corrupt page's error");
  CHECK(x["last_error"].get<std::string>().find("threat_updates page: not JSON") != std::string::npos);
  CHECK(hs.Matches("pdq", pdq[6]));
  CHECK(hs.Matches("pdq", pdq[7]));
  CHECK(hs.Matches("pdq", pdq[2]));  // its deletion is on the corrupt page
  std::this_thread::sleep_for(std::chrono::seconds(2));
  x = hs.Status();
  CHECK(x["checkpoint"].get<std::string>().find("since 3001") != std::string::npos);
  CHECK_FALSE(x["last_error"].is_null());
  CHECK(hs.Matches("pdq", pdq[2]));
  {
    std::lock_guard l(te.mu);
    te.corrupt_id.clear();
  }
  x = hs.WaitFor([](const json& e) { return e["last_error"].is_null() &&
                                          e["checkpoint"].get<std::string>().find("since 3002") != std::string::npos; },
               "the healed page");
  CHECK_FALSE(hs.Matches("pdq", pdq[2]));
  CHECK(x["entries"] == 7);
  CheckQuietPollsWriteNothing(hs, list_id);

  // An expired paging cursor: the fetch fails and restarts from the checkpoint.
  te.Add({"u8", RandomHex(rng, 32), "HASH_PDQ", 4000});
  te.Add({"u9", RandomHex(rng, 32), "HASH_PDQ", 4001});
  te.Add({"u10", RandomHex(rng, 32), "HASH_PDQ", 4002});
  {
    std::lock_guard l(te.mu);
    te.expire_cursor = true;
  }
  x = hs.WaitFor([](const json& e) { return !e["last_error"].is_null(); }, "the expired cursor's error");
  CHECK(x["last_error"].get<std::string>().find("The cursor has expired") != std::string::npos);
  x = hs.WaitFor([](const json& e) { return e["entries"] == 10 && e["last_error"].is_null(); }, "the restart after it");

  x = CheckThrottleHonoured(hs, te);
  CHECK(x["last_error"].get<std::string>().find("HTTP 429: rate limited") != std::string::npos);
  CHECK(x["last_error"].get<std::string>().find("abcdefghij") == std::string::npos);  // never the token

  // Down longer than stale_after_s, during which a hash vanished with no
  // tombstone (Graph keeps deletions ~90 days): the whole group is fetched
  // again and the vanished hash withdrawn.
  REQUIRE(hs.server.Stop(SIGTERM) == 0);
  te.Vanish(pdq[0]);
  std::this_thread::sleep_for(std::chrono::seconds(4));
  hs.Start();
  x = hs.WaitFor([](const json& e) { return e["entries"] == 9; }, "the stale refetch");
  CHECK_FALSE(hs.Matches("pdq", pdq[0]));
  CHECK(hs.Matches("pdq", pdq[3]));
  {
    std::lock_guard l(te.mu);
    bool whole = false;
    for (size_t i = te.queries.size(); i-- > 0;) whole |= te.queries[i].find("start_time") == std::string::npos;
    CHECK(whole);
  }
  {
    // A reviewer sees the partner's tags and first-seen time on the hit;
    // the ingest answer is only match and its audit id.
    auto r = hs.server.Client()->Post("/v1/screen/hashes", Bearer(hs.ingest), json{{"pdq", pdq[3]}}.dump(), "application/json");
    REQUIRE(HttpStatus(r) == 200);
    const json answer = Json(r);
    CHECK(answer.size() == 2);
    REQUIRE(answer["match"] == true);
    auto shown = hs.server.Client()->Get("/v1/audit/" + answer["audit_id"].get<std::string>(), Bearer(hs.admin));
    REQUIRE(HttpStatus(shown) == 200);
    const json hit = Json(shown)["hits"].at(0);
    CHECK(hit["partner_ref"] == "u3");
    CHECK(hit["tags"] == json::array({"descriptor:" + DescriptorId("u3"), "t3"}));
    CHECK(hit["first_seen_ms"].get<int64_t>() > 0);
  }
  REQUIRE(hs.server.Stop(SIGTERM) == 0);

  // The tags reached the entries' metadata (what a reviewer's view reads).
  std::unique_ptr<store::Database> db;
  REQUIRE(store::Database::Open(hs.server.data_dir().string(), {}, &db).ok());
  std::unique_ptr<store::HashLists> lists;
  REQUIRE(store::HashLists::Open(db.get(), &lists).ok());
  base::SignalEntry e;
  int64_t added = 0;
  store::SignalMeta meta;
  std::string raw(32, '\0');
  REQUIRE(base::HexDecode(pdq[3], std::span<uint8_t>(reinterpret_cast<uint8_t*>(raw.data()), raw.size())).ok());
  REQUIRE(lists->LookupSignal(list_id, base::SignalType::kPdq, raw, &e, &added, &meta).ok());
  CHECK(e.ref == "u3");
  CHECK(meta.tags == std::vector<std::string>{"descriptor:" + DescriptorId("u3"), "t3"});
}
