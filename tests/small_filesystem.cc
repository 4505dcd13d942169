#include "tests/small_filesystem.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "tests/test_support.h"

namespace testing_support {

namespace {
fs::path BallastPath(const fs::path& dir, int i) { return dir / ("ballast-" + std::to_string(i)); }
}  // namespace

SmallFilesystem::SmallFilesystem(const fs::path& dir, uint64_t bytes) : dir_(dir) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  const std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
  if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0) {
    mounted_ = true;
    return;
  }
  const std::string why = std::strerror(errno);
  std::fprintf(stderr, "\n*** SKIP: cannot mount a %llu-byte tmpfs on %s: %s\n***       full-disk tests need root (CI runs them as root)\n\n",
               static_cast<unsigned long long>(bytes), dir_.c_str(), why.c_str());
  if (InCi()) FAIL("cannot mount a tmpfs in CI: " << why);
}

SmallFilesystem::~SmallFilesystem() {
  if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
}

uint64_t SmallFilesystem::FreeBytes() const {
  struct statvfs st{};
  if (::statvfs(dir_.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

bool SmallFilesystem::Fill(uint64_t leave) {
  const uint64_t free_bytes = FreeBytes();
  if (free_bytes <= leave) return true;
  const fs::path path = BallastPath(dir_, ballast_files_++);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const bool ok = ::posix_fallocate(fd, 0, static_cast<off_t>(free_bytes - leave)) == 0;
  ::close(fd);
  return ok && FreeBytes() <= leave;
}

void SmallFilesystem::Free() {
  for (int i = 0; i < ballast_files_; ++i) {
    std::error_code ec;
    fs::remove(BallastPath(dir_, i), ec);
  }
  ballast_files_ = 0;
}

}  // namespace testing_support
