// PdqHash: a 256-bit PDQ perceptual hash, bit-compatible with Meta's reference.
//
// Bit k = 16u + v is 1 iff DCT coefficient (u, v) is above the median. The
// bytes are those of the hex form (what partners exchange): bytes[p] holds
// bits 255-8p .. 248-8p, so bytes[0] is the first two hex digits. This is also
// the byte layout used in the store and the match index; the Hamming distance
// does not depend on it.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/status.h"

namespace base {

struct PdqHash {
  static constexpr int kBits = 256;
  static constexpr int kBytes = 32;

  std::array<uint8_t, kBytes> bytes{};

  bool Bit(int k) const { return bytes[31 - k / 8] >> (k % 8) & 1; }
  void SetBit(int k) { bytes[31 - k / 8] |= static_cast<uint8_t>(1u << (k % 8)); }
  // Word u of the reference's 16 x uint16 layout: bits 16u .. 16u+15.
  uint16_t Word(int u) const {
    return static_cast<uint16_t>(bytes[31 - 2 * u] | bytes[30 - 2 * u] << 8);
  }
  bool IsZero() const { return *this == PdqHash{}; }

  // 64 lowercase hex characters (the reference's %04hx words 15..0).
  std::string ToHex() const;
  // Parses exactly 64 hex characters, either case.
  static Status FromHex(std::string_view hex, PdqHash* out);

  bool operator==(const PdqHash&) const = default;
};

// Hamming distance: popcount of the XOR over all 256 bits (0..256).
inline int Distance(const PdqHash& a, const PdqHash& b) {
  int d = 0;
  for (int i = 0; i < 4; ++i) {
    uint64_t x, y;
    std::memcpy(&x, a.bytes.data() + 8 * i, 8);
    std::memcpy(&y, b.bytes.data() + 8 * i, 8);
    d += std::popcount(x ^ y);
  }
  return d;
}

}  // namespace base
