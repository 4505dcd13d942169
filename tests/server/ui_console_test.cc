// The review console's server side against a real hashscreend over HTTPS
// (docs/console.md): the page's security headers, sign-in and its cookie,
// the roles that cannot sign in, CSRF, sign-out, expiry, a revoked key,
// forged and oversized cookies, the session cap, and ui.enabled = false.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "base/crypto.h"
#include "base/hex.h"
#include "tests/server/raw_client.h"
#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;

namespace {

constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

struct SignIn {
  int status = 0;
  std::string cookie;      // "hs_session=TOKEN" for a Cookie header
  std::string set_cookie;  // the whole Set-Cookie value
  json body;
};

template <typename Client>
SignIn SignInWith(Client& c, const std::string& key) {
  SignIn out;
  auto r = c.Post("/ui/api/session", json{{"api_key", key}}.dump(), "application/json");
  REQUIRE(r);
  out.status = r->status;
  out.body = Json(r);
  out.set_cookie = r->get_header_value("Set-Cookie");
  out.cookie = out.set_cookie.substr(0, out.set_cookie.find(';'));
  return out;
}

httplib::Headers WithCookie(const std::string& cookie, const std::string& csrf = "") {
  httplib::Headers h{{"Cookie", cookie}};
  if (!csrf.empty()) h.emplace("X-CSRF-Token", csrf);
  return h;
}

// The audit id of a match: the bridge photo screened by the ingest key.
std::string ScreenMatch(ServerFixture& f) {
  auto r = f.Screen(FileBytes(BridgeImage()));
  REQUIRE(r);
  REQUIRE(r->status == 200);
  json j = Json(r);
  REQUIRE(j["match"] == true);
  return j["audit_id"].get<std::string>();
}

}  // namespace

TEST_CASE("console: /ui/ serves the page and its files with the strict CSP, nosniff and no-referrer") {
  ServerFixture f({}, false);
  auto c = f.server.Client();
  for (const char* path : {"/ui/", "/ui/index.html", "/ui/app.js", "/ui/console.css"}) {
    CAPTURE(path);
    auto r = c->Get(path);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->get_header_value("Content-Security-Policy") == kCsp);
    CHECK(r->get_header_value("X-Content-Type-Options") == "nosniff");
    CHECK(r->get_header_value("Referrer-Policy") == "no-referrer");
    CHECK(r->get_header_value("X-Frame-Options") == "DENY");
  }
  auto page = c->Get("/ui/");
  CHECK(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(page->body.find("<script type=\"module\" src=\"/ui/app.js\">") != std::string::npos);
  // Nothing from elsewhere, nothing inline.
  CHECK(page->body.find("http://") == std::string::npos);
  CHECK(page->body.find("https://") == std::string::npos);
  CHECK(page->body.find("style=") == std::string::npos);
  CHECK(c->Get("/ui/app.js")->get_header_value("Content-Type") == "text/javascript; charset=utf-8");
  auto redirect = c->Get("/ui");
  REQUIRE(redirect);
  CHECK(redirect->status == 308);
  CHECK(redirect->get_header_value("Location") == "/ui/");
  for (const char* missing : {"/ui/nope.js", "/ui/..%2fCMakeLists.txt", "/ui/index.html/", "/ui//"}) {
    CAPTURE(missing);
    CHECK(c->Get(missing)->status == 404);
  }
  // API answers are never cached.
  auto api = c->Get("/v1/audit", Bearer(f.keys["reviewer"]));
  CHECK(api->get_header_value("Cache-Control") == "no-store");
  CHECK(api->get_header_value("X-Content-Type-Options") == "nosniff");
}

TEST_CASE("console: a reviewer signs in, the cookie is HttpOnly, SameSite=Strict, Secure and stands in for the key") {
  ServerFixture f;
  auto c = f.server.Client();
  SignIn s = SignInWith(*c, f.keys["reviewer"]);
  REQUIRE(s.status == 200);
  CHECK(s.body["role"] == "reviewer");
  CHECK(s.body["key_id"].get<std::string>().size() == 16);
  CHECK(s.body["csrf_token"].get<std::string>().size() == 64);
  CHECK(s.body["expires_ms"].get<int64_t>() > 0);
  CHECK(s.cookie.size() == std::string("hs_session=").size() + 64);
  for (const char* attr : {"; HttpOnly", "; SameSite=Strict", "; Secure", "; Path=/", "; Max-Age=28800"}) {
    CAPTURE(attr);
    CHECK(s.set_cookie.find(attr) != std::string::npos);
  }
  // The key never comes back.
  CHECK(s.body.dump().find(f.keys["reviewer"]) == std::string::npos);

  auto again = c->Get("/ui/api/session", WithCookie(s.cookie));
  REQUIRE(again);
  CHECK(again->status == 200);
  CHECK(Json(again)["csrf_token"] == s.body["csrf_token"]);
  auto list = c->Get("/v1/audit", WithCookie(s.cookie));
  REQUIRE(list);
  CHECK(list->status == 200);
  // The reviewer's role, not more: admin routes answer 403.
  CHECK(c->Get("/v1/keys", WithCookie(s.cookie))->status == 403);
  CHECK(c->Get("/v1/lists", WithCookie(s.cookie))->status == 403);
  CHECK(c->Get("/v1/audit/verify", WithCookie(s.cookie))->status == 403);

  // The sign-in is an audit event naming the key.
  auto events = Json(c->Get("/v1/audit?verdict=event", Bearer(f.keys["reviewer"])));
  bool audited = false;
  for (const auto& e : events["entries"]) {
    audited |= e["event"] == "console_sign_in" && e["key_id"] == s.body["key_id"] && e["detail"] == "reviewer";
  }
  CHECK(audited);

  SignIn admin = SignInWith(*c, f.keys["admin"]);
  REQUIRE(admin.status == 200);
  CHECK(admin.body["role"] == "admin");
  CHECK(c->Get("/v1/keys", WithCookie(admin.cookie))->status == 200);
  CHECK(c->Get("/v1/audit/verify", WithCookie(admin.cookie))->status == 200);
}

TEST_CASE("console: ingest, partner and replica keys cannot sign in (403), a bad key is 401, a bad body 400") {
  ServerFixture f({}, false);
  auto c = f.server.Client();
  for (const char* role : {"ingest", "partner", "replica"}) {
    CAPTURE(role);
    SignIn s = SignInWith(*c, f.keys[role]);
    CHECK(s.status == 403);
    CHECK(s.body["error"]["code"] == "role_cannot_sign_in");
    CHECK(s.set_cookie.empty());
  }
  std::string wrong = f.keys["reviewer"];
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  for (const std::string& bad : {wrong, std::string(), std::string("hsk_"), std::string(100000, 'x')}) {
    SignIn s = SignInWith(*c, bad);
    CHECK(s.status == 401);
    CHECK(s.set_cookie.empty());
  }
  for (const char* body : {"", "{", "[]", R"({"api_key": 5})", R"({"api_key":"a","api_key":"b"})", R"({"key":"a"})"}) {
    CAPTURE(body);
    auto r = c->Post("/ui/api/session", body, "application/json");
    REQUIRE(r);
    CHECK(r->status == 400);
  }
}

TEST_CASE("console: a state-changing request with the cookie needs the session's CSRF token") {
  ServerFixture f;
  const std::string id = ScreenMatch(f);
  auto c = f.server.Client();
  SignIn s = SignInWith(*c, f.keys["reviewer"]);
  REQUIRE(s.status == 200);
  const std::string csrf = s.body["csrf_token"];
  const std::string review = "/v1/audit/" + id + "/review";
  const std::string body = R"({"disposition":"confirmed"})";
  SignIn other = SignInWith(*c, f.keys["admin"]);
  for (const std::string& bad : {std::string(), std::string(64, '0'), csrf.substr(1), other.body["csrf_token"].get<std::string>()}) {
    auto r = c->Post(review.c_str(), WithCookie(s.cookie, bad), body, "application/json");
    REQUIRE(r);
    CHECK(r->status == 403);
    CHECK(Json(r)["error"]["code"] == "csrf_failed");
  }
  // Nothing was written by the refused requests.
  CHECK(Json(c->Get(("/v1/audit/" + id).c_str(), WithCookie(s.cookie)))["reviews"].empty());
  auto ok = c->Post(review.c_str(), WithCookie(s.cookie, csrf), body, "application/json");
  REQUIRE(ok);
  CHECK(ok->status == 201);
  CHECK(Json(ok)["key_id"] == s.body["key_id"]);
  // Sign-out is state-changing too.
  CHECK(c->Delete("/ui/api/session", WithCookie(s.cookie))->status == 403);
  auto out = c->Delete("/ui/api/session", WithCookie(s.cookie, csrf));
  REQUIRE(out);
  CHECK(out->status == 200);
  CHECK(out->get_header_value("Set-Cookie").find("Max-Age=0") != std::string::npos);
  CHECK(c->Get("/ui/api/session", WithCookie(s.cookie))->status == 401);
  CHECK(c->Get("/v1/audit", WithCookie(s.cookie))->status == 401);
  // A bearer key needs no CSRF token (no ambient credential).
  auto bearer = c->Post(review.c_str(), Bearer(f.keys["reviewer"]), R"({"disposition":"escalated","note":"second look"})",
                        "application/json");
  CHECK(bearer->status == 201);
}

TEST_CASE("console: a request with the cookie is a use of its key (last_used_ms), as with the key itself") {
  ServerFixture f({}, false);
  auto c = f.server.Client();
  SignIn reviewer = SignInWith(*c, f.keys["reviewer"]);
  REQUIRE(reviewer.status == 200);
  const std::string path = "/v1/keys/" + reviewer.body["key_id"].get<std::string>();
  auto last_used = [&] {
    auto r = c->Get(path.c_str(), Bearer(f.keys["admin"]));
    REQUIRE(r);
    REQUIRE(r->status == 200);
    return Json(r)["last_used_ms"].get<int64_t>();
  };
  const int64_t at_sign_in = last_used();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(c->Get("/v1/audit", WithCookie(reviewer.cookie))->status == 200);
  CHECK(last_used() > at_sign_in);
}

TEST_CASE("console: a revoked key's sessions stop at once") {
  ServerFixture f({}, false);
  auto c = f.server.Client();
  SignIn reviewer = SignInWith(*c, f.keys["reviewer"]);
  REQUIRE(reviewer.status == 200);
  REQUIRE(c->Get("/v1/audit", WithCookie(reviewer.cookie))->status == 200);
  const std::string id = reviewer.body["key_id"];
  auto revoke = c->Delete(("/v1/keys/" + id).c_str(), Bearer(f.keys["admin"]));
  REQUIRE(revoke);
  REQUIRE(revoke->status == 200);
  CHECK(c->Get("/v1/audit", WithCookie(reviewer.cookie))->status == 401);
  CHECK(c->Get("/ui/api/session", WithCookie(reviewer.cookie))->status == 401);
  CHECK(SignInWith(*c, f.keys["reviewer"]).status == 401);
}

TEST_CASE("console: forged, garbage and huge cookies are refused without harm, a bearer key wins over a cookie") {
  ServerFixture f({}, false);
  auto c = f.server.Client();
  SignIn s = SignInWith(*c, f.keys["reviewer"]);
  REQUIRE(s.status == 200);
  const std::string token = s.cookie.substr(s.cookie.find('=') + 1);
  std::string flipped = token;
  flipped[0] = flipped[0] == 'a' ? 'b' : 'a';
  for (const std::string& cookie :
       {"hs_session=" + std::string(64, '0'), "hs_session=" + flipped, "hs_session=" + token.substr(0, 63),
        "hs_session=" + token + "0", std::string("hs_session="), std::string("hs_session"), std::string("hs_session=\xff\xfe"),
        "HS_SESSION=" + token, "xhs_session=" + token, std::string("; ; ;"), "hs_session=" + std::string(8000, 'a')}) {
    CAPTURE(cookie.substr(0, 80));
    auto r = c->Get("/v1/audit", WithCookie(cookie));
    REQUIRE(r);
    CHECK(r->status == 401);
  }
  // A head over limits.max_header_bytes is refused by the front; the server lives on.
  auto huge = c->Get("/v1/audit", WithCookie("hs_session=" + std::string(64 * 1024, 'a')));
  if (huge) {
    CHECK(huge->status >= 400);
    CHECK(huge->status < 500);
  }
  auto c2 = f.server.Client();
  CHECK(c2->Get("/v1/audit", WithCookie(s.cookie))->status == 200);
  // The cookie among others, and in a second Cookie header.
  CHECK(c2->Get("/v1/audit", WithCookie("a=1; " + s.cookie + "; b=2"))->status == 200);
  httplib::Headers two{{"Cookie", "a=1"}, {"Cookie", s.cookie}};
  CHECK(c2->Get("/v1/audit", two)->status == 200);
  // A bearer key decides when both come: an ingest key with a reviewer's cookie is still an ingest key.
  httplib::Headers both = Bearer(f.keys["ingest"]);
  both.emplace("Cookie", s.cookie);
  CHECK(c2->Get("/v1/audit", both)->status == 403);
}

TEST_CASE("console: sessions expire after ui.session_ttl_s") {
  ServerFixture f({"--ui-session-ttl-s", "1"}, false);
  auto c = f.server.Client();
  SignIn s = SignInWith(*c, f.keys["reviewer"]);
  REQUIRE(s.status == 200);
  CHECK(s.set_cookie.find("Max-Age=1;") != std::string::npos);
  CHECK(c->Get("/v1/audit", WithCookie(s.cookie))->status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK(c->Get("/v1/audit", WithCookie(s.cookie))->status == 401);
  CHECK(c->Get("/ui/api/session", WithCookie(s.cookie))->status == 401);
}

TEST_CASE("console: many sign-ins hit the cap (503) and one key holds at most 16 sessions") {
  ServerFixture f({"--ui-max-sessions", "20", "--rate-per-key", "0"}, false);
  auto c = f.server.Client();
  std::vector<SignIn> reviewer;
  for (int i = 0; i < 17; ++i) {
    reviewer.push_back(SignInWith(*c, f.keys["reviewer"]));
    REQUIRE(reviewer.back().status == 200);
  }
  // The 17th sign-in of one key ended its oldest session.
  CHECK(c->Get("/v1/audit", WithCookie(reviewer[0].cookie))->status == 401);
  CHECK(c->Get("/v1/audit", WithCookie(reviewer[1].cookie))->status == 200);
  for (int i = 0; i < 4; ++i) REQUIRE(SignInWith(*c, f.keys["admin"]).status == 200);
  SignIn full = SignInWith(*c, f.keys["admin"]);
  CHECK(full.status == 503);
  CHECK(full.body["error"]["code"] == "too_many_sessions");
  CHECK(full.set_cookie.empty());
  // Signing out makes room.
  auto out = c->Delete("/ui/api/session", WithCookie(reviewer[5].cookie, reviewer[5].body["csrf_token"]));
  REQUIRE(out->status == 200);
  CHECK(SignInWith(*c, f.keys["admin"]).status == 200);
}

TEST_CASE("console: ui.enabled = false serves no page and accepts no cookie") {
  ServerFixture on({}, false);
  auto c = on.server.Client();
  SignIn s = SignInWith(*c, on.keys["reviewer"]);
  REQUIRE(s.status == 200);
  ServerFixture off({"--ui-enabled=false"}, false);
  auto d = off.server.Client();
  CHECK(d->Get("/ui/")->status == 404);
  CHECK(d->Get("/ui/app.js")->status == 404);
  CHECK(SignInWith(*d, off.keys["reviewer"]).status == 404);
  CHECK(d->Get("/v1/audit", WithCookie(s.cookie))->status == 401);
}

TEST_CASE("console: on plain HTTP (loopback only) the cookie is not Secure, and works") {
  TempDir tmp;
  ServerProcess server(tmp.path());
  const std::string key = server.CreateKey("reviewer");
  std::string error;
  REQUIRE_MESSAGE(server.Start({"--plain-http"}, &error), error);
  httplib::Client c("127.0.0.1", server.port());
  SignIn s = SignInWith(c, key);
  REQUIRE(s.status == 200);
  CHECK(s.set_cookie.find("Secure") == std::string::npos);
  CHECK(s.set_cookie.find("HttpOnly") != std::string::npos);
  CHECK(c.Get("/v1/audit", WithCookie(s.cookie))->status == 200);
}

// The console's files carry a strong ETag (a hash of the served bytes) and
// Cache-Control: no-cache, so a reload revalidates each file and gets 304
// without it when it is this binary's.
TEST_CASE("console: assets have a strong ETag of their bytes, a matching If-None-Match gets 304 without a body, a stale one 200") {
  TempDir tmp;
  ServerProcess server(tmp.path());
  std::string error;
  REQUIRE_MESSAGE(server.Start({"--plain-http"}, &error), error);
  httplib::Client c("127.0.0.1", server.port());
  std::map<std::string, std::string> etags;
  for (const char* path : {"/ui/", "/ui/index.html", "/ui/app.js", "/ui/matches.js", "/ui/console.css", "/ui/favicon.svg"}) {
    CAPTURE(path);
    auto r = c.Get(path);
    REQUIRE(r);
    REQUIRE(r->status == 200);
    const std::string etag = r->get_header_value("ETag");
    CHECK(etag.size() == 34);  // "<32 hex digits>": strong (no W/)
    CHECK(etag.front() == '"');
    CHECK(etag.back() == '"');
    CHECK(r->get_header_value("Cache-Control") == "no-cache");
    CHECK(c.Get(path)->get_header_value("ETag") == etag);  // stable
    etags[path] = etag;
  }
  CHECK(etags["/ui/"] == etags["/ui/index.html"]);
  CHECK(etags["/ui/app.js"] != etags["/ui/matches.js"]);
  CHECK(etags["/ui/app.js"] != etags["/ui/console.css"]);
  // The tag is the served bytes' hash: a changed file is a changed tag.
  {
    auto r = c.Get("/ui/app.js");
    const base::Sha256Digest d = base::Sha256(r->body);
    CHECK(etags["/ui/app.js"] == "\"" + base::HexEncode(std::span<const uint8_t>(d.data(), 16)) + "\"");
  }

  const std::string app = etags["/ui/app.js"];
  const std::string stale = "\"" + std::string(32, '0') + "\"";
  for (const std::string& inm : {app, "W/" + app, stale + ", " + app, stale + "," + app + " ", std::string("*"), std::string(" * ")}) {
    CAPTURE(inm);
    auto r = c.Get("/ui/app.js", {{"If-None-Match", inm}});
    REQUIRE(r);
    CHECK(r->status == 304);
    CHECK(r->body.empty());
    CHECK(r->get_header_value("ETag") == app);
    CHECK(r->get_header_value("Cache-Control") == "no-cache");
    CHECK(r->get_header_value("Content-Security-Policy") == kCsp);
  }
  // A stale tag, another file's tag, a tag without quotes, a truncated one,
  // garbage: the whole file.
  for (const std::string& inm : {stale, etags["/ui/matches.js"], app.substr(1, 32), app.substr(0, 20), std::string("\""),
                                 std::string(",,, ,"), std::string("W/"), std::string(2000, 'x'), "**, " + stale}) {
    CAPTURE(inm);
    auto r = c.Get("/ui/app.js", {{"If-None-Match", inm}});
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.size() > 1000);
    CHECK(r->get_header_value("ETag") == app);
  }
  // API answers are not assets: no ETag, and If-None-Match changes nothing.
  CHECK(c.Get("/healthz", {{"If-None-Match", "*"}})->status == 200);

  // On the wire: the 304 ends at its blank line (no Content-Length, no
  // body), so the next response on the same connection follows at once.
  RawClient raw;
  REQUIRE(raw.Connect(server.port(), false));
  REQUIRE(raw.Send("GET /ui/app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + app +
                   "\r\n\r\nHEAD /ui/app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + app +
                   "\r\n\r\nGET /ui/favicon.svg HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(raw.ReadUntil("</svg>", 5000));
  const std::string& wire = raw.received();
  CHECK(wire.rfind("HTTP/1.1 304 Not Modified\r\n", 0) == 0);
  const size_t end1 = wire.find("\r\n\r\n");
  REQUIRE(end1 != std::string::npos);
  const std::string head1 = wire.substr(0, end1);
  CHECK(head1.find("\r\nContent-Length:") == std::string::npos);
  CHECK(head1.find("\r\nContent-Type:") == std::string::npos);
  CHECK(head1.find("ETag: " + app) != std::string::npos);
  CHECK(wire.substr(end1 + 4).rfind("HTTP/1.1 304 Not Modified\r\n", 0) == 0);
  const size_t end2 = wire.find("\r\n\r\n", end1 + 4);
  REQUIRE(end2 != std::string::npos);
  CHECK(wire.substr(end2 + 4).rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
}
