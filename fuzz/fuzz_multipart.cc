// libFuzzer target: ParseMultipart (server/http/multipart.h), the parser of
// POST /v1/screen/batch bodies, with the Content-Type value it is given.
// Input: the Content-Type value, a newline, then the body. A finding is a
// crash or sanitizer report, or a broken contract: a failure that leaves
// parts behind, more parts than the limit, a part without a name, a part
// whose content is not a view into the body, or a part whose content holds
// a delimiter line (a part boundary the parser missed).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/media_type.h"
#include "server/http/multipart.h"

namespace {
void Check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  if (nl == std::string_view::npos) return 0;
  const std::string_view content_type = input.substr(0, nl);
  const std::string_view body = input.substr(nl + 1);
  server::http::MultipartLimits limits;  // small, so the fuzzer reaches each limit
  limits.max_parts = 8;
  limits.max_header_bytes = 512;
  limits.max_headers = 6;
  std::vector<server::http::MultipartPart> parts;
  const base::Status s = server::http::ParseMultipart(body, content_type, limits, &parts);
  if (!s.ok()) {
    Check(parts.empty());
    Check(!s.message().empty());
    return 0;
  }
  Check(parts.size() <= limits.max_parts);
  server::http::MediaType type;
  Check(server::http::ParseMediaType(content_type, &type).ok());
  Check(type.Essence() == "multipart/form-data");
  const std::string* boundary = type.Param("boundary");
  Check(boundary != nullptr && !boundary->empty() && boundary->size() <= 70);
  const std::string delimiter = "\r\n--" + *boundary;
  const char* end = body.data() + body.size();
  for (const auto& part : parts) {
    Check(!part.name.empty());
    Check(part.content.data() >= body.data() && part.content.data() + part.content.size() <= end);
    Check(part.content.find(delimiter) == std::string_view::npos);
  }
  return 0;
}
