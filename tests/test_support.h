// Helpers shared by every test suite: where the test data lives, temporary
// directories, and the rule for absent data (skip loudly on a developer
// machine, fail in CI where CI=true).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace testing_support {

namespace fs = std::filesystem;

// ../shared beside the repository, or $HASHSCREEN_SHARED.
fs::path SharedDir();
// The corpus collected by ../shared/images/fetch-images.sh, or $HASHSCREEN_IMAGES
// (default /var/cache/hashscreen/images, where setup.sh puts it).
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
