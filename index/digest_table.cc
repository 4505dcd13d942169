#include "index/digest_table.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

namespace idx {

DigestTable::DigestTable(const uint8_t* keys, size_t n, size_t key_bytes) : keys_(keys), key_bytes_(key_bytes) {
  if (n == 0) return;
  size_t cap = 16;
  while (cap < 2 * n) cap *= 2;
  mask_ = cap - 1;
  slots_.assign(cap, kEmpty);
  for (size_t i = 0; i < n; ++i) {
    uint64_t h = XXH3_64bits(keys + i * key_bytes, key_bytes) & mask_;
    while (slots_[h] != kEmpty) h = (h + 1) & mask_;
    slots_[h] = static_cast<uint32_t>(i);
  }
}

int64_t DigestTable::Find(const uint8_t* key) const {
  if (slots_.empty()) return -1;
  uint64_t h = XXH3_64bits(key, key_bytes_) & mask_;
  for (;;) {
    uint32_t s = slots_[h];
    if (s == kEmpty) return -1;
    if (std::memcmp(keys_ + size_t{s} * key_bytes_, key, key_bytes_) == 0) return s;
    h = (h + 1) & mask_;
  }
}

void DigestTable::FindMany(const uint8_t* const* keys, size_t n, uint8_t* found) const {
  if (slots_.empty()) return;
  constexpr size_t kChunk = 16;
  uint64_t slot[kChunk];
  for (size_t base = 0; base < n; base += kChunk) {
    const size_t m = std::min(kChunk, n - base);
    for (size_t j = 0; j < m; ++j) {
      if (found[base + j]) continue;
      slot[j] = XXH3_64bits(keys[base + j], key_bytes_) & mask_;
      __builtin_prefetch(&slots_[slot[j]]);
    }
    for (size_t j = 0; j < m; ++j) {
      if (found[base + j]) continue;
      uint32_t s = slots_[slot[j]];
      if (s != kEmpty) __builtin_prefetch(keys_ + size_t{s} * key_bytes_);
    }
    for (size_t j = 0; j < m; ++j) {
      if (found[base + j]) continue;
      for (uint64_t h = slot[j];; h = (h + 1) & mask_) {
        uint32_t s = slots_[h];
        if (s == kEmpty) break;
        if (std::memcmp(keys_ + size_t{s} * key_bytes_, keys[base + j], key_bytes_) == 0) {
          found[base + j] = 1;
          break;
        }
      }
    }
  }
}

}  // namespace idx
