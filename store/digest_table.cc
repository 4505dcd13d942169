#include "store/digest_table.h"

#include <xxhash.h>

#include <cstring>

namespace store {

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

}  // namespace store
