// libFuzzer target: ParseMediaType and ParseHeaderParameters
// (server/http/media_type.h), which read every request's Content-Type (the
// route's 415 decision, the multipart boundary) and each multipart part's
// Content-Disposition. A finding is a crash or sanitizer report, or a
// result that breaks the contract: a type or subtype that is empty, not a
// token, or not lower-case; a parameter name likewise, or given twice; a
// value with a control character; or a result that does not survive being
// written out canonically (`type/subtype; name="value"`) and parsed again.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/http/media_type.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckToken(const std::string& t) {
  Check(!t.empty());
  for (char c : t) Check(server::http::IsTokenChar(c) && !(c >= 'A' && c <= 'Z'));
}

void CheckParams(const std::vector<std::pair<std::string, std::string>>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    CheckToken(params[i].first);
    for (char c : params[i].second) Check(!((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f));
    for (size_t j = 0; j < i; ++j) Check(params[j].first != params[i].first);
  }
}

std::string Canonical(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    out += "; " + name + "=\"";
    for (char c : value) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  server::http::MediaType type;
  if (server::http::ParseMediaType(text, &type).ok()) {
    CheckToken(type.type);
    CheckToken(type.subtype);
    CheckParams(type.params);
    server::http::MediaType again;
    Check(server::http::ParseMediaType(type.Essence() + Canonical(type.params), &again).ok());
    Check(again.type == type.type && again.subtype == type.subtype && again.params == type.params);
  }
  std::vector<std::pair<std::string, std::string>> params;
  if (server::http::ParseHeaderParameters(text, &params).ok()) {
    CheckParams(params);
    std::vector<std::pair<std::string, std::string>> again;
    Check(server::http::ParseHeaderParameters(Canonical(params), &again).ok());
    Check(again == params);
  }
  return 0;
}
