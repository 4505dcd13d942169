// AVX2 kernels. Compiled with -mavx2 -mpopcnt (index/CMakeLists.txt); only
// called after the CPU was checked.
//
// The scan transposes 4 haystack hashes so that each register holds one
// 64-bit word of all four; a needle's distance to the four is then four XORs,
// a nibble-table byte popcount summed across the words, and one SAD.
#include <immintrin.h>

#include <cstring>

#include "index/pdq_scan_kernels.h"

namespace idx {
namespace {

// PdqHash is 32 plain bytes; read through its address, not its (inline,
// possibly out-of-line) members.
inline const uint8_t* Bytes(const base::PdqHash* h) { return reinterpret_cast<const uint8_t*>(h); }

inline int Distance64(const uint8_t* a, const uint64_t* b) {
  uint64_t x[4];
  std::memcpy(x, a, 32);
  return __builtin_popcountll(x[0] ^ b[0]) + __builtin_popcountll(x[1] ^ b[1]) + __builtin_popcountll(x[2] ^ b[2]) +
         __builtin_popcountll(x[3] ^ b[3]);
}

inline __m256i BytePopcount(__m256i x, __m256i lut, __m256i low4) {
  __m256i lo = _mm256_and_si256(x, low4);
  __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low4);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
}

size_t Scan(const base::PdqHash* hay, size_t n, const base::PdqHash* needles, int num_needles, int radius,
            PdqMatch* out) {
  size_t found = 0;
  uint64_t nq[8][4];
  __m256i nv[8][4];
  for (int j = 0; j < num_needles; ++j) {
    std::memcpy(nq[j], Bytes(needles + j), 32);
    for (int k = 0; k < 4; ++k) nv[j][k] = _mm256_set1_epi64x(static_cast<long long>(nq[j][k]));
  }
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2,
                                       2, 3, 2, 3, 3, 4);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i limit = _mm256_set1_epi64x(radius + 1);
  const __m256i zero = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256i* p = reinterpret_cast<const __m256i*>(hay + i);
    __m256i a = _mm256_loadu_si256(p), b = _mm256_loadu_si256(p + 1);
    __m256i c = _mm256_loadu_si256(p + 2), d = _mm256_loadu_si256(p + 3);
    __m256i t0 = _mm256_unpacklo_epi64(a, b), t1 = _mm256_unpackhi_epi64(a, b);
    __m256i t2 = _mm256_unpacklo_epi64(c, d), t3 = _mm256_unpackhi_epi64(c, d);
    __m256i q[4] = {_mm256_permute2x128_si256(t0, t2, 0x20), _mm256_permute2x128_si256(t1, t3, 0x20),
                    _mm256_permute2x128_si256(t0, t2, 0x31), _mm256_permute2x128_si256(t1, t3, 0x31)};
    for (int j = 0; j < num_needles; ++j) {
      __m256i s = BytePopcount(_mm256_xor_si256(q[0], nv[j][0]), lut, low4);
      s = _mm256_add_epi8(s, BytePopcount(_mm256_xor_si256(q[1], nv[j][1]), lut, low4));
      s = _mm256_add_epi8(s, BytePopcount(_mm256_xor_si256(q[2], nv[j][2]), lut, low4));
      s = _mm256_add_epi8(s, BytePopcount(_mm256_xor_si256(q[3], nv[j][3]), lut, low4));
      __m256i dist = _mm256_sad_epu8(s, zero);
      int mask = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(limit, dist)));
      if (mask) [[unlikely]] {
        alignas(32) uint64_t dd[4];
        _mm256_store_si256(reinterpret_cast<__m256i*>(dd), dist);
        for (int k = 0; k < 4; ++k) {
          if (mask >> k & 1) {
            out[found++] = {static_cast<uint32_t>(i + k), static_cast<uint8_t>(j), static_cast<uint8_t>(dd[k])};
          }
        }
      }
    }
  }
  for (; i < n; ++i) {
    for (int j = 0; j < num_needles; ++j) {
      int d = Distance64(Bytes(hay + i), nq[j]);
      if (d <= radius) out[found++] = {static_cast<uint32_t>(i), static_cast<uint8_t>(j), static_cast<uint8_t>(d)};
    }
  }
  return found;
}

size_t VerifyIds(const base::PdqHash* hay, const uint32_t* ids, size_t n, const base::PdqHash* needle,
                 int needle_index, int radius, PdqMatch* out) {
  size_t found = 0;
  uint64_t nq[4];
  std::memcpy(nq, Bytes(needle), 32);
  constexpr size_t kAhead = 16;  // candidates are random accesses: keep several misses in flight
  for (size_t k = 0; k < n; ++k) {
    if (k + kAhead < n) __builtin_prefetch(hay + ids[k + kAhead]);
    int d = Distance64(Bytes(hay + ids[k]), nq);
    if (d <= radius) out[found++] = {ids[k], static_cast<uint8_t>(needle_index), static_cast<uint8_t>(d)};
  }
  return found;
}

size_t FilterPartners(const uint16_t* partners, const uint32_t* ids, size_t n, uint16_t partner, int budget,
                      uint32_t* out) {
  size_t found = 0;
  // Hardware POPCNT per entry: survivors are rare, so the loop is branch-predictable.
  for (size_t k = 0; k < n; ++k) {
    if (__builtin_popcount(static_cast<unsigned>(partners[k] ^ partner)) <= budget) [[unlikely]] out[found++] = ids[k];
  }
  return found;
}

}  // namespace

namespace internal {
extern const PdqScanKernels kAvx2PdqScanKernels = {Scan, VerifyIds, FilterPartners};
}  // namespace internal

}  // namespace idx
