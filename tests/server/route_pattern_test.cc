// RoutePattern: literal segments match exactly, placeholders only their
// type, segment counts must agree; every route of the table parses.
#include <doctest/doctest.h>

#include "server/route_pattern.h"
#include "server/routes.h"

using server::RoutePattern;

TEST_CASE("route patterns match whole segments of their type and capture the placeholders") {
  RoutePattern p;
  REQUIRE(RoutePattern::Parse("/v1/lists/{n}/batches", &p).ok());
  std::vector<std::string> args;
  CHECK(p.Match("/v1/lists/42/batches", &args));
  CHECK(args == std::vector<std::string>{"42"});
  CHECK(p.Match("/v1/lists/18446744073709551615/batches", &args));
  for (const char* path : {"/v1/lists//batches", "/v1/lists/4a/batches", "/v1/lists/123456789012345678901/batches",
                           "/v1/lists/42/batches/", "/v1/lists/42/batches/x", "/v1/lists/42", "/v1/lists/42/Batches",
                           "/V1/lists/42/batches", "v1/lists/42/batches", "", "/", "//v1/lists/42/batches",
                           "/v1/lists/-1/batches", "/v1/lists/%34%32/batches"}) {
    CAPTURE(path);
    CHECK_FALSE(p.Match(path, &args));
  }
  CHECK_FALSE(p.Match(std::string_view("/v1/lists/42/batches\0", 21), &args));
  REQUIRE(RoutePattern::Parse("/v1/keys/{hex16}", &p).ok());
  CHECK(p.Match("/v1/keys/0123456789abcdef", &args));
  CHECK(args == std::vector<std::string>{"0123456789abcdef"});
  CHECK_FALSE(p.Match("/v1/keys/0123456789ABCDEF", &args));
  CHECK_FALSE(p.Match("/v1/keys/0123456789abcde", &args));
  CHECK_FALSE(p.Match("/v1/keys/0123456789abcdef0", &args));
  REQUIRE(RoutePattern::Parse("/healthz", &p).ok());
  CHECK(p.Match("/healthz", &args));
  CHECK(args.empty());
  CHECK_FALSE(p.Match("/healthz/", &args));
  CHECK_FALSE(p.Match("/healthzz", &args));
}

TEST_CASE("route patterns refuse empty segments and unknown placeholders") {
  RoutePattern p;
  for (const char* bad : {"", "/", "v1", "/v1//x", "/v1/", "/v1/{id}", "/v1/{n", "/v1/x{n}", "/v1/{N}"}) {
    CAPTURE(bad);
    CHECK(RoutePattern::Parse(bad, &p).code() == base::Status::Code::kInvalidArgument);
  }
}

TEST_CASE("every route of the table parses, and no two routes of one method match the same path") {
  for (const auto* table : {&server::Routes(), &server::MetricsRoutes()}) {
    std::vector<RoutePattern> parsed(table->size());
    for (size_t i = 0; i < table->size(); ++i) {
      CAPTURE((*table)[i].pattern);
      REQUIRE(RoutePattern::Parse((*table)[i].pattern, &parsed[i]).ok());
    }
    // A sample path per route (placeholders filled in): only its own route,
    // among those of its method, matches it.
    for (size_t i = 0; i < table->size(); ++i) {
      std::string sample = (*table)[i].pattern;
      for (auto [from, to] : {std::pair<std::string, std::string>{"{n}", "7"}, {"{hex16}", "00000000000000ff"}}) {
        for (size_t at; (at = sample.find(from)) != std::string::npos;) sample.replace(at, from.size(), to);
      }
      std::vector<std::string> args;
      for (size_t j = 0; j < table->size(); ++j) {
        if (std::string_view((*table)[j].method) != (*table)[i].method) continue;
        CAPTURE(sample);
        CHECK(parsed[j].Match(sample, &args) == (i == j));
      }
    }
  }
}
