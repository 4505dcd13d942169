// The review console's routes (docs/console.md):
//   GET /ui, GET /ui/ and GET /ui/NAME  the embedded page and its assets (server/web_assets.h)
//   POST /ui/api/session                sign in with a reviewer or admin API key
//   GET /ui/api/session                 the current session (for a reloaded page)
//   DELETE /ui/api/session              sign out (needs the CSRF header, server/ui_auth.h)
// With ui.enabled = false every one of them answers 404, as for a route that
// does not exist.
//
// Sign-in and sign-out are audit events (console_sign_in, console_sign_out)
// naming the key, so the log says who could read the matches when. A
// sign-in counts against its key's request rate like any request.
//
// The page's answers carry a strict Content-Security-Policy: scripts, styles
// and requests only from this origin, no inline script or style, no frames,
// no forms posting elsewhere. The page never fetches media.
#include <map>
#include <string_view>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/hex.h"
#include "base/text.h"
#include "server/log.h"
#include "server/request_id.h"
#include "server/routes.h"
#include "server/web_assets.h"

namespace server {

namespace {

constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

bool Disabled(Service& service, ApiResponse* response) {
  if (service.config().ui_enabled) return false;
  response->Error(404, "not_found", "no such route (the console is off: ui.enabled = false)");
  return true;
}

// Secure is left out only where the browser could not send it back: plain
// HTTP, which the config allows on loopback addresses only.
bool SecureCookies(Service& service) { return !service.config().plain_http; }

// Appends a console event about `key_id`; a failure is the caller's 500.
Status AuditEvent(Service& service, const char* event, const std::string& key_id, const std::string& detail) {
  store::AuditEntry e;
  Status s = service.audit()->AppendEvent(event, key_id, detail, &e, std::string(CurrentRequestId()));
  if (!s.ok()) {
    Log(LogLevel::kError, "audit append failed", {{"error", s.ToString()}});
    return s.code() == Status::Code::kNoSpace ? s : Status::IOError("the audit entry could not be written");
  }
  service.metrics().CountEvent(event);
  return Status::Ok();
}

json SessionJson(const store::ApiKey& key, const UiSessions::Session& session) {
  return json{{"role", store::RoleName(key.role)},
              {"key_id", key.id},
              {"csrf_token", session.csrf_token},
              {"expires_ms", session.expires_ms}};
}

// The asset's strong validator: its SHA-256's first 16 bytes in hex, quoted.
// The assets are compiled in, so each is hashed once, on first use.
const std::string& AssetEtag(const WebAsset& asset) {
  static const std::map<std::string_view, std::string> etags = [] {
    std::map<std::string_view, std::string> m;
    for (const WebAsset& a : WebAssets()) {
      const base::Sha256Digest d = base::Sha256(a.bytes);
      std::string tag = "\"";  // appended, not "\"" + ...: GCC 12 warns falsely (-Wrestrict) on that
      tag += base::HexEncode(std::span<const uint8_t>(d.data(), 16));
      tag += '"';
      m.emplace(a.path, std::move(tag));
    }
    return m;
  }();
  return etags.at(asset.path);
}

// If-None-Match (RFC 9110 13.1.2): "*" or a comma-separated list of entity
// tags compared weakly (W/"x" matches "x"). Anything malformed matches
// nothing, so the client gets the whole asset.
bool NoneMatchHits(std::string_view header, std::string_view etag) {
  if (base::TrimBlanks(header) == "*") return true;
  for (std::string_view tag : base::SplitTrimmed(header, ',')) {
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
  }
  return false;
}

}  // namespace

void HandleUiAsset(Service& service, const ApiRequest& request, ApiResponse* response) {
  if (Disabled(service, response)) return;
  const WebAsset* asset = FindWebAsset(request.path);
  if (!asset) {
    response->Error(404, "not_found", "no such route");
    return;
  }
  const std::string& etag = AssetEtag(*asset);
  if (!request.if_none_match.empty() && NoneMatchHits(request.if_none_match, etag)) {
    response->status = 304;  // the browser's copy is this binary's: no body (http/response.h)
    response->content_type.clear();
  } else {
    response->status = 200;
    response->content_type = asset->content_type;
    response->body.assign(asset->bytes);
  }
  response->headers.emplace_back("ETag", etag);
  response->headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  // Revalidated at every load (the files change with the binary); the ETag
  // makes that a 304 without the file when nothing changed.
  response->headers.emplace_back("Cache-Control", "no-cache");
  response->headers.emplace_back("X-Frame-Options", "DENY");
  response->headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
}

void HandleUiRedirect(Service& service, const ApiRequest&, ApiResponse* response) {
  if (Disabled(service, response)) return;
  response->status = 308;
  response->content_type = "text/plain; charset=utf-8";
  response->body = "the console is at /ui/\n";
  response->headers.emplace_back("Location", "/ui/");
}

void HandleUiSessionCreate(Service& service, const ApiRequest& request, ApiResponse* response) {
  if (Disabled(service, response)) return;
  json body;
  std::string secret;
  if (Status s = ParseJsonBody(request.body, {"api_key"}, &body); !s.ok()) return response->FromStatus(s);
  if (Status s = JsonString(body, "api_key", true, &secret); !s.ok()) return response->FromStatus(s);
  store::ApiKey key;
  Status s = service.keys()->Authenticate(secret, &key);
  if (s.code() == Status::Code::kNotFound) {
    return response->Error(401, "unauthenticated", "this API key is not valid (unknown, revoked or expired)");
  }
  if (!s.ok()) {
    Log(LogLevel::kError, "key lookup failed", {{"error", s.ToString()}});
    return response->FromStatus(s);
  }
  if (key.role != store::Role::kReviewer && key.role != store::Role::kAdmin) {
    return response->Error(403, "role_cannot_sign_in",
                           "only reviewer and admin keys can sign in to the console (this key's role is " +
                               std::string(store::RoleName(key.role)) + ")");
  }
  if (int retry_after = 1; !service.limiter().Admit(key.id, &retry_after)) {
    service.metrics().CountRejected("rate_limited");
    response->Error(429, "rate_limited", "too many requests for this key; retry later");
    response->headers.emplace_back("Retry-After", std::to_string(retry_after));
    return;
  }
  std::string token;
  UiSessions::Session session;
  const int64_t now = base::NowMs();
  if (Status c = service.ui_sessions().Create(key.id, now, &token, &session); !c.ok()) {
    return response->Error(503, "too_many_sessions", c.message());
  }
  if (Status a = AuditEvent(service, "console_sign_in", key.id, std::string(store::RoleName(key.role))); !a.ok()) {
    service.ui_sessions().Remove(token);  // no session the log does not show
    return response->FromStatus(a);
  }
  Log(LogLevel::kInfo, "console sign-in", {{"key", key.id}, {"role", std::string(store::RoleName(key.role))}});
  response->Json(200, SessionJson(key, session));
  response->headers.emplace_back(
      "Set-Cookie", SessionCookie(token, service.config().ui_session_ttl_s, SecureCookies(service)));
}

void HandleUiSessionGet(Service& service, const ApiRequest& request, ApiResponse* response) {
  if (Disabled(service, response)) return;
  if (request.ui_session_token.empty()) {
    return response->Error(401, "unauthenticated", "not signed in to the console (no session cookie)");
  }
  response->Json(200, SessionJson(request.key, request.ui_session));
}

void HandleUiSessionDelete(Service& service, const ApiRequest& request, ApiResponse* response) {
  if (Disabled(service, response)) return;
  if (request.ui_session_token.empty()) {
    return response->Error(401, "unauthenticated", "not signed in to the console (no session cookie)");
  }
  service.ui_sessions().Remove(request.ui_session_token);
  if (Status a = AuditEvent(service, "console_sign_out", request.key.id, ""); !a.ok()) return response->FromStatus(a);
  Log(LogLevel::kInfo, "console sign-out", {{"key", request.key.id}});
  response->Json(200, json{{"signed_out", true}});
  response->headers.emplace_back("Set-Cookie", ClearedSessionCookie(SecureCookies(service)));
}

}  // namespace server
