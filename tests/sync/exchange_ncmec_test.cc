// The ncmec kind against a fixture speaking NCMEC's hash sharing API v2 as
// its usage notes and python-threatexchange's client describe it (cpp-httplib
// in the test): Basic auth, windows (from exclusive, to inclusive), entries
// inside a window served NEWEST FIRST (no time order: a checkpoint taken from
// the entries seen would skip the older ones of a broken-off window),
// <paging><next> relative and XML-escaped, deletedImage tombstones naming
// only the entry, a hash two members share, a changed fingerprint, videos and
// sha1/pdna ignored, a corrupt page (never stepped over), an expired paging
// path, a 429 with Retry-After, a hanging server, a window split when too
// large, and SIGKILL mid-window: nothing lost or doubled.
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

#include "base/clock.h"
#include "base/hex.h"
#include "sync/exchange/ncmec_client.h"
#include "tests/sync/exchange_server.h"

namespace {

using namespace testing_support;
using nlohmann::json;

struct Entry {
  int member = 42;
  std::string id;
  int64_t ts_s = 0;
  std::string classification = "A1";
  std::string md5, pdq;  // hex; "" = none
  bool deleted = false;
  bool video = false;
};

int64_t NowS() { return base::NowMs() / 1000; }

struct NcmecFixture : LoopbackHttp {
  std::mutex mu;
  std::map<std::string, Entry> entries;  // "member-id" -> latest state
  size_t page_size = 3;
  std::string corrupt_id;        // a page holding this entry is broken XML
  bool expire_paging = false;    // the next paging request gets 410
  bool throttle = false;         // the next request gets 429, Retry-After: 2
  int64_t inflate_max = 0;       // added to next's max (a window "too large")
  std::atomic<bool> hang{false}, quit{false};
  std::vector<std::string> queries;
  std::atomic<int> requests{0};

  NcmecFixture() {
    http.Get("/v2/entries", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      while (hang && !quit) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      std::lock_guard l(mu);
      queries.push_back(req.target);
      if (req.get_header_value("Authorization") != httplib::make_basic_authentication_header("user", "s3cret").second) {
        res.status = 401;
        return;
      }
      if (throttle) {
        throttle = false;
        res.status = 429;
        res.set_header("Retry-After", "2");
        return;
      }
      const bool paging = req.has_param("start");
      if (paging && expire_paging) {
        expire_paging = false;
        res.status = 410;
        return;
      }
      int64_t from_ms = 0, to_ms = 0;
      REQUIRE(hsync::ParseNcmecTime(req.get_param_value("from"), &from_ms));
      REQUIRE(hsync::ParseNcmecTime(req.get_param_value("to"), &to_ms));
      const size_t start = paging ? std::stoul(req.get_param_value("start")) : 1;
      std::vector<const Entry*> window;
      const int64_t inflate = from_ms == 0 ? inflate_max : 0;  // only the whole range "holds" too many
      for (const auto& [k, e] : entries) {
        if (e.ts_s * 1000 > from_ms && e.ts_s * 1000 <= to_ms) window.push_back(&e);
      }
      // Newest first: the worst order for a checkpoint taken from entries.
      std::stable_sort(window.begin(), window.end(), [](const Entry* a, const Entry* b) { return a->ts_s > b->ts_s; });
      std::string images, videos;
      bool corrupt = false;
      for (size_t i = start - 1; i < window.size() && i < start - 1 + page_size; ++i) {
        const Entry& e = *window[i];
        corrupt |= e.id == corrupt_id;
        const std::string tag = std::string(e.deleted ? "deleted" : "") + (e.video ? (e.deleted ? "Video" : "video") : (e.deleted ? "Image" : "image"));
        std::string x = "<" + tag + "><member id=\"" + std::to_string(e.member) + "\">Member</member><timestamp>" +
                        hsync::FormatNcmecTime(e.ts_s) + "</timestamp><id>" + e.id + "</id>";
        if (!e.deleted) {
          x += "<classification>" + e.classification + "</classification><fingerprints>";
          if (!e.md5.empty()) x += "<md5>" + e.md5 + "</md5>";
          x += "<sha1>" + std::string(40, 'a') + "</sha1>";
          if (!e.pdq.empty()) x += "<pdq>" + e.pdq + "</pdq>";
          x += "<tmk-pdqf rel=\"self\" href=\"/v2/entries/1/fingerprints/TMK_PDQF\"/></fingerprints><feedback/>";
        }
        x += "</" + tag + ">\n";
        (e.video ? videos : images) += x;
      }
      if (corrupt) {
        res.set_content("<?xml version=\"1.0\"?><queryResult><images><image><id>", "application/xml");
        return;
      }
      std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                         "<queryResult xmlns=\"https://hashsharing.ncmec.org/hashsharing/v2\">\n<images count=\"1\">" +
                         images + "</images><videos>" + videos + "</videos>";
      if (start - 1 + page_size < window.size()) {
        const std::string from = httplib::detail::encode_query_param(hsync::FormatNcmecTime(from_ms / 1000).insert(19, ".000"));
        const std::string to = httplib::detail::encode_query_param(hsync::FormatNcmecTime(to_ms / 1000).insert(19, ".000"));
        body += "<paging><next>/v2/entries?from=" + from + "&amp;to=" + to + "&amp;start=" +
                std::to_string(start + page_size) + "&amp;size=" + std::to_string(page_size) + "&amp;max=" +
                std::to_string(window.size() + inflate) + "</next></paging>";
      }
      body += "</queryResult>\n";
      res.set_content(body, "application/xml");
    });
    Listen();
  }
  ~NcmecFixture() {
    quit = true;
    Stop();
  }
  // A change as NCMEC makes it: the entry's timestamp becomes now.
  void Set(Entry e, int64_t ts_s = 0) {
    std::lock_guard l(mu);
    e.ts_s = ts_s ? ts_s : NowS();
    entries[std::to_string(e.member) + "-" + e.id] = std::move(e);
  }
  void Delete(int member, const std::string& id) {
    std::lock_guard l(mu);
    Entry& e = entries.at(std::to_string(member) + "-" + id);
    e.deleted = true;
    e.ts_s = NowS();
  }
};

// A hashscreend following the NCMEC fixture on `port`, with `extra` settings.
struct NcmecServer : ExchangeServer {
  NcmecServer(int port, const std::string& extra) {
    const std::string creds = File("ncmec.credentials", "user:s3cret\n");
    Configure("[[exchange]]\nname = \"ncmec\"\nkind = \"ncmec\"\nlist = \"ncmec\"\ninterval_s = 1\n"
              "base_url = \"http://127.0.0.1:" + std::to_string(port) + "\"\ncredentials_file = \"" + creds + "\"\n" +
              extra);
    Start();
  }
};

// The window-read time the status shows ("windows read to T").
std::string ReadTo(const json& x) {
  const std::string c = x["checkpoint"].get<std::string>();
  const size_t at = c.find("windows read to ");
  return at == std::string::npos ? "" : c.substr(at + 16, 20);
}

}  // namespace

TEST_CASE("exchange ncmec: pages parse, hostile XML is refused whole") {
  const std::string md5 = std::string(32, 'A'), pdq = std::string(64, '0');
  hsync::NcmecPage page;
  REQUIRE(hsync::ParseNcmecPage(
              R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">
  <images count="2" maxTimestamp="2017-10-24T15:10:00Z">
    <image><member id="42">Example</member><timestamp>2017-10-24T15:00:00Z</timestamp><id>image1</id>
      <classification>A1</classification>
      <fingerprints><md5>)" + md5 + R"(</md5><sha1>a1a1</sha1><pdna>x</pdna><pdq>)" + pdq + R"(</pdq></fingerprints>
      <feedback lastUpdateTimestamp="2023-06-01T12:48:14Z"><affirmativeFeedback type="Md5"/></feedback></image>
    <deletedImage><member id="43">Other</member><id>image4</id><timestamp>2017-10-24T15:10:00.250Z</timestamp></deletedImage>
  </images>
  <videos count="1"><video><member id="42">E</member><id>v1</id><fingerprints><md5>)" + md5 + R"(</md5></fingerprints></video></videos>
  <paging><next>/v2/entries?from=2017-10-20T00%3A00%3A00.000Z&amp;to=2017-10-30T00%3A00%3A00.000Z&amp;start=2001&amp;size=1000&amp;max=3000</next></paging>
</queryResult>)",
              &page)
              .ok());
  REQUIRE(page.entries.size() == 2);
  CHECK(page.skipped == 1);
  CHECK(page.entries[0].ref == "42-image1");
  CHECK_FALSE(page.entries[0].deleted);
  REQUIRE(page.entries[0].signals.size() == 2);  // md5 and pdq; sha1 and pdna ignored
  CHECK(page.entries[0].signals[0].type == base::SignalType::kMd5);
  CHECK(page.entries[0].meta.tags == std::vector<std::string>{"A1"});
  CHECK(page.entries[0].meta.first_seen_ms == 1508857200000);
  CHECK(page.entries[1].deleted);
  CHECK(page.entries[1].ref == "43-image4");
  CHECK(page.entries[1].meta.first_seen_ms == 1508857800250);
  CHECK(page.next == "/v2/entries?from=2017-10-20T00%3A00%3A00.000Z&to=2017-10-30T00%3A00%3A00.000Z&start=2001&size=1000&max=3000");
  CHECK(page.estimated == 3000 - 2001 + 3);

  const std::string deep = "<queryResult>" + std::string(40 * 3, ' ') + [] {
    std::string s;
    for (int i = 0; i < 40; ++i) s += "<a>";
    return s;
  }() + "</queryResult>";
  for (const std::string& bad : std::vector<std::string>{
           "", "<queryResult>", "not xml", "<other/>", deep,
           // Billion laughs and an external entity: no DOCTYPE at all.
           "<?xml version=\"1.0\"?><!DOCTYPE q [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><queryResult>&b;</queryResult>",
           "<?xml version=\"1.0\"?><!DOCTYPE q [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><queryResult><images><image><member id=\"1\"/><id>&x;</id></image></images></queryResult>",
           "<queryResult><images><image><member id=\"1\"/></image></images></queryResult>",                 // no id
           "<queryResult><images><image><id>x</id></image></images></queryResult>",                          // no member
           "<queryResult><images><image><member id=\"1\"/><id>x</id><fingerprints><md5>zz</md5></fingerprints></image></images></queryResult>",
           "<queryResult><images><image><member id=\"1\"/><id>x</id><timestamp>yesterday</timestamp></image></images></queryResult>",
           "<queryResult><paging><next>https://evil.example/v2/entries?x</next></paging></queryResult>",
       }) {
    CAPTURE(bad);
    CHECK(hsync::ParseNcmecPage(bad, &page).code() == base::Status::Code::kInvalidArgument);
  }
  int64_t ms = 0;
  CHECK_FALSE(hsync::ParseNcmecTime("2026-02-31T00:00:00Z", &ms));
  CHECK_FALSE(hsync::ParseNcmecTime("2026-01-01T00:00:00", &ms));
  CHECK(hsync::ParseNcmecTime("1970-01-01T00:00:01Z", &ms));
  CHECK(ms == 1000);
}

TEST_CASE("exchange ncmec: follows windows (paging, deletes, shared hashes, out of order, corrupt page, expired paging, 429, hang)") {
  std::mt19937_64 rng(11);
  NcmecFixture nc;
  std::vector<std::string> md5, pdq;
  for (int i = 0; i < 10; ++i) md5.push_back(RandomHex(rng, 16)), pdq.push_back(RandomHex(rng, 32));
  const int64_t t0 = NowS() - 1000;
  for (int i = 0; i < 7; ++i) nc.Set({42, "img" + std::to_string(i), 0, i % 2 ? "A1" : "B2", md5[i], i < 3 ? pdq[i] : ""}, t0 + i);
  nc.Set({43, "img0", 0, "A2", md5[0], ""}, t0 + 7);  // another member holds img0's md5 too
  Entry video{42, "vid1", 0, "A1", md5[9], ""};
  video.video = true;
  nc.Set(video, t0 + 8);

  NcmecServer hs(nc.port, "timeout_s = 2\n");
  // Three pages of three, newest first; 7 md5s + 3 pdqs; the video skipped.
  json x = hs.WaitFor([](const json& e) { return e["entries"] == 10 && e["last_error"].is_null() && !ReadTo(e).empty(); },
                      "the first sync");
  CHECK(x["kind"] == "ncmec");
  for (int i = 0; i < 7; ++i) CHECK(hs.Matches("md5", md5[i]));
  CHECK(hs.Matches("pdq", pdq[2]));
  CHECK_FALSE(hs.Matches("md5", md5[9]));
  const uint64_t list_id = x["list_id"].get<uint64_t>();
  {
    // The reviewer's view: partner ref (member-id), classification, timestamp.
    auto r = hs.server.Client()->Post("/v1/screen/hashes", Bearer(hs.ingest), json{{"md5", md5[3]}}.dump(), "application/json");
    auto shown = hs.server.Client()->Get("/v1/audit/" + Json(r)["audit_id"].get<std::string>(), Bearer(hs.admin));
    REQUIRE(HttpStatus(shown) == 200);
    const json hit = Json(shown)["hits"].at(0);
    CHECK(hit["partner_ref"] == "42-img3");
    CHECK(hit["tags"] == json::array({"A1"}));
    CHECK(hit["first_seen_ms"] == (t0 + 3) * 1000);
  }
  {
    std::lock_guard l(nc.mu);
    CHECK(nc.queries.at(0).find("from=1970-01-01T00%3A00%3A00Z") != std::string::npos);
  }

  // Deletes name only the entry; a hash two members hold stays until both
  // entries are gone; a changed fingerprint replaces the old one.
  nc.Delete(42, "img0");
  nc.Delete(42, "img1");
  nc.Set({42, "img2", 0, "A1", md5[7], pdq[2]});  // md5[2] -> md5[7]
  // 10 - pdq[0] - md5[1] - pdq[1] - md5[2] + md5[7].
  x = hs.WaitFor([](const json& e) { return e["entries"] == 7; }, "the deletes and the change");
  CHECK(hs.Matches("md5", md5[0]));  // member 43 still holds it
  CHECK_FALSE(hs.Matches("md5", md5[1]));
  CHECK_FALSE(hs.Matches("md5", md5[2]));
  CHECK(hs.Matches("md5", md5[7]));
  CHECK(hs.Matches("pdq", pdq[2]));
  nc.Delete(43, "img0");
  x = hs.WaitFor([](const json& e) { return e["entries"] == 6; }, "the second holder's delete");
  CHECK_FALSE(hs.Matches("md5", md5[0]));

  // Out of order and a corrupt page: six new entries in one window, served
  // newest first; the page holding the OLDEST (the window's last page) is
  // corrupt. The first page's newer entries are applied, but the checkpoint
  // never passes the window: the oldest entry comes once the page heals.
  std::vector<std::string> fresh;
  {
    std::lock_guard l(nc.mu);
    nc.corrupt_id = "new0";
  }
  const int64_t t1 = NowS();
  for (int i = 0; i < 6; ++i) {
    fresh.push_back(RandomHex(rng, 16));
    nc.Set({44, "new" + std::to_string(i), 0, "A1", fresh[i], ""}, t1 + (i == 0 ? 0 : 1));
  }
  x = hs.WaitFor([](const json& e) { return !e["last_error"].is_null() && e["entries"] == 9; }, "the corrupt page");
  CHECK(x["last_error"].get<std::string>().find("NCMEC page: not XML") != std::string::npos);
  CHECK(x["checkpoint"].get<std::string>().find("open at page /v2/entries") != std::string::npos);
  const std::string stuck = ReadTo(x);
  CHECK(stuck < hsync::FormatNcmecTime(t1));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  x = hs.Status();
  CHECK(ReadTo(x) == stuck);  // never stepped over
  CHECK_FALSE(hs.Matches("md5", fresh[0]));
  CHECK(hs.Matches("md5", fresh[1]));  // page 1: new1..new3 (newest first)
  CHECK_FALSE(hs.Matches("md5", fresh[5]));
  {
    std::lock_guard l(nc.mu);
    nc.corrupt_id.clear();
  }
  x = hs.WaitFor([](const json& e) { return e["last_error"].is_null() && e["entries"] == 12; }, "the healed page");
  CHECK(hs.Matches("md5", fresh[0]));
  CHECK(ReadTo(x) > hsync::FormatNcmecTime(t1));

  // An expired paging path: the window restarts from its start, nothing is lost.
  {
    std::lock_guard l(nc.mu);
    nc.expire_paging = true;
  }
  const int64_t t2 = NowS();  // one second: one window of two pages
  for (int i = 0; i < 4; ++i) nc.Set({45, "late" + std::to_string(i), 0, "A1", RandomHex(rng, 16), ""}, t2);
  x = hs.WaitFor([](const json& e) { return e["entries"] == 16; }, "the restarted window");
  {
    std::lock_guard l(nc.mu);
    CHECK_FALSE(nc.expire_paging);
  }
  CheckQuietPollsWriteNothing(hs, list_id);
  CheckThrottleHonoured(hs, nc);
  CheckHangCutOff(hs, nc);
}

TEST_CASE("exchange ncmec: a window announcing too many entries is split, SIGKILL mid-window: nothing lost or doubled") {
  std::mt19937_64 rng(29);
  NcmecFixture nc;
  nc.page_size = 100;
  std::vector<std::string> md5;
  const int64_t t0 = NowS() - 5000;
  for (int i = 0; i < 6000; ++i) {
    md5.push_back(RandomHex(rng, 16));
    nc.Set({42, "e" + std::to_string(i), 0, "A1", md5.back(), ""}, t0 + i % 4000);
  }
  nc.inflate_max = 2000000;  // the first window "holds" two million: split
  NcmecServer hs(nc.port, "max_window_entries = 1000000\n");
  json x = CheckSyncSurvivesKills(hs, {700, 1500, 2500}, 6000);
  CHECK(hs.Matches("md5", md5[0]));
  CHECK(hs.Matches("md5", md5[5999]));
  {
    std::lock_guard l(nc.mu);
    // The first query asked from 1970 to now; the next asked a quarter of that.
    REQUIRE(nc.queries.size() > 2);
    CHECK(nc.queries[0].find("from=1970-01-01T00%3A00%3A00Z") != std::string::npos);
    CHECK(nc.queries[1].find("to=1984-") != std::string::npos);  // 1970 + (2026 - 1970) / 4
  }
  // A delete after the kills applies once.
  nc.Delete(42, "e0");
  hs.server.Stop(SIGKILL);
  hs.Start();
  x = hs.WaitFor([](const json& e) { return e["entries"] == 5999; }, "the delete");
  CHECK(hs.List(x["list_id"].get<uint64_t>())["last_seq"] == 6001);
  CHECK_FALSE(hs.Matches("md5", md5[0]));
}
