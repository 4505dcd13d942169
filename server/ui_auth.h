// UiAuth: authentication of a request by the review console's session
// cookie (server/ui_session.h), the alternative to `Authorization: Bearer`
// for every route that needs a key.
//
// A request with a bearer key never looks at the cookie. One with the cookie
// `hs_session` gets the role of the key that signed in, read again at every
// request: a revoked or expired key's sessions end here, at once. A request
// that is not GET or HEAD must carry the session's CSRF token in the
// X-CSRF-Token header (the cookie is sent by the browser on its own; the
// header only by the console's script, which alone can read the token).
// SameSite=Strict already keeps other sites' requests from carrying the
// cookie; the header is the second, independent guard.
//
// Thread-safety: as Service.
#pragma once

#include "server/api.h"
#include "server/http/request_parser.h"
#include "server/service.h"

namespace server {

enum class UiAuthResult {
  kNoCookie,         // no session cookie: the caller needs a bearer key
  kOk,               // api->key, api->ui_session(_token) are set
  kUnauthenticated,  // unknown, malformed, signed out or expired session, or its key revoked
  kCsrfFailed,       // a state-changing request without the session's CSRF token
};

// Disabled console (ui.enabled = false): always kNoCookie.
UiAuthResult AuthenticateUiSession(Service& service, const http::RequestHead& head, ApiRequest* api);

}  // namespace server
