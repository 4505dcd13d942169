#include <doctest/doctest.h>

#include <fstream>

#include "server/config.h"
#include "tests/test_support.h"

using server::ServerConfig;

TEST_CASE("the shipped config/hashscreen.toml parses and names every setting") {
  std::filesystem::path shipped = std::filesystem::path(HASHSCREEN_SOURCE_DIR) / "config" / "hashscreen.toml";
  ServerConfig c;
  auto s = server::LoadConfigFile(shipped.string(), &c);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  std::ifstream in(shipped);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  for (const auto& setting : server::Settings()) {
    CHECK_MESSAGE(text.find("\n" + setting.key + " = ") != std::string::npos, setting.section << "." << setting.key);
  }
  // The shipped file states the defaults.
  ServerConfig defaults;
  CHECK(c.listen == defaults.listen);
  CHECK(c.max_body_bytes == defaults.max_body_bytes);
  CHECK(c.min_quality == defaults.min_quality);
}

TEST_CASE("flags override, in every spelling, and bad values name the key") {
  ServerConfig c;
  REQUIRE(server::ApplyFlags({"--listen", "127.0.0.1:9", "--max-body-bytes=4096", "--plain-http", "--dihedral=false",
                              "--rate-per-key", "2.5", "--pdq-mode", "cli512"},
                             &c)
              .ok());
  CHECK(c.listen == "127.0.0.1:9");
  CHECK(c.max_body_bytes == 4096);
  CHECK(c.plain_http);
  CHECK_FALSE(c.dihedral);
  CHECK(c.rate_per_key == 2.5);
  CHECK(c.pdq_mode == "cli512");
  auto s = server::ApplyFlags({"--pdq-mode", "fast"}, &c);
  CHECK(s.message().find("screening.pdq_mode") != std::string::npos);
  CHECK(!server::ApplyFlags({"--max-body-bytes"}, &c).ok());
  CHECK(!server::ApplyFlags({"stray"}, &c).ok());
  CHECK(!server::ApplyFlags({"--max-body-bytes", "12x"}, &c).ok());
}

TEST_CASE("listen addresses and loopback detection") {
  std::string host;
  int port = 0;
  REQUIRE(server::ParseListen("[::1]:8443", &host, &port).ok());
  CHECK(host == "::1");
  CHECK(port == 8443);
  CHECK(!server::ParseListen("127.0.0.1", &host, &port).ok());
  CHECK(!server::ParseListen("127.0.0.1:70000", &host, &port).ok());
  CHECK(server::IsLoopbackHost("127.0.0.1"));
  CHECK(server::IsLoopbackHost("127.8.9.1"));
  CHECK(server::IsLoopbackHost("::1"));
  CHECK(server::IsLoopbackHost("localhost"));
  CHECK_FALSE(server::IsLoopbackHost("0.0.0.0"));
  CHECK_FALSE(server::IsLoopbackHost("10.0.0.1"));
  ServerConfig c;
  c.plain_http = true;
  c.listen = "0.0.0.0:80";
  CHECK(!server::ValidateConfig(c).ok());
  c.listen = "127.0.0.1:80";
  CHECK(server::ValidateConfig(c).ok());
}
