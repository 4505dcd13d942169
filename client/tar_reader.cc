#include "client/tar_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace client {

namespace {

using base::Status;

constexpr size_t kBlock = 512;
constexpr uint64_t kMaxExtendedHeader = 1 << 20;
constexpr size_t kMaxName = 4096;

class Fd {
 public:
  explicit Fd(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Reads exactly n bytes at `offset`; false at end of file or on an error (errno).
bool PreadAll(int fd, uint64_t offset, size_t n, char* out) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, out + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

// A numeric header field: octal digits (space or NUL padded), or GNU's
// base-256 form (high bit of the first byte set). False when malformed or
// over 2^63.
bool ParseNumber(const char* field, size_t len, uint64_t* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(field);
  uint64_t v = 0;
  if (p[0] & 0x80) {
    if (p[0] != 0x80) return false;  // negative or over 2^63 in the top byte
    for (size_t i = 1; i < len; ++i) {
      if (v >> 55) return false;
      v = v << 8 | p[i];
    }
    *out = v;
    return v <= (1ull << 62);
  }
  size_t i = 0;
  while (i < len && p[i] == ' ') ++i;
  bool digits = false;
  for (; i < len && p[i] >= '0' && p[i] <= '7'; ++i) {
    if (v >> 60) return false;
    v = v << 3 | (p[i] - '0');
    digits = true;
  }
  for (; i < len; ++i) {
    if (p[i] != ' ' && p[i] != 0) return false;
  }
  *out = v;
  return digits || v == 0;
}

bool ChecksumOk(const char* h) {
  uint64_t stored = 0;
  if (!ParseNumber(h + 148, 8, &stored)) return false;
  uint64_t unsigned_sum = 0;
  int64_t signed_sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    const char c = (i >= 148 && i < 156) ? ' ' : h[i];
    unsigned_sum += static_cast<unsigned char>(c);
    signed_sum += static_cast<signed char>(c);
  }
  return stored == unsigned_sum || static_cast<int64_t>(stored) == signed_sum;
}

bool IsZeroBlock(const char* h) {
  for (size_t i = 0; i < kBlock; ++i) {
    if (h[i] != 0) return false;
  }
  return true;
}

std::string Field(const char* p, size_t len) { return std::string(p, strnlen(p, len)); }

uint64_t Padded(uint64_t size) { return (size + kBlock - 1) / kBlock * kBlock; }

// The "path" record of a pax extended header ("LEN key=value\n" records).
Status PaxPath(const std::string& data, std::string* path) {
  size_t pos = 0;
  while (pos < data.size()) {
    size_t space = data.find(' ', pos);
    if (space == std::string::npos || space == pos || space - pos > 8) return Status::Corruption("malformed pax record");
    uint64_t len = 0;
    for (size_t i = pos; i < space; ++i) {
      if (data[i] < '0' || data[i] > '9') return Status::Corruption("malformed pax record length");
      len = len * 10 + static_cast<uint64_t>(data[i] - '0');
    }
    if (len <= space - pos + 1 || len > data.size() - pos || data[pos + len - 1] != '\n') {
      return Status::Corruption("pax record length out of bounds");
    }
    const std::string record = data.substr(space + 1, pos + len - space - 2);
    const size_t eq = record.find('=');
    if (eq == std::string::npos) return Status::Corruption("pax record without '='");
    if (record.compare(0, eq, "path") == 0 && eq == 4) *path = record.substr(eq + 1);
    pos += len;
  }
  return Status::Ok();
}

}  // namespace

bool LooksLikeTar(const std::string& path) {
  Fd fd(path);
  char h[kBlock];
  if (fd.get() < 0 || !PreadAll(fd.get(), 0, kBlock, h)) return false;
  return std::memcmp(h + 257, "ustar", 5) == 0 && ChecksumOk(h);
}

Status ListTarMembers(const std::string& path, std::vector<TarMember>* members) {
  members->clear();
  Fd fd(path);
  if (fd.get() < 0) return errno == ENOENT ? Status::NotFound("no such file") : Status::IOError(std::strerror(errno));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::IOError(std::strerror(errno));
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  std::string long_name, pax_name;
  char h[kBlock];
  uint64_t pos = 0;
  for (;;) {
    const std::string where = " (tar header at byte " + std::to_string(pos) + ")";
    if (pos == file_size) return Status::Ok();  // no end-of-archive blocks: accepted, as tar does
    if (pos + kBlock > file_size) return Status::Corruption("the archive is truncated inside a header" + where);
    if (!PreadAll(fd.get(), pos, kBlock, h)) return Status::IOError("cannot read" + where);
    if (IsZeroBlock(h)) return Status::Ok();  // end of archive
    if (!ChecksumOk(h)) return Status::Corruption("header checksum mismatch: not a tar, or damaged" + where);
    uint64_t size = 0;
    if (!ParseNumber(h + 124, 12, &size)) return Status::Corruption("malformed member size" + where);
    const uint64_t data = pos + kBlock;
    if (size > file_size - data) {
      return Status::Corruption("a member of " + std::to_string(size) + " bytes runs past the end of the file" + where);
    }
    const char type = h[156];
    if (type == 'x' || type == 'L') {
      if (size > kMaxExtendedHeader) return Status::Corruption("extended header over 1 MiB" + where);
      std::string ext(size, '\0');
      if (!PreadAll(fd.get(), data, size, ext.data())) return Status::IOError("cannot read" + where);
      if (type == 'x') {
        if (Status s = PaxPath(ext, &pax_name); !s.ok()) return Status::Corruption(s.message() + where);
      } else {
        long_name = ext.substr(0, strnlen(ext.data(), ext.size()));
      }
    } else {
      if (type == '0' || type == '\0' || type == '7') {
        std::string name = !pax_name.empty()   ? pax_name
                           : !long_name.empty() ? long_name
                                                : Field(h, 100);
        if (pax_name.empty() && long_name.empty() && std::memcmp(h + 257, "ustar\0", 6) == 0) {
          const std::string prefix = Field(h + 345, 155);
          if (!prefix.empty()) name = prefix + "/" + name;
        }
        if (name.empty() || name.size() > kMaxName || name.find('\0') != std::string::npos) {
          return Status::Corruption("member name empty, over 4096 bytes or with a NUL byte" + where);
        }
        members->push_back({std::move(name), data, size});
      }
      // Other types (directories, links, devices, pax globals) are no
      // sources; an extended name applies to the next member only.
      if (type != 'g') {
        pax_name.clear();
        long_name.clear();
      }
    }
    pos = data + Padded(size);
    if (pos > file_size) pos = file_size;  // the last member's padding may be cut: tolerated
  }
}

Status ReadFileRange(const std::string& path, uint64_t offset, uint64_t size, std::vector<uint8_t>* out) {
  Fd fd(path);
  if (fd.get() < 0) return errno == ENOENT ? Status::NotFound("no such file") : Status::IOError(std::strerror(errno));
  out->resize(size);
  if (!PreadAll(fd.get(), offset, size, reinterpret_cast<char*>(out->data()))) {
    return Status::IOError("short read (was the file changed during the scan?)");
  }
  return Status::Ok();
}

}  // namespace client
