// ParseMultipart: a strict multipart/form-data parser (RFC 7578 over the
// framing of RFC 2046 section 5.1.1) for POST /v1/screen/batch.
//
// Contract (it is a pure function, meant to be fuzzed):
//   - reads only `body` and `content_type`; no I/O, no global state;
//   - on success *parts holds every part in order; each part's `content` is a
//     view into `body` (the caller keeps `body` alive while it uses them);
//   - on failure *parts is empty and the Status names the problem and the
//     part (1-based): Unsupported when content_type is not
//     multipart/form-data or a part has a Content-Encoding, InvalidArgument
//     for everything else;
//   - work is linear in body.size() (delimiters are found with memmem, a
//     two-way search) and memory is O(parts), bounded by limits.max_parts.
//
// Strictness: the boundary parameter must be 1..70 characters of RFC 2046's
// bchars; a delimiter is recognised only at the start of the body or after
// CRLF, and must be followed by "--" (the end) or optional spaces/tabs and
// CRLF, so a boundary that is the prefix of a longer line is an error rather
// than content. Every part needs `Content-Disposition: form-data` with a
// non-empty `name`; header blocks are bounded in bytes and fields; obsolete
// line folding, stray CR/LF and control characters are refused; any
// Content-Transfer-Encoding other than 7bit/8bit/binary is refused, and any
// Content-Encoding other than identity is Unsupported (parts are never
// decompressed, as request bodies are not). A
// preamble before the first delimiter and an epilogue after the last are
// ignored, as RFC 2046 requires.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace server::http {

struct MultipartLimits {
  size_t max_parts = 256;          // parts in one body
  size_t max_header_bytes = 8192;  // one part's header block, line ends included
  size_t max_headers = 16;         // header fields in one part
};

struct MultipartPart {
  std::string name;          // Content-Disposition `name`
  std::string filename;      // Content-Disposition `filename`, "" when absent
  std::string content_type;  // the part's Content-Type as sent (trimmed), "" when absent
  std::string_view content;  // the part's bytes, a view into the body
};

base::Status ParseMultipart(std::string_view body, std::string_view content_type, const MultipartLimits& limits,
                            std::vector<MultipartPart>* parts);

}  // namespace server::http
