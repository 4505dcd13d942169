// UiSessions: the review console's sign-in sessions (docs/console.md). A
// reviewer or admin signs in once with an API key; the browser then holds
// only a session token in an HttpOnly cookie, never the key.
//
// A session token is 256 random bits (64 hex characters). Only its SHA-256
// is kept: a copy of the table (a core dump) gives no usable token, and the
// lookup by digest leaks nothing useful through timing (an attacker cannot
// steer the digest of a guess). The CSRF token of a session is
// HMAC-SHA256(a per-process random key, token), so it is never stored either
// and the page can be told it again after a reload.
//
// A session carries the id of the key that signed in, not its role: the
// caller re-reads the key at every use (SessionKey), so a revoked or expired
// key's sessions stop at once. Sessions live in memory only: a restart signs
// everyone out, which is what a deploy of a new binary should do anyway.
//
// Limits: `ttl_ms` after sign-in a session is gone (no sliding renewal: a
// stolen cookie is good for at most the TTL); at most `max_sessions` live at
// once (a sign-in beyond, after dropping expired ones, is Unavailable), and
// at most kMaxSessionsPerKey per key (a further sign-in of the same key drops
// that key's oldest session, so one key cannot fill the table alone by
// signing in repeatedly).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "store/api_keys.h"

namespace server {

using base::Status;

// The cookie that carries the session token.
inline constexpr std::string_view kSessionCookie = "hs_session";
// The request header that carries the CSRF token.
inline constexpr std::string_view kCsrfHeader = "x-csrf-token";

class UiSessions {
 public:
  static constexpr size_t kMaxSessionsPerKey = 16;

  struct Session {
    std::string key_id;
    int64_t created_ms = 0;
    int64_t expires_ms = 0;
    std::string csrf_token;  // 64 hex characters
  };

  UiSessions(int64_t ttl_ms, size_t max_sessions);
  UiSessions(const UiSessions&) = delete;
  UiSessions& operator=(const UiSessions&) = delete;

  // Starts a session for `key_id` at `now_ms`; *token receives the only copy
  // of its token. Unavailable when max_sessions live sessions remain after
  // expired ones are dropped.
  Status Create(const std::string& key_id, int64_t now_ms, std::string* token, Session* out);
  // The live session of `token`. NotFound for a malformed, unknown, signed
  // out or expired token (an expired one is dropped).
  Status Find(std::string_view token, int64_t now_ms, Session* out);
  // Ends the session of `token` (no-op when there is none).
  void Remove(std::string_view token);
  // Ends every session of `key_id` (the key was revoked or expired).
  void RemoveKey(const std::string& key_id);
  // Whether `csrf` is the CSRF token of `session`, in constant time.
  static bool CsrfMatches(const Session& session, std::string_view csrf);
  size_t size() const;

 private:
  // Caller holds mu_.
  void DropExpired(int64_t now_ms);
  std::string CsrfFor(std::string_view token) const;

  const int64_t ttl_ms_;
  const size_t max_sessions_;
  std::array<uint8_t, 32> csrf_key_{};
  mutable std::mutex mu_;
  std::unordered_map<std::string, Session> by_digest_;  // SHA-256(token) bytes -> session
};

// The value of cookie `name` in the request's Cookie header values, or ""
// (RFC 6265 section 5.4 syntax: "a=b; c=d"; the first occurrence wins).
std::string CookieValue(const std::vector<std::string>& cookie_headers, std::string_view name);

// The Set-Cookie value that installs `token` for `max_age_s` seconds
// (HttpOnly, SameSite=Strict, Path=/, Secure unless `secure` is false), and
// the one that deletes the cookie.
std::string SessionCookie(const std::string& token, int64_t max_age_s, bool secure);
std::string ClearedSessionCookie(bool secure);

}  // namespace server
