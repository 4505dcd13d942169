// The HTTP-independent shape of one API call. The HTTP layer
// (http_server.cc over server/http/) fills an ApiRequest, authenticates it, and hands it to a route handler, which fills
// an ApiResponse. Handlers can thus be read and tested without a socket.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "server/ui_session.h"
#include "store/api_keys.h"

namespace server {

using base::Status;
using nlohmann::json;

struct ApiRequest {
  std::string method;
  std::string path;
  std::vector<std::string> path_args;              // the route pattern's captures
  std::multimap<std::string, std::string> params;  // query string
  std::string content_type;
  std::string accept;  // the Accept header
  std::string if_none_match;  // the If-None-Match header (the console's assets answer 304 on a match)
  std::string body;
  bool body_too_large = false;  // the body exceeded limits.max_body_bytes and was cut off
  uint64_t body_bytes = 0;      // bytes the client sent or announced (also when cut off)
  struct Part {
    std::string name, filename, content_type;
    std::string_view content;  // a view into `body`
  };
  std::vector<Part> parts;  // multipart/form-data parts
  store::ApiKey key;        // the authenticated caller
  std::string request_id;   // server/request_id.h: valid X-Request-Id or generated
  // Set when the caller authenticated with the console's session cookie
  // instead of a bearer key (server/ui_auth.h): the token and its session.
  std::string ui_session_token;
  UiSessions::Session ui_session;

  // The first value of query parameter `name`, or "".
  std::string Param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  }
  bool HasParam(const std::string& name) const { return params.count(name) != 0; }
};

struct ApiResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;

  void Json(int s, const json& j);
  // {"error": {"code": code, "message": message, "request_id": ...}} plus the
  // members of `details` (an object), e.g. /readyz's "reason". request_id is
  // the current request's (server/request_id.h), left out outside a request.
  void Error(int s, const std::string& code, const std::string& message, const json& details = json::object());
  // Maps a Status to its HTTP status and error body.
  void FromStatus(const Status& status);
};

int HttpStatusFor(const Status& status);
// JSON text that never throws: invalid UTF-8 in stored strings is replaced.
std::string DumpJson(const json& j);

// Parses a request body: a JSON object whose fields are all in `fields`.
// InvalidArgument, naming the key, for a key that appears twice in any object
// at any depth (no "last one wins": a proxy or log reading the first value
// would see another request than the one executed), and for a top-level
// field not in `fields` (a typo must not silently do something else).
Status ParseJsonBody(const std::string& body, std::initializer_list<std::string_view> fields, json* out);
// Refuses a field of object `j` not in `fields`, naming it (`where` prefixes the message).
Status RefuseUnknownFields(const json& j, std::initializer_list<std::string_view> fields, const std::string& where = "");

// Typed field access on a request body without exceptions. Missing optional
// fields leave *out untouched; a wrong type is InvalidArgument naming the field.
Status JsonString(const json& j, const char* field, bool required, std::string* out);
Status JsonInt(const json& j, const char* field, bool required, int64_t* out);
Status JsonBool(const json& j, const char* field, bool required, bool* out);

// Parses a non-negative decimal integer query/path value; InvalidArgument naming `what`.
Status ParseU64(const std::string& text, const char* what, uint64_t* out);

}  // namespace server
