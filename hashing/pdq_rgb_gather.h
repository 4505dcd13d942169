// The RGB split the SIMD luma kernels (PDQ's float luma and the border
// detector's 8-bit luma) share: 16 interleaved RGB pixels (48 bytes) into
// their R, G and B bytes, with SSSE3 byte shuffles. Internal linkage, as in
// pdq_kernel_shared.h, so each ISA's translation unit compiles its own copy.
// Include only from the SIMD kernel translation units (compiled for AVX2 or
// AVX-512), never from the scalar one.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace hashing {
namespace {

// Byte-shuffle masks gathering channel `ch` of 16 interleaved RGB pixels from
// three 16-byte loads (src 0 = bytes 0..15, 1 = 16..31, 2 = 32..47); -1 zeroes.
struct RgbShuffleMasks {
  alignas(16) int8_t m[3][3][16];  // [channel][source load][output byte]
};
constexpr RgbShuffleMasks MakeRgbShuffleMasks() {
  RgbShuffleMasks t{};
  for (int ch = 0; ch < 3; ++ch)
    for (int src = 0; src < 3; ++src)
      for (int j = 0; j < 16; ++j) {
        const int g = 3 * j + ch;
        t.m[ch][src][j] = (g / 16 == src) ? static_cast<int8_t>(g % 16) : static_cast<int8_t>(-1);
      }
  return t;
}
constexpr RgbShuffleMasks kRgbShuffleMasks = MakeRgbShuffleMasks();

// Channel `ch` of the 16 pixels whose bytes are a (0..15), b (16..31), c (32..47).
inline __m128i GatherChannel(__m128i a, __m128i b, __m128i c, int ch) {
  const __m128i ma = _mm_load_si128(reinterpret_cast<const __m128i*>(kRgbShuffleMasks.m[ch][0]));
  const __m128i mb = _mm_load_si128(reinterpret_cast<const __m128i*>(kRgbShuffleMasks.m[ch][1]));
  const __m128i mc = _mm_load_si128(reinterpret_cast<const __m128i*>(kRgbShuffleMasks.m[ch][2]));
  return _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, ma), _mm_shuffle_epi8(b, mb)), _mm_shuffle_epi8(c, mc));
}

// The channels of 16 pixels: byte i of r, g, b is pixel i's.
struct Rgb16 {
  __m128i r, g, b;
};

// Reads 48 bytes at p.
inline Rgb16 LoadRgb16(const uint8_t* p) {
  const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
  const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 32));
  return {GatherChannel(a, b, c, 0), GatherChannel(a, b, c, 1), GatherChannel(a, b, c, 2)};
}

}  // namespace
}  // namespace hashing
