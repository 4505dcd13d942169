// RequestParser over http-parser: the head stops before the body, bodies are
// counted and cut at the limit (chunked or not), pipelined requests stay
// separate, and malformed framing gets the right status.
#include <doctest/doctest.h>

#include "server/http/request_parser.h"

using server::http::RequestParser;
using State = RequestParser::State;

namespace {

struct Parsed {
  State state;
  std::string body;
  size_t consumed = 0;
};

// Feeds `wire` in pieces of `step` bytes, the head then the body.
Parsed Feed(RequestParser& p, const std::string& wire, size_t step, uint64_t max_body = 1 << 20) {
  Parsed out;
  std::string pending;
  size_t next = 0;
  for (;;) {
    if (p.state() == State::kHead) {
      size_t n = p.ParseHead(pending);
      pending.erase(0, n);
      out.consumed += n;
    }
    if (p.state() == State::kHeadDone || p.state() == State::kBody) {
      size_t n = p.ParseBody(pending, &out.body, max_body);
      pending.erase(0, n);
      out.consumed += n;
    }
    if (p.state() == State::kComplete || p.state() == State::kError || p.over_limit()) break;
    if (next >= wire.size()) break;
    pending += wire.substr(next, step);
    next += step;
  }
  out.state = p.state();
  return out;
}

}  // namespace

TEST_CASE("the head is parsed alone: no body byte is consumed before ParseBody") {
  RequestParser::SetMaxHeadBytes(16384);
  RequestParser p({});
  std::string wire = "POST /v1/screen%2Fx?ref=a+b&x=%41 HTTP/1.1\r\nHost: h\r\nContent-Type:  Image/PNG \r\nContent-Length: 5\r\n\r\nhello";
  size_t n = p.ParseHead(wire);
  REQUIRE(p.state() == State::kHeadDone);
  CHECK(wire.substr(n) == "\nhello");  // paused on the head's last byte
  const auto& h = p.head();
  CHECK(h.method == "POST");
  CHECK(h.path == "/v1/screen/x");
  REQUIRE(h.query.size() == 2);
  CHECK(h.query[0] == std::make_pair(std::string("ref"), std::string("a b")));
  CHECK(h.query[1].second == "A");
  CHECK(*h.Header("content-type") == "Image/PNG");
  CHECK(h.content_length == 5u);
  CHECK(h.has_body());
  std::string body;
  size_t m = p.ParseBody(wire.substr(n), &body, 100);
  CHECK(m == 6);
  CHECK(p.state() == State::kComplete);
  CHECK(body == "hello");
}

TEST_CASE("pipelined requests stay apart, byte by byte or in one piece") {
  RequestParser::SetMaxHeadBytes(16384);
  std::string first = "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  std::string second = "GET /b HTTP/1.1\r\n\r\n";
  for (size_t step : {size_t{1}, size_t{7}, size_t{4096}}) {
    CAPTURE(step);
    RequestParser p({});
    Parsed a = Feed(p, first + second, step);
    REQUIRE(a.state == State::kComplete);
    CHECK(a.body == "abc");
    CHECK(a.consumed == first.size());
    p.Reset();
    Parsed b = Feed(p, second, step);
    REQUIRE(b.state == State::kComplete);
    CHECK(p.head().path == "/b");
    CHECK(b.consumed == second.size());
  }
}

TEST_CASE("chunked bodies are decoded and cut at the limit, counting bytes as received") {
  RequestParser::SetMaxHeadBytes(16384);
  std::string wire = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
  for (size_t step : {size_t{1}, size_t{4096}}) {
    RequestParser p({});
    Parsed r = Feed(p, wire, step);
    REQUIRE(r.state == State::kComplete);
    CHECK(r.body == "hello world");
    CHECK(p.body_bytes() == 11);
    CHECK(p.head().chunked);
  }
  RequestParser p({});
  Parsed cut = Feed(p, wire, 4096, /*max_body=*/8);
  CHECK(p.over_limit());
  CHECK(cut.body == "hello");  // the chunk that would pass the limit is not stored
  CHECK(p.body_bytes() == 11);
  RequestParser q({});
  Parsed cl = Feed(q, "POST /x HTTP/1.1\r\nContent-Length: 20\r\n\r\n" + std::string(20, 'a'), 3, 10);
  CHECK(q.over_limit());
  CHECK(cl.body.size() <= 10);
  CHECK(q.body_bytes() > 10);
}

TEST_CASE("malformed framing gets 400, 431, 501 or 505 naming the problem") {
  RequestParser::SetMaxHeadBytes(16384);
  struct Case {
    std::string wire;
    int status;
    std::string problem;
  } cases[] = {
      {"POST /x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "Content-Length"},
      {"POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400, "Content-Length"},
      {"POST /x HTTP/1.1\r\nContent-Length: 3x\r\n\r\n", 400, "Content-Length"},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "gzip"},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "gzip"},
      // Repeated Transfer-Encoding lines are one list: chunked twice either way.
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "chunked"},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400, "chunked"},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "gzip"},
      // Singleton fields given twice are ambiguous, equal values or not.
      {"GET /x HTTP/1.1\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n", 400, "authorization"},
      {"GET /x HTTP/1.1\r\nAuthorization: Bearer a\r\nauthorization: Bearer a\r\n\r\n", 400, "authorization"},
      {"GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "host"},
      {"POST /x HTTP/1.1\r\nContent-Type: image/png\r\nContent-Type: image/jpeg\r\nContent-Length: 0\r\n\r\n", 400,
       "content-type"},
      {"GET /x HTTP/2.0\r\n\r\n", 505, "HTTP/1"},
      {"GET /x HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n", 501, "upgrade"},
      {"BREW /x HTTP/1.1\r\n\r\n", 501, "method"},
      {"GET /x HTTP/1.1\r\nBad Header: 1\r\n\r\n", 400, "header field name"},
      {"GET /x HTTP/1.1\r\nX-A : 1\r\n\r\n", 400, "header field name"},
      {"GET /x HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", 431, "16384"},
  };
  for (const auto& k : cases) {
    CAPTURE(k.wire.substr(0, 60));
    RequestParser p({});
    Parsed r = Feed(p, k.wire, 4096);
    CHECK(r.state == State::kError);
    CHECK(p.error_status() == k.status);
    CHECK_MESSAGE(p.error_message().find(k.problem) != std::string::npos, p.error_message());
  }
  RequestParser few({16384, 3});
  std::string many = "GET /x HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
  Feed(few, many, 4096);
  CHECK(few.error_status() == 431);
  CHECK(few.error_message().find("more than 3 header fields") != std::string::npos);
  // A bad chunk size in the body.
  RequestParser chunk({});
  Parsed bad = Feed(chunk, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 4096);
  CHECK(bad.state == State::kError);
  CHECK(chunk.error_status() == 400);
}
