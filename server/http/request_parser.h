// RequestParser: HTTP/1.1 request framing for one connection, over
// nodejs/http-parser 2.9 (Debian's libhttp-parser-dev: incremental,
// callback-based, chunked transfer coding, used by Node.js for years).
//
// It separates the two phases the front must keep apart:
//   1. ParseHead consumes bytes up to the end of the request head and stops
//      there (the parser is paused), so the head can be checked (route, key,
//      role, limits) before a single body byte is consumed;
//   2. ParseBody consumes the body (Content-Length or chunked), appending the
//      decoded bytes to a string, and stops at `max_body` bytes: the bytes
//      received are counted whether chunked or not, and nothing beyond the
//      limit is ever stored. It stops at the end of the message, so bytes of
//      a pipelined next request stay unconsumed.
// Reset() starts the next request on the same connection.
//
// Limits: the whole head (request line and fields) is at most
// max_head_bytes (http-parser's header size limit, set process-wide by
// SetMaxHeadBytes before any parser runs) and at most max_headers fields.
// Malformed input yields kError with the HTTP status to answer (400, 431,
// 501) and a message naming the problem.
//
// Thread-safety: one parser per connection, used by one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <http_parser.h>

namespace server::http {

struct RequestHead {
  std::string method;  // "GET", "POST", ...
  std::string target;  // the request target as sent
  std::string path;    // percent-decoded path of the target
  std::vector<std::pair<std::string, std::string>> query;    // percent-decoded, '+' as space
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, values trimmed
  unsigned version_major = 1, version_minor = 1;
  bool keep_alive = true;  // what the client asked for (HTTP/1.0 needs Connection: keep-alive)
  bool chunked = false;    // Transfer-Encoding: chunked
  std::optional<uint64_t> content_length;
  uint64_t head_bytes = 0;  // size of the head on the wire

  // The first value of header `lower_name`, or nullptr.
  const std::string* Header(std::string_view lower_name) const;
  // How many times header `lower_name` occurs.
  size_t HeaderCount(std::string_view lower_name) const;
  // True if a body follows the head (chunked, or Content-Length > 0).
  bool has_body() const { return chunked || content_length.value_or(0) > 0; }
};

class RequestParser {
 public:
  struct Limits {
    size_t max_head_bytes = 16384;
    size_t max_headers = 64;
  };
  enum class State { kHead, kHeadDone, kBody, kComplete, kError };

  explicit RequestParser(const Limits& limits);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Sets http-parser's process-wide head limit. Call once before any parsing.
  static void SetMaxHeadBytes(size_t bytes);

  // Forgets the current request; the next bytes start a new one.
  void Reset();

  // kHead: consumes head bytes from `data`; returns how many. Moves to
  // kHeadDone (head() is complete) or kError.
  size_t ParseHead(std::string_view data);
  // kHeadDone or kBody: consumes body bytes, appending decoded bytes to
  // *body. Moves to kComplete at the end of the message, or stops with
  // over_limit() once the body would pass `max_body` bytes (the bytes that
  // did not fit are counted in body_bytes() but not stored), or kError.
  size_t ParseBody(std::string_view data, std::string* body, uint64_t max_body);

  State state() const { return state_; }
  // True once any byte of the current request was consumed.
  bool started() const { return started_; }
  const RequestHead& head() const { return head_; }
  RequestHead TakeHead() { return std::move(head_); }
  // Decoded body bytes seen so far, including any beyond the limit.
  uint64_t body_bytes() const { return body_bytes_; }
  bool over_limit() const { return over_limit_; }
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

 private:
  static int OnMessageBegin(http_parser* p);
  static int OnUrl(http_parser* p, const char* at, size_t n);
  static int OnHeaderField(http_parser* p, const char* at, size_t n);
  static int OnHeaderValue(http_parser* p, const char* at, size_t n);
  static int OnHeadersComplete(http_parser* p);
  static int OnBody(http_parser* p, const char* at, size_t n);
  static int OnMessageComplete(http_parser* p);

  void Fail(int status, std::string message);
  void FailFromParser();
  bool FinishField();
  bool FinishHead();

  Limits limits_;
  http_parser parser_;
  http_parser_settings settings_;
  State state_ = State::kHead;
  bool started_ = false;
  RequestHead head_;
  std::string field_, value_;
  bool in_value_ = false;
  std::string* body_ = nullptr;
  uint64_t max_body_ = 0;
  uint64_t body_bytes_ = 0;
  bool over_limit_ = false;
  int error_status_ = 0;
  std::string error_message_;
};

// Percent-decodes `text` (and '+' as space when `plus_is_space`). Invalid
// escapes are kept as they are, as most servers do.
std::string PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace server::http
