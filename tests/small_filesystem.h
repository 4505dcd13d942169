// A real, small filesystem for full-disk tests: a tmpfs of a given size
// mounted on a directory (root only, as in CI: `setup.sh test` runs as root),
// and a ballast file that fills it up to a chosen free space and is deleted
// to give the space back, as an operator freeing a disk would.
//
// Where mounting is not allowed (an unprivileged developer machine) the test
// is skipped loudly; under CI=true it fails instead, so CI never skips it.
#pragma once

#include <cstdint>
#include <filesystem>

namespace testing_support {

namespace fs = std::filesystem;

class SmallFilesystem {
 public:
  // Mounts a tmpfs of `bytes` on `dir` (created if missing).
  SmallFilesystem(const fs::path& dir, uint64_t bytes);
  ~SmallFilesystem();  // unmounts (lazily, so a process still inside cannot block it)
  SmallFilesystem(const SmallFilesystem&) = delete;
  SmallFilesystem& operator=(const SmallFilesystem&) = delete;

  // False when mounting failed; the skip (or CI failure) was reported.
  bool mounted() const { return mounted_; }
  const fs::path& dir() const { return dir_; }
  uint64_t FreeBytes() const;

  // Fills the filesystem until at most `leave` bytes are free (on top of any
  // earlier ballast); true when that worked.
  bool Fill(uint64_t leave);
  // Deletes every ballast file: the space is free again.
  void Free();

 private:
  fs::path dir_;
  bool mounted_ = false;
  int ballast_files_ = 0;
};

}  // namespace testing_support
