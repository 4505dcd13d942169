// Reviewers' verdicts sent back to the partners (sync/exchange/
// feedback_queue.h, feedback_sender.h): HttpFetcher's POST/PUT, then a real
// hashscreend with an ncmec, a stopncii and a threatexchange exchange
// following one fixture server that speaks the three wire formats, takes
// their feedback calls and records them: a confirm and a false positive on
// an NCMEC match arrive as the PUT with the affirmative / negative XML,
// StopNCII's as SubmitFeedback JSON, ThreatExchange's as a reaction; 503
// then 200 is retried and delivered; a 400 fails at once with its error in
// the audit entry; SIGKILL while a partner refuses, restart: delivered.
#include <doctest/doctest.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include <rocksdb/write_batch.h>

#include "base/clock.h"
#include "base/hex.h"
#include "store/audit_log.h"
#include "store/database.h"
#include "sync/exchange/exchange_config.h"
#include "sync/exchange/feedback_queue.h"
#include "sync/exchange/feedback_sender.h"
#include "sync/exchange/http_fetcher.h"
#include "tests/sync/exchange_server.h"

namespace {

using namespace testing_support;
using base::Status;
using nlohmann::json;


struct Call {
  std::string method, path, query_reactions, token, content_type, body, auth, functions_key;
};

// One fixture for three partners: /ncmec (NCMEC v2), /stopncii (StopNCII),
// /te (Graph). Each serves one entry and takes feedback; `answers` holds the
// statuses to give the next feedback calls (200 once empty).
struct PartnerFixture : LoopbackHttp {
  static constexpr const char* kToken = "111|te-secret";
  std::mutex mu;
  std::string ncmec_pdq, stopncii_pdq, te_pdq;
  std::deque<int> answers;
  std::vector<Call> calls;  // feedback calls answered 2xx
  std::atomic<int> attempts{0};

  PartnerFixture(std::string a, std::string b, std::string c)
      : ncmec_pdq(std::move(a)), stopncii_pdq(std::move(b)), te_pdq(std::move(c)) {
    http.Get("/ncmec/v2/entries", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.has_param("start")) return res.set_content("<queryResult/>", "application/xml");
      res.set_content(
          "<?xml version=\"1.0\"?><queryResult xmlns=\"https://hashsharing.ncmec.org/hashsharing/v2\"><images>"
          "<image><member id=\"42\">M</member><timestamp>2024-01-01T00:00:00Z</timestamp><id>image1</id>"
          "<fingerprints><pdq>" + ncmec_pdq + "</pdq></fingerprints></image></images></queryResult>",
          "application/xml");
    });
    http.Get("/stopncii/FetchHashes", [this](const httplib::Request&, httplib::Response& res) {
      json rec{{"lastModtimestamp", 1700000000}, {"hashValue", stopncii_pdq}, {"hashStatus", "Active"},
               {"signalType", "ImagePDQ"}, {"caseNumbers", {{"case-1", "Active"}}}};
      res.set_content(json{{"count", 1}, {"nextSetTimestamp", 1700000000}, {"hasMoreRecords", false},
                           {"nextPageToken", nullptr}, {"hashRecords", {rec}}}
                          .dump(),
                      "application/json");
    });
    http.Get("/te/777/threat_updates/", [this](const httplib::Request&, httplib::Response& res) {
      json u{{"id", "9001"}, {"indicator", te_pdq}, {"type", "HASH_PDQ"}, {"last_updated", 1700000000},
             {"descriptors", {{"data", {{{"id", "5005"}, {"tags", {"x"}}}, {{"id", "5006"}, {"tags", {"y"}}}}}}}};
      res.set_content(json{{"data", {u}}}.dump(), "application/json");
    });
    auto feedback = [this](const httplib::Request& req, httplib::Response& res) {
      ++attempts;
      std::lock_guard l(mu);
      if (!answers.empty()) {
        res.status = answers.front();
        answers.pop_front();
        if (res.status == 503) res.set_header("Retry-After", "1");
        res.set_content(res.status == 400 ? "no such entry \xff\n<b>" : "busy", "text/plain");
        return;
      }
      calls.push_back({req.method, req.path, req.get_param_value("reactions"), req.get_param_value("access_token"),
                       req.get_header_value("Content-Type"), req.body, req.get_header_value("Authorization"),
                       req.get_header_value("x-functions-key")});
      res.set_content(req.path.starts_with("/te/") ? R"({"success":true})" : "<submissionResult/>", "text/plain");
    };
    http.Put(R"(/ncmec/v2/entries/([^/]+)/([^/]+)/([A-Z_]+)/feedback)", feedback);
    http.Post("/stopncii/SubmitFeedback", feedback);
    http.Post(R"(/te/([0-9]+)/)", feedback);
    Listen();
  }
  ~PartnerFixture() { Stop(); }
  std::vector<Call> Calls() {
    std::lock_guard l(mu);
    return calls;
  }
  void Answer(std::initializer_list<int> statuses) {
    std::lock_guard l(mu);
    answers.insert(answers.end(), statuses);
  }
};

std::string RandomPdq(std::mt19937_64& rng) { return RandomHex(rng, 32); }

// A hashscreend following the three partners of a PartnerFixture on
// `port` (NCMEC, StopNCII, ThreatExchange), each with its feedback settings.
struct FeedbackServer : ExchangeServer {
  std::string reviewer = server.CreateKey("reviewer");

  explicit FeedbackServer(int port) {
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    Configure("[[exchange]]\nname = \"ncmec\"\nkind = \"ncmec\"\nlist = \"ncmec\"\ninterval_s = 30\n"
              "base_url = \"" + base + "/ncmec\"\ncredentials_file = \"" + File("ncmec.cred", "user:s3cret\n") +
              "\"\nfeedback_reason = \"01234567-abcd-0123-4567-012345678900\"\nfeedback_attempts = 4\n"
              "[[exchange]]\nname = \"sncii\"\nkind = \"stopncii\"\nlist = \"sncii\"\ninterval_s = 30\n"
              "base_url = \"" + base + "/stopncii\"\nfetch_key_file = \"" + File("fetch.key", "fetch-key\n") +
              "\"\nsubscription_key_file = \"" + File("sub.key", "sub-key\n") + "\"\nfeedback_key_file = \"" +
              File("feedback.key", "feedback-key\n") + "\"\n"
              "[[exchange]]\nname = \"te\"\nkind = \"threatexchange\"\nlist = \"te\"\ninterval_s = 30\n"
              "privacy_group = \"777\"\ntoken_file = \"" + File("te.token", std::string(PartnerFixture::kToken) + "\n") +
              "\"\nbase_url = \"" + base + "/te\"\n");
    Start();
  }
  void WaitSynced() {
    for (int i = 0; i < 600; ++i) {
      bool all = true;
      for (const auto& x : Exchanges()) all &= x["entries"].get<uint64_t>() == 1;
      if (all) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("exchanges did not sync: " << Exchanges().dump());
  }
  // Screens `pdq`, returns the audit id of the match.
  std::string Screen(const std::string& pdq) {
    auto r = server.Client()->Post("/v1/screen/hashes", Bearer(ingest), json{{"pdq", pdq}}.dump(), "application/json");
    REQUIRE(HttpStatus(r) == 200);
    json j = Json(r);
    REQUIRE_MESSAGE(j["match"].get<bool>(), j.dump());
    return j["audit_id"].get<std::string>();
  }
  void Review(const std::string& id, const std::string& disposition) {
    auto r = server.Client()->Post(("/v1/audit/" + id + "/review").c_str(), Bearer(reviewer),
                                   json{{"disposition", disposition}, {"note", "checked"}}.dump(), "application/json");
    REQUIRE_MESSAGE(HttpStatus(r) == 201, (r ? r->body : ""));
  }
  json Feedback(const std::string& id) {
    auto r = server.Client()->Get(("/v1/audit/" + id).c_str(), Bearer(reviewer));
    REQUIRE(HttpStatus(r) == 200);
    return Json(r)["feedback"];
  }
  // Waits until every feedback item of `id` is in `state`.
  json WaitFeedback(const std::string& id, const std::string& state, int seconds = 60) {
    for (int i = 0; i < seconds * 10; ++i) {
      json f = Feedback(id);
      bool all = !f.empty();
      for (const auto& x : f) all &= x["state"] == state;
      if (all) return f;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("feedback of " << id << " never became " << state << ": " << Feedback(id).dump());
    return json();
  }
};

store::AuditHit Hit(const std::string& partner, const std::string& ref, const std::string& signal) {
  store::AuditHit h;
  h.list_id = 3;
  h.list_name = "l";
  h.partner = partner;
  h.partner_ref = ref;
  h.list_kind = "block";
  h.signal = signal;
  h.hash_hex = std::string(signal == "md5" ? 32 : 64, 'c');
  return h;
}

}  // namespace

TEST_CASE("exchange feedback queue: one item per exchange hit, escalated sends nothing, a review never queued is recovered once, none before the first start") {
  TempDir dir;
  std::unique_ptr<store::Database> db;
  REQUIRE(store::Database::Open(dir.path().string(), {}, &db).ok());
  std::unique_ptr<store::AuditLog> log;
  REQUIRE(store::AuditLog::Open(db.get(), {}, &log).ok());
  store::AuditEntry screen;
  screen.key_id = "0123456789abcdef";
  screen.source = "hashes";
  screen.verdict = "match";
  screen.hits = {Hit("exchange:ncmec", "42-a", "pdq"), Hit("exchange:ncmec", "42-a", "md5"), Hit("exchange:urls", "x", "pdq"),
                 Hit("acme", "y", "pdq"), Hit("exchange:ncmec-other", "z", "pdq")};
  REQUIRE(log->Append(&screen).ok());

  // A review from before feedback existed (an upgrade): the first start
  // only sets the watermark, it replays nothing.
  store::AuditEntry old_review;
  REQUIRE(log->AppendReview(screen.seq, "confirmed", "", "reviewer0000000", &old_review).ok());
  {
    hsync::FeedbackQueue q(db.get(), {"ncmec"});
    size_t queued = 9;
    REQUIRE(q.Recover(*log, &queued).ok());
    CHECK(queued == 0);
  }

  // The review is recorded, the process dies before queueing it.
  store::AuditEntry review;
  REQUIRE(log->AppendReview(screen.seq, "false_positive", "again", "reviewer0000000", &review).ok());
  {
    hsync::FeedbackQueue q(db.get(), {"ncmec"});
    size_t queued = 0;
    REQUIRE(q.Recover(*log, &queued).ok());
    CHECK(queued == 2);  // the pdq and the md5 hit of ncmec's list, nothing else
    REQUIRE(q.Recover(*log, &queued).ok());
    CHECK(queued == 0);  // past the watermark
    REQUIRE(q.Enqueue(review, screen, &queued).ok());
    CHECK(queued == 0);  // already queued: kept as it is
  }
  std::vector<hsync::FeedbackItem> items;
  REQUIRE(hsync::FeedbackQueue::OfTarget(*db, screen.seq, &items).ok());
  REQUIRE(items.size() == 2);
  CHECK(items[0].exchange == "ncmec");
  CHECK(items[0].partner_ref == "42-a");
  CHECK(items[0].signal == "pdq");
  CHECK(items[1].signal == "md5");
  CHECK_FALSE(items[0].positive);
  CHECK(items[0].state == hsync::FeedbackState::kPending);

  hsync::FeedbackQueue q(db.get(), {"ncmec"});
  store::AuditEntry escalated;
  REQUIRE(log->AppendReview(screen.seq, "escalated", "later", "reviewer0000000", &escalated).ok());
  size_t queued = 0;
  REQUIRE(q.Enqueue(escalated, screen, &queued).ok());
  CHECK(queued == 0);

  // Delivered and failed items leave the pending index; failed ones are counted.
  std::vector<hsync::FeedbackItem> due;
  int64_t next = 0;
  REQUIRE(q.Due(base::NowMs(), 10, &due, &next).ok());
  REQUIRE(due.size() == 2);
  due[0].state = hsync::FeedbackState::kDelivered;
  due[0].delivered_ms = 5;
  due[1].state = hsync::FeedbackState::kFailed;
  due[1].last_error = "HTTP 400";
  REQUIRE(q.Update(due[0]).ok());
  REQUIRE(q.Update(due[1]).ok());
  uint64_t pending = 9, failed = 9;
  REQUIRE(q.Counts("ncmec", &pending, &failed).ok());
  CHECK(pending == 0);
  CHECK(failed == 1);
  REQUIRE(q.Due(base::NowMs(), 10, &due, &next).ok());
  CHECK(due.empty());
  CHECK(next == INT64_MAX);

  // A later review lost the same way: the next start queues it.
  store::AuditEntry again;
  REQUIRE(log->AppendReview(screen.seq, "confirmed", "sure", "reviewer0000000", &again).ok());
  REQUIRE(q.Recover(*log, &queued).ok());
  CHECK(queued == 2);
  REQUIRE(hsync::FeedbackQueue::OfTarget(*db, screen.seq, &items).ok());
  REQUIRE(items.size() == 4);
  CHECK(items[2].positive);
  CHECK(items[2].review_seq == again.seq);

  // A stored item that does not decode is an error, never a crash.
  rocksdb::WriteBatch batch;
  char key[96];
  std::snprintf(key, sizeof key, "exchange_feedback/t/%020llu/%020llu/%06u", static_cast<unsigned long long>(screen.seq),
                static_cast<unsigned long long>(again.seq), 7u);
  REQUIRE(batch.Put(db->family(store::Database::kMeta), key, "{\"exchange\": 5}").ok());
  REQUIRE(db->Write(&batch, true).ok());
  CHECK(hsync::FeedbackQueue::OfTarget(*db, screen.seq, &items).code() == Status::Code::kCorruption);
}

TEST_CASE("exchange feedback config: feedback keys per kind, checked") {
  auto parse = [](std::string kind, hsync::ExchangeTable extra, hsync::ExchangeConfig* out) {
    hsync::ExchangeTable t = {{"name", std::string("x")}, {"kind", kind}, {"list", std::string("l")}};
    if (kind == "ncmec") t.push_back({"credentials_file", std::string("/c")}), t.push_back({"base_url", std::string("https://n.org/h")});
    if (kind == "stopncii") t.push_back({"fetch_key_file", std::string("/f")}), t.push_back({"subscription_key_file", std::string("/s")});
    if (kind == "threatexchange") t.push_back({"privacy_group", std::string("1")}), t.push_back({"token_file", std::string("/t")});
    t.insert(t.end(), extra.begin(), extra.end());
    return hsync::ParseExchangeTable(t, 0, out);
  };
  hsync::ExchangeConfig c;
  REQUIRE(parse("ncmec", {{"feedback_reason", std::string("01234567-abcd-0123-4567-012345678900")}, {"feedback_attempts", int64_t{3}}}, &c).ok());
  CHECK(c.feedback_reason == "01234567-abcd-0123-4567-012345678900");
  CHECK(c.feedback_attempts == 3);
  REQUIRE(parse("stopncii", {{"feedback_key_file", std::string("/k")}}, &c).ok());
  CHECK(c.feedback_key_file == "/k");
  CHECK(c.feedback_attempts == 24);
  REQUIRE(parse("threatexchange", {{"feedback_attempts", int64_t{1000}}}, &c).ok());
  // A reason that would inject XML, attempts out of range, a key of another kind.
  CHECK(parse("ncmec", {{"feedback_reason", std::string("</guid><x>")}}, &c).message().find("feedback_reason") != std::string::npos);
  CHECK(parse("ncmec", {{"feedback_attempts", int64_t{0}}}, &c).message().find("feedback_attempts: 0 is outside") != std::string::npos);
  CHECK(parse("ncmec", {{"feedback_key_file", std::string("/k")}}, &c).message().find("unknown key(s) feedback_key_file") != std::string::npos);
  CHECK(parse("url", {{"url", std::string("https://e.org/l")}, {"feedback_attempts", int64_t{2}}}, &c).message().find("unknown key(s) feedback_attempts") != std::string::npos);
}

TEST_CASE("exchange feedback retry delay: jittered, growing past 30 s to an hour, Retry-After a floor") {
  for (int i = 0; i < 50; ++i) {
    CHECK(hsync::FeedbackRetryDelayMs(1, -1) >= 125);
    CHECK(hsync::FeedbackRetryDelayMs(1, -1) <= 250);
    CHECK(hsync::FeedbackRetryDelayMs(1, 7) == 7000);
    CHECK(hsync::FeedbackRetryDelayMs(10, -1) >= 60'000);
    CHECK(hsync::FeedbackRetryDelayMs(10, -1) <= 120'000);
    CHECK(hsync::FeedbackRetryDelayMs(1000, -1) >= 1'800'000);
    CHECK(hsync::FeedbackRetryDelayMs(1000, -1) <= 3'600'000);
    CHECK(hsync::FeedbackRetryDelayMs(1000, 86400) == 86'400'000);
  }
}

TEST_CASE("exchange http fetch: POST and PUT carry their body and type, under the same caps") {
  std::atomic<bool> quit{false};
  LoopbackHttp server;  // after quit: stopped before it goes
  httplib::Server& http = server.http;
  std::string seen_method, seen_body, seen_type;
  std::mutex mu;
  auto record = [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard l(mu);
    seen_method = req.method, seen_body = req.body, seen_type = req.get_header_value("Content-Type");
    res.status = 503;
    res.set_header("Retry-After", "7");
    res.set_content("try later", "text/plain");
  };
  http.Post("/post", record);
  http.Put("/put", record);
  http.Post("/hang", [&](const httplib::Request&, httplib::Response&) {
    while (!quit) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  });
  http.Post("/big", [](const httplib::Request&, httplib::Response& res) { res.set_content(std::string(1 << 20, 'x'), "text/plain"); });
  server.Listen();
  const int port = server.port;
  const std::string base = "http://127.0.0.1:" + std::to_string(port);

  hsync::HttpFetcher fetcher;
  hsync::HttpAnswer a;
  for (const char* method : {"POST", "PUT"}) {
    hsync::HttpRequest req;
    req.method = method;
    req.url = base + (std::string(method) == "POST" ? "/post" : "/put");
    req.body = std::string("<x>") + method + "</x>";
    req.content_type = "application/xml; charset=utf-8";
    REQUIRE(fetcher.Send(req, &a).ok());
    CHECK(a.status == 503);
    CHECK(a.retry_after_s == 7);
    CHECK(a.body == "try later");
    std::lock_guard l(mu);
    CHECK(seen_method == method);
    CHECK(seen_body == req.body);
    CHECK(seen_type == "application/xml; charset=utf-8");
  }
  hsync::HttpRequest req;
  req.method = "DELETE";
  req.url = base + "/post";
  CHECK(fetcher.Send(req, &a).code() == Status::Code::kInvalidArgument);
  req.method = "GET";
  req.body = "x";
  CHECK(fetcher.Send(req, &a).code() == Status::Code::kInvalidArgument);

  req = {};
  req.method = "POST";
  req.body = "x";
  req.url = base + "/big";
  req.max_bytes = 1000;
  CHECK(fetcher.Send(req, &a).code() == Status::Code::kTooLarge);
  req.url = base + "/hang";
  req.timeout_s = 2;
  Status s = fetcher.Send(req, &a);
  CHECK(s.code() == Status::Code::kUnavailable);
  CHECK(s.message().find("timed out after 2 s") != std::string::npos);
  quit = true;
  server.Stop();
}

TEST_CASE("exchange feedback: reviews reach NCMEC, StopNCII and ThreatExchange, retries, permanent failures, SIGKILL") {
  std::mt19937_64 rng(11);
  const std::string ncmec_pdq = RandomPdq(rng), sncii_pdq = RandomPdq(rng), te_pdq = RandomPdq(rng);
  PartnerFixture partners(ncmec_pdq, sncii_pdq, te_pdq);
  FeedbackServer fs(partners.port);
  fs.WaitSynced();

  // NCMEC: a confirm is an upvote, a false positive a downvote with the reason.
  const std::string a = fs.Screen(ncmec_pdq);
  fs.Review(a, "confirmed");
  json f = fs.WaitFeedback(a, "delivered");
  REQUIRE(f.size() == 1);
  CHECK(f[0]["exchange"] == "ncmec");
  CHECK(f[0]["partner_ref"] == "42-image1");
  CHECK(f[0]["verdict"] == "positive");
  CHECK(f[0]["attempts"] == 1);
  CHECK(f[0]["delivered_ms"].is_number());
  std::vector<Call> calls = partners.Calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].method == "PUT");
  CHECK(calls[0].path == "/ncmec/v2/entries/42/image1/PDQ/feedback");
  CHECK(calls[0].content_type == "application/xml; charset=utf-8");
  CHECK(calls[0].auth == httplib::make_basic_authentication_header("user", "s3cret").second);
  CHECK(calls[0].body ==
        "<feedbackSubmission xmlns=\"https://hashsharing.ncmec.org/hashsharing/v2\"><affirmative/></feedbackSubmission>");

  // 400: failed at once, the partner's answer in the audit entry and the counts.
  partners.Answer({400});
  const std::string e = fs.Screen(ncmec_pdq);
  fs.Review(e, "confirmed");
  f = fs.WaitFeedback(e, "failed");
  CHECK(f[0]["attempts"] == 1);
  // A hostile body (bytes that are not UTF-8, control characters) is kept printable.
  CHECK(f[0]["last_error"].get<std::string>().find("HTTP 400: no such entry ?" "?<b>") != std::string::npos);
  for (const auto& x : fs.Exchanges()) {
    CHECK(x["feedback_pending"] == 0);
    CHECK(x["feedback_failed"] == (x["name"] == "ncmec" ? 1 : 0));
  }

  // A false positive (which also holds the signal: the last use of this hash).
  const std::string b = fs.Screen(ncmec_pdq);
  fs.Review(b, "false_positive");
  fs.WaitFeedback(b, "delivered");
  calls = partners.Calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[1].path == "/ncmec/v2/entries/42/image1/PDQ/feedback");
  CHECK(calls[1].body == "<feedbackSubmission xmlns=\"https://hashsharing.ncmec.org/hashsharing/v2\"><negative><reasonIds>"
                         "<guid>01234567-abcd-0123-4567-012345678900</guid></reasonIds></negative></feedbackSubmission>");

  // Escalated: nothing is sent (undecided).
  const std::string esc = fs.Screen(te_pdq);
  fs.Review(esc, "escalated");
  CHECK(fs.Feedback(esc).empty());

  // StopNCII: SubmitFeedback JSON with the feedback function's key.
  const std::string c = fs.Screen(sncii_pdq);
  fs.Review(c, "confirmed");
  fs.WaitFeedback(c, "delivered");
  calls = partners.Calls();
  REQUIRE(calls.size() == 3);
  CHECK(calls[2].method == "POST");
  CHECK(calls[2].path == "/stopncii/SubmitFeedback");
  CHECK(calls[2].functions_key == "feedback-key");
  CHECK(json::parse(calls[2].body) ==
        json{{"count", 1}, {"hashFeedbacks", {{{"hashValue", sncii_pdq}, {"tags", json::array()}, {"feedbackValue", "Blocked"}}}}});

  // 503 (Retry-After 1) then 200: retried and delivered.
  partners.Answer({503});
  const std::string d = fs.Screen(sncii_pdq);
  fs.Review(d, "false_positive");
  f = fs.WaitFeedback(d, "delivered");
  CHECK(f[0]["attempts"] == 2);
  CHECK(json::parse(partners.Calls().back().body)["hashFeedbacks"][0]["feedbackValue"] == "NotBlocked");
  const size_t before = partners.Calls().size();

  // The partner refuses (503) while the server is SIGKILLed: after the
  // restart the item is still there and is delivered.
  partners.Answer({503, 503, 503, 503, 503, 503, 503, 503});
  const int prior = partners.attempts.load();
  const std::string g = fs.Screen(te_pdq);
  fs.Review(g, "confirmed");
  for (int i = 0; i < 100 && partners.attempts.load() == prior; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(fs.Feedback(g)[0]["state"] == "pending");
  fs.server.Stop(SIGKILL);
  {
    std::lock_guard l(partners.mu);
    partners.answers.clear();
  }
  fs.Start();
  f = fs.WaitFeedback(g, "delivered");
  calls = partners.Calls();
  // ThreatExchange reacts on descriptors, not on the indicator (9001): one
  // reaction per descriptor of the indicator.
  REQUIRE(calls.size() == before + 2);
  CHECK(calls[before].path == "/te/5005/");
  CHECK(calls[before + 1].path == "/te/5006/");
  for (size_t i = before; i < calls.size(); ++i) {
    CHECK(calls[i].query_reactions == "HELPFUL");
    CHECK(calls[i].token == PartnerFixture::kToken);
  }
  CHECK(f[0]["partner_ref"] == "9001");
  // Nothing else was sent again: the delivered items stay delivered.
  CHECK(fs.Feedback(a)[0]["attempts"] == 1);

  // ThreatExchange: a false positive is the NON_MALICIOUS reaction.
  fs.Review(esc, "false_positive");
  fs.WaitFeedback(esc, "delivered");
  calls = partners.Calls();
  REQUIRE(calls.size() == before + 4);
  CHECK(calls[before + 2].method == "POST");
  CHECK(calls[before + 2].path == "/te/5005/");
  CHECK(calls[before + 3].path == "/te/5006/");
  CHECK(calls[before + 3].query_reactions == "NON_MALICIOUS");

  auto r = fs.server.Client()->Get("/metrics", Bearer(fs.admin));
  REQUIRE(HttpStatus(r) == 200);
  CHECK(r->body.find("hashscreen_exchange_feedback_total{exchange=\"te\",result=\"delivered\"} 2") != std::string::npos);
  CHECK(r->body.find("hashscreen_exchange_feedback_total{exchange=\"ncmec\",result=\"failed\"} 0") != std::string::npos);
}
