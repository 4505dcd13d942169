// ParseMultipart: the happy path with binary content, RFC 2046 framing
// details, every refusal naming its problem, and random damage to a valid
// body (never a crash, and views always inside the body).
#include <doctest/doctest.h>

#include <random>

#include "server/http/multipart.h"

using server::http::MultipartLimits;
using server::http::MultipartPart;
using server::http::ParseMultipart;

namespace {

std::string Part(const std::string& boundary, const std::string& headers, const std::string& content) {
  return "--" + boundary + "\r\n" + headers + "\r\n" + content + "\r\n";
}

}  // namespace

TEST_CASE("multipart bodies parse into parts whose content is exact, binary included") {
  std::string binary("\0\r\n--notit\r\n-\xff", 14);
  std::string body = "preamble to ignore\r\n" +
                     Part("b-1", "Content-Disposition: form-data; name=\"a\"; filename=\"x \\\"1\\\".jpg\"\r\nContent-Type: Image/JPEG\r\n", binary) +
                     Part("b-1", "content-disposition: FORM-DATA; name=b\r\n", "") + "--b-1--\r\nepilogue";
  std::vector<MultipartPart> parts;
  auto s = ParseMultipart(body, "Multipart/Form-Data; boundary=\"b-1\"", {}, &parts);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].name == "a");
  CHECK(parts[0].filename == "x \"1\".jpg");
  CHECK(parts[0].content_type == "Image/JPEG");
  CHECK(parts[0].content == binary);
  CHECK(parts[1].name == "b");
  CHECK(parts[1].filename.empty());
  CHECK(parts[1].content.empty());
  // Transport padding after a boundary is allowed.
  std::string padded = "--z \t\r\nContent-Disposition: form-data; name=\"p\"\r\n\r\nv\r\n--z--";
  REQUIRE(ParseMultipart(padded, "multipart/form-data; boundary=z", {}, &parts).ok());
  CHECK(parts.size() == 1);
  // Only the close delimiter: no parts, not an error (the route says "no parts").
  REQUIRE(ParseMultipart("--z--\r\n", "multipart/form-data; boundary=z", {}, &parts).ok());
  CHECK(parts.empty());
}

TEST_CASE("malformed multipart bodies are refused, naming the problem") {
  const std::string ok_headers = "Content-Disposition: form-data; name=\"a\"\r\n";
  struct Case {
    std::string body, content_type, problem;
  } cases[] = {
      {"x", "image/png", "must be multipart/form-data"},
      {"x", "multipart/form-data", "without a boundary"},
      {"x", "multipart/form-data; boundary=" + std::string(71, 'b'), "1 to 70"},
      {"x", "multipart/form-data; boundary=\"a;b\"", "does not allow"},
      {"x", "multipart/form-data; boundary=\"ab \"", "end with a space"},
      {"", "multipart/form-data; boundary=b", "no multipart boundary line"},
      {"--b\r\n" + ok_headers + "\r\ndata", "multipart/form-data; boundary=b", "not terminated by the boundary"},
      {Part("b", ok_headers, "d"), "multipart/form-data; boundary=b", "not terminated by the boundary"},
      {Part("b", ok_headers, "d") + "--b", "multipart/form-data; boundary=b", "without the closing boundary"},
      {Part("b", ok_headers, "d") + "--bb\r\n", "multipart/form-data; boundary=b", "not followed by CRLF"},
      {Part("b", "Content-Type: image/png\r\n", "d") + "--b--", "multipart/form-data; boundary=b", "part 1: no Content-Disposition"},
      {Part("b", "Content-Disposition: attachment; name=\"a\"\r\n", "d") + "--b--", "multipart/form-data; boundary=b", "not form-data"},
      {Part("b", "Content-Disposition: form-data; filename=\"a\"\r\n", "d") + "--b--", "multipart/form-data; boundary=b", "has no name"},
      {Part("b", ok_headers + ok_headers, "d") + "--b--", "multipart/form-data; boundary=b", "given twice"},
      {Part("b", ok_headers + " folded\r\n", "d") + "--b--", "multipart/form-data; boundary=b", "folding"},
      {Part("b", ok_headers + "X: a\rb\r\n", "d") + "--b--", "multipart/form-data; boundary=b", "control character"},
      {Part("b", ok_headers + "Content-Transfer-Encoding: base64\r\n", "d") + "--b--", "multipart/form-data; boundary=b", "base64"},
      {Part("b", ok_headers, "d") + Part("b", "Content-Disposition: form-data; name=\"a\r\n", "d") + "--b--",
       "multipart/form-data; boundary=b", "part 2"},
      {"--b\r\n" + ok_headers + std::string(9000, 'x'), "multipart/form-data; boundary=b", "header block is over 8192 bytes"},
  };
  for (const auto& k : cases) {
    CAPTURE(k.problem);
    std::vector<MultipartPart> parts;
    auto s = ParseMultipart(k.body, k.content_type, {}, &parts);
    CHECK_FALSE(s.ok());
    CHECK_MESSAGE(s.message().find(k.problem) != std::string::npos, s.message());
    CHECK(parts.empty());
  }
}

TEST_CASE("a part with a Content-Encoding is refused as unsupported, like a compressed request body") {
  const std::string disp = "Content-Disposition: form-data; name=\"a\"\r\n";
  for (std::string coding : {"gzip", "GZIP", "identity, gzip", "br", "x-gzip"}) {
    CAPTURE(coding);
    std::vector<MultipartPart> parts;
    auto s = ParseMultipart(Part("b", disp + "Content-Encoding: " + coding + "\r\n", "d") + "--b--",
                            "multipart/form-data; boundary=b", {}, &parts);
    CHECK(s.code() == base::Status::Code::kUnsupported);
    CHECK_MESSAGE(s.message().find("part 1: Content-Encoding") != std::string::npos, s.message());
    CHECK(parts.empty());
  }
  std::vector<MultipartPart> parts;
  CHECK(ParseMultipart(Part("b", disp + "Content-Encoding: identity\r\n", "d") + "--b--", "multipart/form-data; boundary=b",
                       {}, &parts)
            .ok());
  CHECK(parts.size() == 1);
}

TEST_CASE("the part count and header field limits hold") {
  std::string body;
  for (int i = 0; i < 5; ++i) body += Part("b", "Content-Disposition: form-data; name=\"p" + std::to_string(i) + "\"\r\n", "x");
  body += "--b--";
  MultipartLimits limits;
  limits.max_parts = 5;
  std::vector<MultipartPart> parts;
  CHECK(ParseMultipart(body, "multipart/form-data; boundary=b", limits, &parts).ok());
  limits.max_parts = 4;
  auto s = ParseMultipart(body, "multipart/form-data; boundary=b", limits, &parts);
  CHECK(s.message().find("more than 4 parts") != std::string::npos);
  std::string many = "Content-Disposition: form-data; name=\"a\"\r\n";
  for (int i = 0; i < 20; ++i) many += "X-" + std::to_string(i) + ": 1\r\n";
  s = ParseMultipart(Part("b", many, "x") + "--b--", "multipart/form-data; boundary=b", {}, &parts);
  CHECK(s.message().find("more than 16 header fields") != std::string::npos);
}

TEST_CASE("random damage to a valid body never crashes and views stay inside the body") {
  std::string valid = Part("bnd", "Content-Disposition: form-data; name=\"a\"; filename=\"f\"\r\nContent-Type: image/png\r\n", "abc\r\n--bn") +
                      Part("bnd", "Content-Disposition: form-data; name=\"b\"\r\n", std::string(100, '-')) + "--bnd--\r\n";
  std::mt19937 rng(12345);
  const char alphabet[] = "\r\n-bnd\"; =:aX\0";
  for (int round = 0; round < 20000; ++round) {
    std::string body = valid;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !body.empty(); ++e) {
      size_t at = rng() % body.size();
      switch (rng() % 3) {
        case 0: body[at] = alphabet[rng() % (sizeof alphabet - 1)]; break;
        case 1: body.erase(at, 1 + rng() % 8); break;
        default: body.insert(at, 1, alphabet[rng() % (sizeof alphabet - 1)]); break;
      }
    }
    if (rng() % 5 == 0) body.resize(rng() % (body.size() + 1));
    std::vector<MultipartPart> parts;
    auto s = ParseMultipart(body, "multipart/form-data; boundary=bnd", {}, &parts);
    if (!s.ok()) {
      CHECK(parts.empty());
      continue;
    }
    for (const auto& p : parts) {
      CHECK(p.content.data() >= body.data());
      CHECK(p.content.data() + p.content.size() <= body.data() + body.size());
    }
  }
}
