#include "server/http/multipart.h"

#include <string.h>

#include "server/http/media_type.h"

namespace server::http {

using base::Status;

namespace {

bool IsBoundaryChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '\'': case '(': case ')': case '+': case '_': case ',': case '-': case '.': case '/':
    case ':': case '=': case '?': case ' ':
      return true;
    default:
      return false;
  }
}

Status CheckBoundary(const std::string& b) {
  if (b.empty() || b.size() > 70) return Status::InvalidArgument("the multipart boundary must be 1 to 70 characters");
  for (char c : b) {
    if (!IsBoundaryChar(c)) return Status::InvalidArgument("the multipart boundary holds a character RFC 2046 does not allow");
  }
  if (b.back() == ' ') return Status::InvalidArgument("the multipart boundary must not end with a space");
  return Status::Ok();
}

// Offset of `needle` in `hay` at or after `from`, or npos. Linear time.
size_t Find(std::string_view hay, std::string_view needle, size_t from) {
  if (from > hay.size()) return std::string_view::npos;
  const void* p = memmem(hay.data() + from, hay.size() - from, needle.data(), needle.size());
  return p ? static_cast<size_t>(static_cast<const char*>(p) - hay.data()) : std::string_view::npos;
}

Status PartError(size_t index, const std::string& what) {
  return Status::InvalidArgument("multipart part " + std::to_string(index) + ": " + what);
}

// Parses one part's header block (without its final empty line).
Status ParsePartHeaders(std::string_view block, size_t index, const MultipartLimits& limits, MultipartPart* part) {
  bool disposition = false, type = false;
  size_t fields = 0;
  while (!block.empty()) {
    size_t eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
    if (++fields > limits.max_headers) {
      return PartError(index, "more than " + std::to_string(limits.max_headers) + " header fields");
    }
    if (line.empty()) return PartError(index, "empty header line");
    if (line.front() == ' ' || line.front() == '\t') return PartError(index, "obsolete header line folding");
    for (char c : line) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        return PartError(index, "control character (or a stray CR/LF) in a header");
      }
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return PartError(index, "header line without a field name");
    std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!IsTokenChar(c)) return PartError(index, "invalid header field name");
    }
    std::string_view value = TrimSpace(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "content-disposition")) {
      if (disposition) return PartError(index, "Content-Disposition given twice");
      disposition = true;
      size_t semi = value.find(';');
      std::string_view kind = TrimSpace(value.substr(0, semi));
      if (!EqualsIgnoreCase(kind, "form-data")) return PartError(index, "Content-Disposition is not form-data");
      std::vector<std::pair<std::string, std::string>> params;
      if (semi != std::string_view::npos) {
        Status s = ParseHeaderParameters(value.substr(semi), &params);
        if (!s.ok()) return PartError(index, "Content-Disposition: " + s.message());
      }
      bool named = false;
      for (auto& [k, v] : params) {
        if (k == "name") {
          part->name = std::move(v);
          named = true;
        } else if (k == "filename") {
          part->filename = std::move(v);
        }
      }
      if (!named || part->name.empty()) return PartError(index, "Content-Disposition has no name");
    } else if (EqualsIgnoreCase(name, "content-type")) {
      if (type) return PartError(index, "Content-Type given twice");
      type = true;
      part->content_type = std::string(value);
    } else if (EqualsIgnoreCase(name, "content-encoding")) {
      // As for a whole request body: nothing is decompressed (a compressed
      // part would bypass the body limit), and bytes taken as they are
      // would be hashed as garbage, so a coding is refused, not ignored.
      std::string_view rest = value;
      while (!rest.empty()) {
        size_t comma = rest.find(',');
        std::string_view coding = TrimSpace(rest.substr(0, comma));
        rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
        if (!coding.empty() && !EqualsIgnoreCase(coding, "identity")) {
          return Status::Unsupported("multipart part " + std::to_string(index) + ": Content-Encoding " +
                                     std::string(coding) + " is not supported (parts are not decompressed)");
        }
      }
    } else if (EqualsIgnoreCase(name, "content-transfer-encoding")) {
      if (!EqualsIgnoreCase(value, "binary") && !EqualsIgnoreCase(value, "8bit") && !EqualsIgnoreCase(value, "7bit")) {
        return PartError(index, "Content-Transfer-Encoding " + std::string(value) + " is not supported (send the bytes as they are)");
      }
    }
  }
  if (!disposition) return PartError(index, "no Content-Disposition header");
  return Status::Ok();
}

Status Parse(std::string_view body, std::string_view content_type, const MultipartLimits& limits,
             std::vector<MultipartPart>* parts) {
  MediaType media;
  Status s = ParseMediaType(content_type, &media);
  if (!s.ok() || media.Essence() != "multipart/form-data") {
    return Status::Unsupported("the body must be multipart/form-data");
  }
  const std::string* boundary = media.Param("boundary");
  if (!boundary) return Status::InvalidArgument("multipart/form-data without a boundary parameter");
  HS_RETURN_IF_ERROR(CheckBoundary(*boundary));
  const std::string delimiter = "--" + *boundary;
  const std::string inner = "\r\n" + delimiter;  // a delimiter after content

  size_t pos = 0;
  if (body.substr(0, delimiter.size()) != delimiter) {
    size_t first = Find(body, inner, 0);
    if (first == std::string_view::npos) return Status::InvalidArgument("the body holds no multipart boundary line");
    pos = first + 2;  // the preamble is ignored
  }
  for (;;) {
    pos += delimiter.size();
    const size_t index = parts->size() + 1;
    if (body.substr(pos, 2) == "--") return Status::Ok();  // close delimiter; the epilogue is ignored
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (pos >= body.size()) return Status::InvalidArgument("the body ends without the closing boundary");
    if (body.substr(pos, 2) != "\r\n") {
      return PartError(index, "the boundary line is not followed by CRLF (a boundary must not start another line)");
    }
    pos += 2;
    if (parts->size() == limits.max_parts) {
      return Status::InvalidArgument("the body holds more than " + std::to_string(limits.max_parts) + " parts");
    }
    MultipartPart part;
    size_t content_start;
    if (body.substr(pos, 2) == "\r\n") {
      content_start = pos + 2;  // no headers at all: refused below (no Content-Disposition)
      HS_RETURN_IF_ERROR(ParsePartHeaders({}, index, limits, &part));
    } else {
      std::string_view window = body.substr(pos, limits.max_header_bytes + 4);
      size_t end = window.find("\r\n\r\n");
      if (end == std::string_view::npos) {
        if (body.size() - pos < limits.max_header_bytes + 4) return PartError(index, "the header block is not terminated");
        return PartError(index, "the header block is over " + std::to_string(limits.max_header_bytes) + " bytes");
      }
      HS_RETURN_IF_ERROR(ParsePartHeaders(window.substr(0, end), index, limits, &part));
      content_start = pos + end + 4;
    }
    size_t next = Find(body, inner, content_start);
    if (next == std::string_view::npos) {
      return PartError(index, "not terminated by the boundary (is the body truncated?)");
    }
    part.content = body.substr(content_start, next - content_start);
    parts->push_back(std::move(part));
    pos = next + 2;
  }
}

}  // namespace

Status ParseMultipart(std::string_view body, std::string_view content_type, const MultipartLimits& limits,
                      std::vector<MultipartPart>* parts) {
  parts->clear();
  Status s = Parse(body, content_type, limits, parts);
  if (!s.ok()) parts->clear();
  return s;
}

}  // namespace server::http
