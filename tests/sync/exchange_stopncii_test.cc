// The stopncii kind against a fixture speaking StopNCII's FetchHashes as
// python-threatexchange's client and HMA read it (cpp-httplib in the test):
// the two key headers, startTimestamp (inclusive) with pageSize and
// nextPageToken while hasMoreRecords, nextSetTimestamp as the checkpoint,
// hashStatus Withdrawn/Deleted and all-cases-withdrawn removing, other
// signal types skipped, a corrupt page (alert, retried with backoff, never
// stepped over), an expired page token, a 429 with Retry-After, a hanging
// server, and a checkpoint gone stale across a SIGKILL (everything fetched
// again, what vanished withdrawn): nothing lost or doubled.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "base/hex.h"
#include "sync/exchange/stopncii_client.h"
#include "tests/sync/exchange_server.h"

namespace {

using namespace testing_support;
using nlohmann::json;

struct Rec {
  std::string hash, status = "Active", type = "ImagePDQ";
  int64_t last_mod = 0;
  json cases = json::object();
};

struct StopNciiFixture : LoopbackHttp {
  std::mutex mu;
  std::map<std::string, Rec> records;  // hash -> latest snapshot
  std::string corrupt_hash;            // a page holding it is cut JSON
  bool expire_token = false;           // the next request with a token gets 400
  bool throttle = false;               // the next request gets 429, Retry-After: 2
  std::atomic<bool> hang{false}, quit{false};
  std::vector<std::string> queries;
  std::atomic<int> requests{0};

  StopNciiFixture() {
    http.Get("/v1/FetchHashes", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      while (hang && !quit) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      std::lock_guard l(mu);
      queries.push_back(req.target);
      if (req.get_header_value("x-functions-key") != "fetch-key" ||
          req.get_header_value("Ocp-Apim-Subscription-Key") != "sub-key") {
        res.status = 401;
        return;
      }
      if (throttle) {
        throttle = false;
        res.status = 429;
        res.set_header("Retry-After", "2");
        return;
      }
      if (req.has_param("nextPageToken") && expire_token) {
        expire_token = false;
        res.status = 400;
        res.set_content(R"({"error":"continuation token expired"})", "application/json");
        return;
      }
      const int64_t start = std::stoll(req.get_param_value("startTimestamp"));
      const size_t size = std::stoul(req.get_param_value("pageSize"));
      const size_t offset = req.has_param("nextPageToken") ? std::stoul(req.get_param_value("nextPageToken").substr(4)) : 0;
      std::vector<const Rec*> visible;
      int64_t max_mod = start;
      for (const auto& [h, r] : records) {
        if (r.last_mod >= start) visible.push_back(&r), max_mod = std::max(max_mod, r.last_mod);
      }
      std::stable_sort(visible.begin(), visible.end(), [](const Rec* a, const Rec* b) { return a->last_mod < b->last_mod; });
      json out = json::array();
      for (size_t i = offset; i < visible.size() && i < offset + size; ++i) {
        const Rec& r = *visible[i];
        if (r.hash == corrupt_hash) {
          res.set_content(R"({"count": 2, "hashRecords": [{"hashValue": ")", "application/json");
          return;
        }
        out.push_back({{"lastModtimestamp", r.last_mod}, {"hashValue", r.hash}, {"hashStatus", r.status},
                       {"signalType", r.type}, {"caseNumbers", r.cases},
                       {"CSPFeedbacks", json::array({json{{"source", "Other"}, {"feedbackValue", "Blocked"}, {"tags", {"Nude"}}}})}});
      }
      const bool more = offset + size < visible.size();
      json body{{"count", out.size()}, {"nextSetTimestamp", max_mod}, {"hasMoreRecords", more}, {"hashRecords", out}};
      body["nextPageToken"] = more ? json("off:" + std::to_string(offset + size)) : json(nullptr);
      res.set_content(body.dump(), "application/json");
    });
    Listen();
  }
  ~StopNciiFixture() {
    quit = true;
    Stop();
  }
  void Set(Rec r) {
    std::lock_guard l(mu);
    if (r.cases.empty()) r.cases = {{"case-" + r.hash.substr(0, 8), r.status}};
    records[r.hash] = std::move(r);
  }
  void Vanish(const std::string& hash) {
    std::lock_guard l(mu);
    records.erase(hash);
  }
};

}  // namespace

TEST_CASE("exchange stopncii: pages parse, hostile pages are refused whole") {
  hsync::StopNciiPage page;
  const std::string pdq(64, 'A');
  REQUIRE(hsync::ParseStopNciiPage(
              R"({"count":3,"nextSetTimestamp":1625167824,"nextPageToken":"W3si","hasMoreRecords":true,"hashRecords":[
                {"lastModtimestamp":1625175071,"hashValue":")" + pdq + R"(","hashStatus":"Active",
                 "caseNumbers":{"cc59":"Active","aa01":"Active"},"signalType":"ImagePDQ",
                 "CSPFeedbacks":[{"source":"Facebook","feedbackValue":"Blocked","tags":["Nude","Objectionable"]}]},
                {"lastModtimestamp":1,"hashValue":")" + std::string(64, 'b') + R"(","hashStatus":"Active",
                 "caseNumbers":{"x":"Withdrawn","y":"Deleted"},"signalType":"ImagePDQ"},
                {"lastModtimestamp":1,"hashValue":"abc","hashStatus":"Active","signalType":"VideoMD5"}]})",
              &page)
              .ok());
  REQUIRE(page.records.size() == 2);
  CHECK(page.skipped == 1);
  CHECK(page.has_more);
  CHECK(page.next_page_token == "W3si");
  CHECK(page.next_set_timestamp == 1625167824);
  CHECK_FALSE(page.records[0].remove);
  CHECK(page.records[0].entry.ref == "aa01");
  CHECK(page.records[0].meta.tags == std::vector<std::string>{"Nude", "Objectionable"});
  CHECK(page.records[0].meta.first_seen_ms == 1625175071000);
  CHECK(page.records[1].remove);  // every case withdrawn or deleted
  for (const char* bad : {"", "{", "[]", R"({"hashRecords":{}})", R"({"hashRecords":[1]})",
                          R"({"hashRecords":[{"hashValue":"00","hashStatus":"Active","signalType":"ImagePDQ"}]})",
                          R"({"hashRecords":[{"hashValue":"00","signalType":"ImagePDQ"}]})",
                          R"({"hashRecords":[],"hasMoreRecords":true})",
                          R"({"hashRecords":[],"nextSetTimestamp":"soon"})"}) {
    CAPTURE(bad);
    CHECK(hsync::ParseStopNciiPage(bad, &page).code() == base::Status::Code::kInvalidArgument);
  }
}

TEST_CASE("exchange stopncii: follows FetchHashes (paging, withdrawals, corrupt page, expired token, 429, hang, stale checkpoint, SIGKILL)") {
  std::mt19937_64 rng(13);
  StopNciiFixture sn;
  std::vector<std::string> pdq;
  for (int i = 0; i < 16; ++i) pdq.push_back(RandomHex(rng, 32));
  for (int i = 0; i < 5; ++i) sn.Set({pdq[i], "Active", "ImagePDQ", 1000 + i});
  sn.Set({pdq[5], "Withdrawn", "ImagePDQ", 1005});
  sn.Set({RandomHex(rng, 16), "Active", "VideoMD5", 1006});

  ExchangeServer hs;
  const std::string fetch_key = hs.File("fetch.key", "fetch-key\n"), sub_key = hs.File("sub.key", "sub-key\n");
  hs.Configure("[[exchange]]\nname = \"sn\"\nkind = \"stopncii\"\nlist = \"stopncii\"\ninterval_s = 1\n"
               "base_url = \"http://127.0.0.1:" + std::to_string(sn.port) + "/v1\"\nfetch_key_file = \"" + fetch_key +
               "\"\nsubscription_key_file = \"" + sub_key + "\"\npage_limit = 2\nstale_after_s = 3\ntimeout_s = 2\n");
  auto since = [](int64_t t) {
    return [t](const json& e) { return e["checkpoint"].get<std::string>().find("since " + std::to_string(t)) != std::string::npos; };
  };
  hs.Start();

  // Everything (startTimestamp=10), four pages of two; the video skipped, the withdrawn never added.
  json x = hs.WaitFor([](const json& e) { return e["entries"] == 5 && e["last_error"].is_null(); }, "the first sync");
  CHECK(x["kind"] == "stopncii");
  CHECK(since(1006)(x));
  for (int i = 0; i < 5; ++i) CHECK(hs.Matches(pdq[i]));
  CHECK_FALSE(hs.Matches(pdq[5]));
  const uint64_t list_id = x["list_id"].get<uint64_t>();
  {
    std::lock_guard l(sn.mu);
    CHECK(sn.queries.at(0).find("startTimestamp=10&pageSize=2") != std::string::npos);
  }

  // Increments: a new hash, a withdrawal, a hash all of whose cases were withdrawn.
  sn.Set({pdq[6], "Active", "ImagePDQ", 2000});
  sn.Set({pdq[0], "Withdrawn", "ImagePDQ", 2001});
  sn.Set({pdq[1], "Active", "ImagePDQ", 2002, {{"c1", "Deleted"}, {"c2", "Withdrawn"}}});
  x = hs.WaitFor(since(2002), "the increment");
  CHECK(x["entries"] == 4);
  CHECK(hs.Matches(pdq[6]));
  CHECK_FALSE(hs.Matches(pdq[0]));
  CHECK_FALSE(hs.Matches(pdq[1]));

  // A corrupt page (HMA's wedge): the checkpoint stays before it, the alert
  // shows, the page is asked again with backoff, and it applies once healed.
  sn.Set({pdq[7], "Active", "ImagePDQ", 3000});
  sn.Set({pdq[8], "Active", "ImagePDQ", 3001});
  sn.Set({pdq[9], "Active", "ImagePDQ", 3002});
  {
    std::lock_guard l(sn.mu);
    sn.corrupt_hash = pdq[9];
  }
  x = hs.WaitFor([](const json& e) { return !e["last_error"].is_null(); }, "the corrupt page's error");
  CHECK(x["last_error"].get<std::string>().find("StopNCII page: not JSON") != std::string::npos);
  const int asked = sn.requests;
  std::this_thread::sleep_for(std::chrono::seconds(2));
  x = hs.Status();
  CHECK(since(2002)(x));
  CHECK_FALSE(x["last_error"].is_null());
  CHECK(sn.requests > asked);  // retried, not wedged silently
  CHECK_FALSE(hs.Matches(pdq[9]));
  {
    std::lock_guard l(sn.mu);
    sn.corrupt_hash.clear();
  }
  x = hs.WaitFor([&](const json& e) { return e["last_error"].is_null() && since(3002)(e); }, "the healed page");
  CHECK(x["entries"] == 7);
  CHECK(hs.Matches(pdq[9]));
  CheckQuietPollsWriteNothing(hs, list_id);

  // An expired page token: the fetch fails and restarts from the checkpoint.
  sn.Set({pdq[10], "Active", "ImagePDQ", 4000});
  sn.Set({pdq[11], "Active", "ImagePDQ", 4001});
  {
    std::lock_guard l(sn.mu);
    sn.expire_token = true;
  }
  x = hs.WaitFor([&](const json& e) { return e["entries"] == 9 && e["last_error"].is_null() && since(4001)(e); }, "the restart");

  CheckThrottleHonoured(hs, sn);
  CheckHangCutOff(hs, sn);

  // Killed, and away longer than stale_after_s while a hash vanished with no
  // tombstone: everything is fetched again and the vanished hash withdrawn.
  hs.server.Stop(SIGKILL);
  sn.Vanish(pdq[2]);
  std::this_thread::sleep_for(std::chrono::seconds(4));
  hs.Start();
  x = hs.WaitFor([](const json& e) { return e["entries"] == 8; }, "the stale refetch");
  CHECK_FALSE(hs.Matches(pdq[2]));
  CHECK(hs.Matches(pdq[3]));
  {
    std::lock_guard l(sn.mu);
    CHECK(sn.queries.back().find("startTimestamp=") != std::string::npos);
    bool everything = false;
    for (const auto& q : sn.queries) everything |= q.find("startTimestamp=10&") != std::string::npos;
    CHECK(everything);
  }
  // Each change once: 5 adds, +1 -2, +3, +2, -1.
  CHECK(hs.List(list_id)["last_seq"] == 14);
}
