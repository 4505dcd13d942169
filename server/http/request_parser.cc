#include "server/http/request_parser.h"

#include "server/http/media_type.h"

namespace server::http {

const std::string* RequestHead::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

size_t RequestHead::HeaderCount(std::string_view lower_name) const {
  size_t n = 0;
  for (const auto& h : headers) n += h.first == lower_name;
  return n;
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void RequestParser::SetMaxHeadBytes(size_t bytes) { http_parser_set_max_header_size(static_cast<uint32_t>(bytes)); }

RequestParser::RequestParser(const Limits& limits) : limits_(limits) {
  http_parser_settings_init(&settings_);
  settings_.on_message_begin = &RequestParser::OnMessageBegin;
  settings_.on_url = &RequestParser::OnUrl;
  settings_.on_header_field = &RequestParser::OnHeaderField;
  settings_.on_header_value = &RequestParser::OnHeaderValue;
  settings_.on_headers_complete = &RequestParser::OnHeadersComplete;
  settings_.on_body = &RequestParser::OnBody;
  settings_.on_message_complete = &RequestParser::OnMessageComplete;
  Reset();
}

void RequestParser::Reset() {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
  state_ = State::kHead;
  started_ = false;
  head_ = RequestHead();
  field_.clear();
  value_.clear();
  in_value_ = false;
  body_ = nullptr;
  max_body_ = 0;
  body_bytes_ = 0;
  over_limit_ = false;
  error_status_ = 0;
  error_message_.clear();
}

void RequestParser::Fail(int status, std::string message) {
  if (state_ == State::kError) return;
  state_ = State::kError;
  error_status_ = status;
  error_message_ = std::move(message);
}

void RequestParser::FailFromParser() {
  auto err = HTTP_PARSER_ERRNO(&parser_);
  switch (err) {
    case HPE_HEADER_OVERFLOW:
      return Fail(431, "the request head is over " + std::to_string(limits_.max_head_bytes) + " bytes");
    case HPE_INVALID_TRANSFER_ENCODING:
      return Fail(400, "Transfer-Encoding must end with chunked");
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      return Fail(400, "Content-Length together with Transfer-Encoding, or given twice");
    case HPE_INVALID_CONTENT_LENGTH:
      return Fail(400, "invalid Content-Length");
    case HPE_INVALID_METHOD:
      return Fail(501, "unknown HTTP method");
    case HPE_INVALID_CHUNK_SIZE:
      return Fail(400, "invalid chunk size in the chunked body");
    default:
      return Fail(400, std::string("malformed request: ") + http_errno_description(err));
  }
}

size_t RequestParser::ParseHead(std::string_view data) {
  if (state_ != State::kHead || data.empty()) return 0;
  size_t n = http_parser_execute(&parser_, &settings_, data.data(), data.size());
  head_.head_bytes += n;
  auto err = HTTP_PARSER_ERRNO(&parser_);
  if (state_ == State::kError) return n;  // a callback refused the head
  if (err == HPE_PAUSED && state_ == State::kHeadDone) return n;
  if (err != HPE_OK) FailFromParser();
  return n;
}

size_t RequestParser::ParseBody(std::string_view data, std::string* body, uint64_t max_body) {
  if (state_ == State::kHeadDone) {
    http_parser_pause(&parser_, 0);
    state_ = State::kBody;
  }
  if (state_ != State::kBody || over_limit_ || data.empty()) return 0;
  body_ = body;
  max_body_ = max_body;
  size_t n = http_parser_execute(&parser_, &settings_, data.data(), data.size());
  body_ = nullptr;
  auto err = HTTP_PARSER_ERRNO(&parser_);
  if (err == HPE_PAUSED && state_ == State::kComplete) return n;
  if (err == HPE_CB_body && over_limit_) return n;
  if (err != HPE_OK) FailFromParser();
  return n;
}

int RequestParser::OnMessageBegin(http_parser* p) {
  static_cast<RequestParser*>(p->data)->started_ = true;
  return 0;
}

int RequestParser::OnUrl(http_parser* p, const char* at, size_t n) {
  auto* self = static_cast<RequestParser*>(p->data);
  self->head_.target.append(at, n);
  return 0;
}

bool RequestParser::FinishField() {
  if (field_.empty()) return true;
  for (char c : field_) {
    if (!IsTokenChar(c)) {
      // Whitespace before the colon is how request smuggling starts (RFC 9112 section 5.1).
      Fail(400, "invalid header field name '" + field_ + "'");
      return false;
    }
  }
  if (head_.headers.size() >= limits_.max_headers) {
    Fail(431, "more than " + std::to_string(limits_.max_headers) + " header fields");
    return false;
  }
  head_.headers.emplace_back(AsciiLower(field_), std::string(TrimSpace(value_)));
  field_.clear();
  value_.clear();
  return true;
}

int RequestParser::OnHeaderField(http_parser* p, const char* at, size_t n) {
  auto* self = static_cast<RequestParser*>(p->data);
  if (self->state_ != State::kHead) return 0;  // trailer fields of a chunked body are ignored
  if (self->in_value_) {
    if (!self->FinishField()) return 1;
    self->in_value_ = false;
  }
  self->field_.append(at, n);
  return 0;
}

int RequestParser::OnHeaderValue(http_parser* p, const char* at, size_t n) {
  auto* self = static_cast<RequestParser*>(p->data);
  if (self->state_ != State::kHead) return 0;
  self->in_value_ = true;
  self->value_.append(at, n);
  return 0;
}

bool RequestParser::FinishHead() {
  if (in_value_ && !FinishField()) return false;
  in_value_ = false;
  head_.method = http_method_str(static_cast<http_method>(parser_.method));
  head_.version_major = parser_.http_major;
  head_.version_minor = parser_.http_minor;
  if (head_.version_major != 1) {
    Fail(505, "only HTTP/1.0 and HTTP/1.1 are served");
    return false;
  }
  if (parser_.upgrade) {
    Fail(501, "protocol upgrades and CONNECT are not supported");
    return false;
  }
  head_.keep_alive = http_should_keep_alive(&parser_) != 0;
  head_.chunked = (parser_.flags & F_CHUNKED) != 0;
  if (parser_.flags & F_CONTENTLENGTH) head_.content_length = parser_.content_length;
  // Fields whose value decides who is asking, where, or what the body is:
  // two copies are ambiguous (a proxy or log may read the other one), so
  // the request is refused rather than one of them picked.
  for (std::string_view single : {"authorization", "host", "content-type", "content-length"}) {
    if (head_.HeaderCount(single) > 1) {
      Fail(400, "header field '" + std::string(single) + "' given more than once");
      return false;
    }
  }
  // Transfer-Encoding lines form one comma list (RFC 9110 5.3), however it
  // is split over lines. http-parser accepts any codings before the final
  // chunked; hashscreend decodes none (a compressed transfer would bypass
  // the body limit), and chunked may appear once (RFC 9112 6.1).
  size_t chunked = 0;
  for (const auto& [name, value] : head_.headers) {
    if (name != "transfer-encoding") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view coding = TrimSpace(rest.substr(0, comma));
      rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
      if (coding.empty()) continue;
      if (!EqualsIgnoreCase(coding, "chunked")) {
        Fail(501, "transfer coding '" + std::string(coding) + "' is not supported (only chunked)");
        return false;
      }
      ++chunked;
    }
  }
  if (chunked > 1) {
    Fail(400, "Transfer-Encoding: chunked given more than once");
    return false;
  }
  http_parser_url url;
  http_parser_url_init(&url);
  if (head_.target == "*") {
    head_.path.assign(1, '*');
    return true;
  }
  if (http_parser_parse_url(head_.target.data(), head_.target.size(), 0, &url) != 0) {
    Fail(400, "malformed request target");
    return false;
  }
  auto field = [&](int f) -> std::string_view {
    if (!(url.field_set & (1u << f))) return {};
    return std::string_view(head_.target).substr(url.field_data[f].off, url.field_data[f].len);
  };
  head_.path = PercentDecode(field(UF_PATH), false);
  if (head_.path.empty()) head_.path.assign(1, '/');
  std::string_view query = field(UF_QUERY);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    head_.query.emplace_back(PercentDecode(pair.substr(0, eq), true),
                             eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1), true));
  }
  return true;
}

int RequestParser::OnHeadersComplete(http_parser* p) {
  auto* self = static_cast<RequestParser*>(p->data);
  if (!self->FinishHead()) return -1;
  self->state_ = State::kHeadDone;
  http_parser_pause(p, 1);
  return 0;
}

int RequestParser::OnBody(http_parser* p, const char* at, size_t n) {
  auto* self = static_cast<RequestParser*>(p->data);
  self->body_bytes_ += n;
  if (self->body_->size() + n > self->max_body_) {
    self->over_limit_ = true;
    return 1;
  }
  self->body_->append(at, n);
  return 0;
}

int RequestParser::OnMessageComplete(http_parser* p) {
  auto* self = static_cast<RequestParser*>(p->data);
  self->state_ = State::kComplete;
  http_parser_pause(p, 1);
  return 0;
}

}  // namespace server::http
