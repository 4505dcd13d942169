// TarReader: the member index of a tar file (POSIX ustar, pax and GNU long
// names), read in place for `hashscreen scan`: WebDataset shards are tars
// whose members are the samples' files. Only headers are read; a member's
// bytes are read later, by offset, from the same file (ReadTarMember).
//
// Why not libarchive: scan needs names, offsets and sizes of regular
// members, nothing is extracted, and every header is outside input. This
// reader is ~200 lines with explicit bounds (sizes checked against the file,
// extended headers at most 1 MiB, names at most 4096 bytes), where libarchive
// brings dozens of formats and filters (and their CVE history) that a shard
// index does not need, and a new package.
//
// Member names are identifiers only: nothing is ever written under them, so
// "../x" or "/etc/passwd" are just strings here.
//
// Thread-safety: pure functions over a file path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace client {

struct TarMember {
  std::string name;     // pax "path", else GNU long name, else prefix/name
  uint64_t offset = 0;  // of the member's data in the file
  uint64_t size = 0;
};

// Whether the first 512 bytes of a file are a ustar/GNU header with a
// valid checksum.
bool LooksLikeTar(const std::string& path);

// Lists the regular-file members of the tar at `path` in file order. On a
// damaged archive (truncated header or data, bad checksum, a size or
// extended header out of bounds) `members` holds the members before the
// damage and the Status says what and where (Corruption), so the caller can
// screen those and report the rest as one error. NotFound / IOError when the
// file cannot be read.
base::Status ListTarMembers(const std::string& path, std::vector<TarMember>* members);

// Reads `size` bytes at `offset` of `path` (a member found by ListTarMembers).
base::Status ReadFileRange(const std::string& path, uint64_t offset, uint64_t size, std::vector<uint8_t>* out);

}  // namespace client
