#include "server/ui_session.h"

#include <algorithm>
#include <vector>

#include "base/crypto.h"
#include "base/hex.h"

namespace server {

namespace {

constexpr size_t kTokenBytes = 32;

bool IsTokenShaped(std::string_view token) {
  if (token.size() != 2 * kTokenBytes) return false;
  return std::all_of(token.begin(), token.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string DigestOf(std::string_view token) { return std::string(base::AsBytes(base::Sha256(token))); }

}  // namespace

UiSessions::UiSessions(int64_t ttl_ms, size_t max_sessions) : ttl_ms_(ttl_ms), max_sessions_(max_sessions) {
  base::RandomBytes(csrf_key_);
}

std::string UiSessions::CsrfFor(std::string_view token) const {
  return base::HexEncode(base::HmacSha256(base::AsBytes(csrf_key_), token));
}

void UiSessions::DropExpired(int64_t now_ms) {
  std::erase_if(by_digest_, [&](const auto& entry) { return entry.second.expires_ms <= now_ms; });
}

Status UiSessions::Create(const std::string& key_id, int64_t now_ms, std::string* token, Session* out) {
  std::array<uint8_t, kTokenBytes> random{};
  base::RandomBytes(random);
  std::string fresh = base::HexEncode(random);
  Session session{key_id, now_ms, now_ms + ttl_ms_, CsrfFor(fresh)};
  std::lock_guard<std::mutex> lock(mu_);
  DropExpired(now_ms);
  // The key's own sessions, oldest first: beyond its share the oldest goes.
  std::vector<decltype(by_digest_)::iterator> own;
  for (auto it = by_digest_.begin(); it != by_digest_.end(); ++it) {
    if (it->second.key_id == key_id) own.push_back(it);
  }
  if (own.size() >= kMaxSessionsPerKey) {
    auto oldest = std::min_element(own.begin(), own.end(),
                                   [](const auto& a, const auto& b) { return a->second.created_ms < b->second.created_ms; });
    by_digest_.erase(*oldest);
  }
  if (by_digest_.size() >= max_sessions_) {
    return Status::Unavailable("the console has " + std::to_string(max_sessions_) +
                               " live sessions (ui.max_sessions): sign in again when some have ended");
  }
  by_digest_.emplace(DigestOf(fresh), session);
  *token = std::move(fresh);
  *out = std::move(session);
  return Status::Ok();
}

Status UiSessions::Find(std::string_view token, int64_t now_ms, Session* out) {
  if (!IsTokenShaped(token)) return Status::NotFound("no session");
  const std::string digest = DigestOf(token);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_digest_.find(digest);
  if (it == by_digest_.end()) return Status::NotFound("no session");
  if (it->second.expires_ms <= now_ms) {
    by_digest_.erase(it);
    return Status::NotFound("no session");
  }
  *out = it->second;
  return Status::Ok();
}

void UiSessions::Remove(std::string_view token) {
  if (!IsTokenShaped(token)) return;
  const std::string digest = DigestOf(token);
  std::lock_guard<std::mutex> lock(mu_);
  by_digest_.erase(digest);
}

void UiSessions::RemoveKey(const std::string& key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(by_digest_, [&](const auto& entry) { return entry.second.key_id == key_id; });
}

bool UiSessions::CsrfMatches(const Session& session, std::string_view csrf) {
  return base::ConstantTimeEquals(session.csrf_token, csrf);
}

size_t UiSessions::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_digest_.size();
}

std::string CookieValue(const std::vector<std::string>& cookie_headers, std::string_view name) {
  for (const std::string& header : cookie_headers) {
    std::string_view rest = header;
    while (!rest.empty()) {
      const size_t semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest.remove_prefix(semi == std::string_view::npos ? rest.size() : semi + 1);
      while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
      std::string_view value = pair.substr(eq + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      return std::string(value);
    }
  }
  return {};
}

std::string SessionCookie(const std::string& token, int64_t max_age_s, bool secure) {
  return std::string(kSessionCookie) + "=" + token + "; Max-Age=" + std::to_string(max_age_s) +
         "; Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "");
}

std::string ClearedSessionCookie(bool secure) {
  return std::string(kSessionCookie) + "=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "");
}

}  // namespace server
