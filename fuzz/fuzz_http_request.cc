// libFuzzer target: the HTTP/1.1 request framing of hashscreend's front
// (server/http/request_parser.h over http-parser), the first code that sees
// a client's bytes, before any key is checked. The input is a connection's
// byte stream; it is parsed the way front.cc drives the parser (head, then
// the body or the rest of a body-less message, then the next pipelined
// request), twice: whole, and cut into segments whose sizes the first byte
// picks (TCP delivers any split). A finding is a crash or sanitizer report,
// a broken contract (a head over its limit accepted, a body over its limit
// stored, an error without an HTTP status and message, a header name that
// is not a lower-case token, more fields than the limit), or the two splits
// disagreeing about any request: what was accepted, with its head and body,
// or that it was refused. Not the status of a refusal: a request with two
// faults (a 17th header field of 16 allowed, then a bad byte in the 18th
// name) reports the one that surfaces first, and http-parser hands over a
// field name when it is complete or when the segment ends, so that depends
// on the split.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/media_type.h"
#include "server/http/request_parser.h"

namespace {

using server::http::RequestParser;

constexpr size_t kMaxHeadBytes = 4096;  // small, so the fuzzer reaches the limit
constexpr size_t kMaxHeaders = 16;
constexpr uint64_t kMaxBody = 2048;
constexpr int kMaxRequests = 8;  // pipelined requests per input

void Check(bool ok) {
  if (!ok) std::abort();
}

// What one request came to, compared between the two splits.
struct Outcome {
  RequestParser::State state = RequestParser::State::kHead;
  std::string method, target, path;
  std::vector<std::pair<std::string, std::string>> headers, query;
  bool keep_alive = false, chunked = false, over_limit = false;
  std::string body;
  bool operator==(const Outcome&) const = default;
};

void CheckHead(const server::http::RequestHead& head) {
  Check(!head.method.empty());
  Check(!head.path.empty());
  Check(head.version_major == 1);
  Check(head.headers.size() <= kMaxHeaders);
  for (const auto& [name, value] : head.headers) {
    Check(!name.empty());
    for (char c : name) Check(server::http::IsTokenChar(c) && !(c >= 'A' && c <= 'Z'));
    Check(server::http::TrimSpace(value).size() == value.size());
  }
  if (head.chunked) Check(!head.content_length.has_value());
}

void CheckError(const RequestParser& parser) {
  const int s = parser.error_status();
  Check(s == 400 || s == 431 || s == 501 || s == 505);
  Check(!parser.error_message().empty());
}

// Feeds `stream` in segments of `segment` bytes (0: all at once) and returns
// what each request came to. Mirrors front.cc: the head; then, without a
// body, the rest of the message with a limit of 0; with one, the body up to
// kMaxBody (over it the connection closes); an error closes it too.
std::vector<Outcome> Run(std::string_view stream, size_t segment) {
  RequestParser parser({kMaxHeadBytes, kMaxHeaders});
  std::vector<Outcome> out;
  size_t at = 0, received = 0;  // consumed, and delivered so far
  auto deliver = [&] {
    if (received == stream.size()) return false;
    received = segment == 0 ? stream.size() : std::min(stream.size(), received + segment);
    return true;
  };
  deliver();
  for (int request = 0; request < kMaxRequests; ++request) {
    Outcome o;
    while (parser.state() == RequestParser::State::kHead) {
      at += parser.ParseHead(stream.substr(at, received - at));
      if (parser.state() != RequestParser::State::kHead) break;
      Check(at == received);  // a head in progress consumes everything it is given
      if (!deliver()) break;
    }
    if (parser.state() == RequestParser::State::kHead) break;  // the stream ended inside a head
    if (parser.state() == RequestParser::State::kHeadDone) {
      CheckHead(parser.head());
      Check(parser.head().head_bytes <= kMaxHeadBytes);  // the head limit holds, however it arrived
      const auto& h = parser.head();
      o.method = h.method, o.target = h.target, o.path = h.path, o.headers = h.headers, o.query = h.query;
      o.keep_alive = h.keep_alive, o.chunked = h.chunked;
      const uint64_t limit = h.has_body() ? kMaxBody : 0;
      // front.cc completes a body-less message with one call on what is
      // buffered: the head's final LF is still there, so it must finish.
      bool first = !h.has_body();
      for (;;) {
        const size_t n = parser.ParseBody(stream.substr(at, received - at), &o.body, limit);
        at += n;
        if (first) Check(parser.state() == RequestParser::State::kComplete || parser.state() == RequestParser::State::kError);
        first = false;
        Check(o.body.size() <= limit);
        Check(parser.body_bytes() >= o.body.size());
        if (parser.over_limit()) {
          Check(parser.body_bytes() > limit);
          break;
        }
        if (parser.state() != RequestParser::State::kBody) break;
        if (!deliver()) break;
      }
      o.over_limit = parser.over_limit();
      if (h.content_length && parser.state() == RequestParser::State::kComplete) {
        Check(o.body.size() == *h.content_length);
      }
    }
    o.state = parser.state();
    if (o.state == RequestParser::State::kError) {
      CheckError(parser);
      o = Outcome();  // a refusal is compared as a refusal only
      o.state = RequestParser::State::kError;
    }
    if (o.over_limit) o.body.clear();  // how much was stored before the cut depends on the split
    out.push_back(std::move(o));
    if (parser.state() != RequestParser::State::kComplete || parser.over_limit()) break;
    parser.Reset();
    if (at == received && !deliver()) break;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = (RequestParser::SetMaxHeadBytes(kMaxHeadBytes), true);
  (void)init;
  if (size == 0) return 0;
  const size_t segment = 1 + data[0] % 64;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::vector<Outcome> whole = Run(stream, 0);
  const std::vector<Outcome> split = Run(stream, segment);
  Check(whole == split);
  return 0;
}
