#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>

#include "base/loopback.h"
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
  CHECK(c.rate_per_key == defaults.rate_per_key);
  CHECK(c.rate_burst == defaults.rate_burst);
  CHECK(c.probing_band == defaults.probing_band);
  CHECK(c.probing_budget == defaults.probing_budget);
  CHECK(c.probing_hash_budget == defaults.probing_hash_budget);
  CHECK(c.probing_window_s == defaults.probing_window_s);
  CHECK(c.probing_block_s == defaults.probing_block_s);
  CHECK(c.keys_last_used_flush_s == defaults.keys_last_used_flush_s);
}

TEST_CASE("a rate outside 0 or 0.001..1e6 is refused naming the key, from a flag and from the file") {
  for (const char* bad : {"1e-300", "0.0000001", "1e7", "1e400", "inf", "nan", "-1", "0x10", ""}) {
    CAPTURE(std::string(bad));
    ServerConfig c;
    auto s = server::ApplyFlags({"--rate-per-key", bad}, &c);
    CHECK(s.code() == base::Status::Code::kInvalidArgument);
    CHECK(s.message().find("limits.rate_per_key") != std::string::npos);
  }
  ServerConfig c;
  CHECK(server::ApplyFlags({"--rate-per-key", "0"}, &c).ok());
  CHECK(c.rate_per_key == 0);
  CHECK(server::ApplyFlags({"--rate-per-key", "0.001"}, &c).ok());
  testing_support::TempDir dir;
  const auto file = dir.path() / "hs.toml";
  std::ofstream(file) << "[limits]\nrate_per_key = 1e-300\n";
  auto s = server::LoadConfigFile(file.string(), &c);
  CHECK(s.code() == base::Status::Code::kInvalidArgument);
  CHECK(s.message().find("limits.rate_per_key") != std::string::npos);
  std::ofstream(file) << "[probing]\nbudget = 0\n";
  CHECK(server::LoadConfigFile(file.string(), &c).message().find("probing.budget") != std::string::npos);
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
  CHECK(base::IsLoopbackHost("127.0.0.1"));
  CHECK(base::IsLoopbackHost("127.8.9.1"));
  CHECK(base::IsLoopbackHost("::1"));
  CHECK(base::IsLoopbackHost("localhost"));
  CHECK_FALSE(base::IsLoopbackHost("0.0.0.0"));
  CHECK_FALSE(base::IsLoopbackHost("10.0.0.1"));
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
