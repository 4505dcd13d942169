#include "tests/test_support.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>

namespace testing_support {

static fs::path EnvOr(const char* name, const fs::path& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? fs::path(v) : fallback;
}

fs::path PdqDataDir() { return fs::path(HASHSCREEN_SOURCE_DIR) / "tests" / "data" / "pdq"; }

fs::path ImagesDir() { return EnvOr("HASHSCREEN_IMAGES", "/var/cache/hashscreen/images"); }

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

bool RequireData(const fs::path& path, const std::string& how_to_get) {
  if (fs::exists(path)) return true;
  std::fprintf(stderr, "\n*** SKIP: test data missing: %s\n***       %s\n\n", path.c_str(), how_to_get.c_str());
  if (InCi()) FAIL("test data missing in CI: " << path.string());
  return false;
}

std::vector<uint8_t> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::vector<uint8_t> bytes(fs::file_size(path));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!in) throw std::runtime_error("short read of " + path.string());
  return bytes;
}

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path p = fs::temp_directory_path() / ("hashscreen-test-" + std::to_string(rd()));
    std::error_code ec;
    if (fs::create_directory(p, ec)) {
      path_ = p;
      return;
    }
  }
  throw std::runtime_error("cannot create a temp dir");
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace testing_support
