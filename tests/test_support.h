// Helpers shared by every test suite: where the test data lives, temporary
// directories, and the rule for absent data (skip loudly on a developer
// machine, fail in CI where CI=true).
//
// Test data: the PDQ conformance vectors are in the repository
// (tests/data/pdq); the benign image corpus is collected from Debian
// packages by scripts/fetch-test-images.sh (setup.sh test does it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace testing_support {

namespace fs = std::filesystem;

// tests/data/pdq: pdq-vectors.tsv and the images it names.
fs::path PdqDataDir();
// The corpus collected by scripts/fetch-test-images.sh: $HASHSCREEN_IMAGES,
// default /var/cache/hashscreen/images (where setup.sh puts it).
fs::path ImagesDir();

// True when `path` exists. Otherwise prints a loud SKIP line naming what is
// missing and how to get it; under CI=true it also fails the current test.
bool RequireData(const fs::path& path, const std::string& how_to_get);

bool InCi();

std::vector<uint8_t> ReadFile(const fs::path& path);

// A fresh directory under the system temp dir, removed with its contents
// when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace testing_support
