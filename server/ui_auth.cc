#include "server/ui_auth.h"

#include "base/clock.h"

namespace server {

UiAuthResult AuthenticateUiSession(Service& service, const http::RequestHead& head, ApiRequest* api) {
  if (!service.config().ui_enabled) return UiAuthResult::kNoCookie;
  std::vector<std::string> cookies;
  for (const auto& [name, value] : head.headers) {
    if (name == "cookie") cookies.push_back(value);
  }
  const std::string token = CookieValue(cookies, kSessionCookie);
  if (token.empty()) return UiAuthResult::kNoCookie;
  const int64_t now = base::NowMs();
  UiSessions::Session session;
  if (!service.ui_sessions().Find(token, now, &session).ok()) return UiAuthResult::kUnauthenticated;
  store::ApiKey key;
  // As a bearer key is, every time: revoked or expired ends its sessions,
  // and the use is noted (last_used_ms).
  if (!service.keys()->AuthenticateId(session.key_id, &key).ok()) {
    service.ui_sessions().RemoveKey(session.key_id);
    return UiAuthResult::kUnauthenticated;
  }
  if (head.method != "GET" && head.method != "HEAD") {
    const std::string* csrf = head.Header(kCsrfHeader);
    if (!csrf || !UiSessions::CsrfMatches(session, *csrf)) return UiAuthResult::kCsrfFailed;
  }
  api->key = std::move(key);
  api->ui_session_token = token;
  api->ui_session = std::move(session);
  return UiAuthResult::kOk;
}

}  // namespace server
