// UiSessions (server/ui_session.h) without a server: tokens, expiry, the
// caps, sign-out, the CSRF token, cookie parsing and the Set-Cookie values;
// and the embedded console (server/web_assets.h): its size budget.
#include <doctest/doctest.h>

#include <set>

#include "server/ui_session.h"
#include "server/web_assets.h"

using server::UiSessions;

TEST_CASE("ui sessions: a 256-bit token, found until it expires, with a CSRF token that is not the token") {
  UiSessions sessions(/*ttl_ms=*/1000, /*max_sessions=*/10);
  std::string token;
  UiSessions::Session s;
  REQUIRE(sessions.Create("00000000000000aa", 5000, &token, &s).ok());
  CHECK(token.size() == 64);
  CHECK(token.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(s.expires_ms == 6000);
  CHECK(s.csrf_token.size() == 64);
  CHECK(s.csrf_token != token);
  UiSessions::Session found;
  REQUIRE(sessions.Find(token, 5999, &found).ok());
  CHECK(found.key_id == "00000000000000aa");
  CHECK(found.csrf_token == s.csrf_token);
  CHECK(UiSessions::CsrfMatches(found, s.csrf_token));
  CHECK_FALSE(UiSessions::CsrfMatches(found, ""));
  CHECK_FALSE(UiSessions::CsrfMatches(found, s.csrf_token.substr(1)));
  CHECK(sessions.Find(token, 6000, &found).code() == base::Status::Code::kNotFound);  // expired
  CHECK(sessions.size() == 0);                                                    // and dropped

  std::string other;
  REQUIRE(sessions.Create("00000000000000aa", 5000, &other, &s).ok());
  CHECK(other != token);
}

TEST_CASE("ui sessions: malformed, forged and signed-out tokens are not found") {
  UiSessions sessions(60000, 10);
  std::string token;
  UiSessions::Session s, found;
  REQUIRE(sessions.Create("00000000000000aa", 0, &token, &s).ok());
  std::string upper = token;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string flipped = token;
  flipped[10] = flipped[10] == '0' ? '1' : '0';
  for (const std::string& bad : {std::string(), std::string(64, '0'), token.substr(0, 63), token + "0", upper, flipped,
                                 std::string(1 << 16, 'a'), std::string("../../etc/passwd")}) {
    CHECK(sessions.Find(bad, 1, &found).code() == base::Status::Code::kNotFound);
  }
  REQUIRE(sessions.Find(token, 1, &found).ok());
  sessions.Remove(token);
  CHECK(sessions.Find(token, 1, &found).code() == base::Status::Code::kNotFound);
}

TEST_CASE("ui sessions: the table is capped, one key holds at most its share, a revoked key's sessions go") {
  UiSessions sessions(60000, 3);
  std::string t1, t2, t3, t4;
  UiSessions::Session s, found;
  REQUIRE(sessions.Create("00000000000000aa", 0, &t1, &s).ok());
  REQUIRE(sessions.Create("00000000000000bb", 1, &t2, &s).ok());
  REQUIRE(sessions.Create("00000000000000bb", 2, &t3, &s).ok());
  CHECK(sessions.Create("00000000000000cc", 3, &t4, &s).code() == base::Status::Code::kUnavailable);
  CHECK(sessions.size() == 3);
  // Expired sessions make room.
  REQUIRE(sessions.Create("00000000000000cc", 70000, &t4, &s).ok());
  CHECK(sessions.size() == 1);

  UiSessions many(60000, 1000);
  std::vector<std::string> tokens(UiSessions::kMaxSessionsPerKey + 1);
  for (size_t i = 0; i < tokens.size(); ++i) REQUIRE(many.Create("00000000000000aa", static_cast<int64_t>(i), &tokens[i], &s).ok());
  CHECK(many.size() == UiSessions::kMaxSessionsPerKey);
  CHECK(many.Find(tokens[0], 100, &found).code() == base::Status::Code::kNotFound);  // the oldest went
  CHECK(many.Find(tokens[1], 100, &found).ok());
  REQUIRE(many.Create("00000000000000bb", 100, &t1, &s).ok());
  many.RemoveKey("00000000000000aa");
  CHECK(many.size() == 1);
  CHECK(many.Find(t1, 100, &found).ok());
}

TEST_CASE("ui sessions: the cookie is read from any Cookie header, the first occurrence wins, lookalikes do not") {
  using server::CookieValue;
  CHECK(CookieValue({"hs_session=abc"}, "hs_session") == "abc");
  CHECK(CookieValue({"a=1; hs_session=abc; b=2"}, "hs_session") == "abc");
  CHECK(CookieValue({"a=1", "hs_session=second"}, "hs_session") == "second");
  CHECK(CookieValue({"hs_session=first; hs_session=second"}, "hs_session") == "first");
  CHECK(CookieValue({"xhs_session=abc; hs_sessionx=def"}, "hs_session").empty());
  CHECK(CookieValue({"hs_session"}, "hs_session").empty());
  CHECK(CookieValue({";;; ; =; hs_session=  x  "}, "hs_session") == "x");
  CHECK(CookieValue({}, "hs_session").empty());
}

TEST_CASE("ui sessions: the cookie is HttpOnly, SameSite=Strict, Path=/, and Secure unless told otherwise") {
  const std::string c = server::SessionCookie(std::string(64, 'a'), 28800, true);
  CHECK(c.rfind("hs_session=" + std::string(64, 'a') + ";", 0) == 0);
  for (const char* attr : {"; HttpOnly", "; SameSite=Strict", "; Path=/", "; Secure", "; Max-Age=28800"}) {
    CAPTURE(attr);
    CHECK(c.find(attr) != std::string::npos);
  }
  CHECK(server::SessionCookie("t", 1, false).find("Secure") == std::string::npos);
  CHECK(server::ClearedSessionCookie(true).find("Max-Age=0") != std::string::npos);
}

TEST_CASE("the embedded console is the page, its style and its modules, under 150 KB in all") {
  size_t total = 0;
  std::set<std::string> paths;
  for (const auto& a : server::WebAssets()) {
    total += a.bytes.size();
    paths.insert(a.path);
    CHECK(!a.bytes.empty());
  }
  CHECK(paths.count("/ui/index.html") == 1);
  CHECK(paths.count("/ui/app.js") == 1);
  CHECK(paths.count("/ui/console.css") == 1);
  CHECK(server::FindWebAsset("/ui/") == server::FindWebAsset("/ui/index.html"));
  CHECK(server::FindWebAsset("/ui/../CMakeLists.txt") == nullptr);
  MESSAGE("console size: " << total << " bytes in " << paths.size() << " files");
  CHECK(total < 150 * 1024);
}
