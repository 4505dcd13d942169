// DigestTable: exact-membership hash table over a borrowed contiguous array
// of fixed-size keys (MD5 and SHA-256 digests, PDQ hashes). Open addressing
// with linear probing; slots hold 32-bit positions into the key array, hashed
// with XXH3 (DESIGN.md section 2), load factor <= 1/2. Immutable once built.
//
// Thread-safety: Find may be called concurrently; the key array must outlive
// the table and not change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace idx {

class DigestTable {
 public:
  DigestTable() = default;
  // Indexes keys[0 .. n*key_bytes). Keys should be distinct (Find returns one
  // of equal keys).
  DigestTable(const uint8_t* keys, size_t n, size_t key_bytes);

  // Position of `key` (key_bytes long) in the array, or -1.
  int64_t Find(const uint8_t* key) const;
  // Sets found[i] = 1 for each keys[i] in the table (leaves the others as they
  // are). Same answers as Find, but hashes and prefetches ahead, so that many
  // look-ups overlap their cache misses.
  void FindMany(const uint8_t* const* keys, size_t n, uint8_t* found) const;
  size_t MemoryBytes() const { return slots_.size() * sizeof(uint32_t); }

 private:
  static constexpr uint32_t kEmpty = 0xffffffffu;
  const uint8_t* keys_ = nullptr;
  size_t key_bytes_ = 0;
  uint64_t mask_ = 0;
  std::vector<uint32_t> slots_;
};

}  // namespace idx
