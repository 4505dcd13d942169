#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>

#include "server/config.h"
#include "server/service.h"
#include "tests/test_support.h"

using base::Status;
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

TEST_CASE("file settings naming a directory, a FIFO, a missing or an oversized file are clean errors") {
  testing_support::TempDir tmp;
  const std::string dir = tmp.path().string();
  const std::string fifo = (tmp.path() / "fifo").string();
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  const std::string missing = (tmp.path() / "missing").string();
  ServerConfig c;
  c.listen = "127.0.0.1:8443";
  for (const std::string& bad : {dir, fifo, missing}) {
    INFO(bad);
    // The config file itself: never parsed as empty, never a hang.
    ServerConfig loaded;
    Status s = server::LoadConfigFile(bad, &loaded);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find(bad) != std::string::npos);
    c.tls_cert = bad;
    c.tls_key = bad;
    s = server::ValidateConfig(c);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("server.tls_cert") != std::string::npos);
    c.plain_http = true;
    c.hmac_key_file = bad;
    s = server::ValidateConfig(c);
    CHECK(s.message().find("audit.hmac_key_file") != std::string::npos);
    c.plain_http = false;
    c.hmac_key_file.clear();
    // The HMAC key reader on its own (the server calls it at start).
    std::string key;
    s = server::ReadHmacKey(bad, &key);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("audit.hmac_key_file") != std::string::npos);
    CHECK(key.empty());
  }
  std::string key;
  const auto big = tmp.path() / "big.key";
  std::ofstream(big) << std::string(server::kMaxHmacKeyFileBytes + 1, 'k');
  CHECK(server::ReadHmacKey(big.string(), &key).code() == Status::Code::kInvalidArgument);
  const auto small = tmp.path() / "small.key";
  std::ofstream(small) << "short\n";
  CHECK(server::ReadHmacKey(small.string(), &key).code() == Status::Code::kInvalidArgument);
  const auto good = tmp.path() / "good.key";
  std::ofstream(good) << "0123456789abcdef0123\r\n";
  REQUIRE(server::ReadHmacKey(good.string(), &key).ok());
  CHECK(key == "0123456789abcdef0123");
}
