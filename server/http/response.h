// Response: what the front writes back for one request, and its wire form.
// The status line, Content-Type, Content-Length and Connection are written by
// SerializeResponse; `headers` are extra fields (Retry-After,
// WWW-Authenticate, Allow). Header names and values come from the
// application, never from the client; a CR or LF in one is dropped rather
// than written, so no response can be split.
//
// Thread-safety: plain values.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace server::http {

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Close the connection after this response (and, when the request's body
  // was not read, discard what the client still sends for a moment first).
  bool close = false;
};

// The response as bytes: status line, fields, blank line and (unless
// `head_only`, for HEAD requests) the body. A 1xx, 204 or 304 response is
// written without Content-Type, Content-Length or body, whatever `body` holds. `keep_alive` writes
// "Connection: keep-alive" for HTTP/1.0 clients and nothing for HTTP/1.1;
// otherwise "Connection: close".
std::string SerializeResponse(const Response& response, bool keep_alive, bool http10, bool head_only);

// {"error":{"code":code,"message":message,"request_id":...}} with `status`,
// as every error of the API looks (request_id: server/request_id.h's
// current id, left out when there is none).
Response ErrorResponse(int status, const std::string& code, const std::string& message);

}  // namespace server::http
