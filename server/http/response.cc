#include "server/http/response.h"

#include <http_parser.h>

#include <nlohmann/json.hpp>

#include "server/request_id.h"

namespace server::http {

namespace {

bool Safe(const std::string& s) { return s.find_first_of("\r\n") == std::string::npos; }

}  // namespace

std::string SerializeResponse(const Response& r, bool keep_alive, bool http10, bool head_only) {
  std::string out;
  out.reserve(160 + r.body.size());
  out += http10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  const char* reason = http_status_str(static_cast<http_status>(r.status));
  out += reason && *reason && std::string_view(reason) != "<unknown>" ? reason : "Status";
  out += "\r\n";
  // 1xx, 204 and 304 answers end at their header (RFC 9112 6.3): no body, and
  // no Content-Length, which in a 304 would have to be the 200's length.
  const bool bodiless = (r.status >= 100 && r.status < 200) || r.status == 204 || r.status == 304;
  if (!r.content_type.empty() && Safe(r.content_type) && !bodiless) out += "Content-Type: " + r.content_type + "\r\n";
  if (!bodiless) out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  for (const auto& [name, value] : r.headers) {
    if (!Safe(name) || !Safe(value) || name.empty()) continue;
    out += name + ": " + value + "\r\n";
  }
  if (!keep_alive) out += "Connection: close\r\n";
  else if (http10) out += "Connection: keep-alive\r\n";
  out += "\r\n";
  if (!head_only && !bodiless) out += r.body;
  return out;
}

Response ErrorResponse(int status, const std::string& code, const std::string& message) {
  Response r;
  r.status = status;
  nlohmann::json error{{"code", code}, {"message", message}};
  if (std::string_view id = CurrentRequestId(); !id.empty()) error["request_id"] = id;
  nlohmann::json j{{"error", std::move(error)}};
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

}  // namespace server::http
