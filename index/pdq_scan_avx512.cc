// AVX-512 kernels (F, BW, DQ, VL, VPOPCNTDQ). Compiled with those flags
// (index/CMakeLists.txt); only called after the CPU was checked.
//
// The scan transposes 8 haystack hashes so that each zmm holds one 64-bit
// word of all eight; a needle's distances to the eight are then four XORs,
// four VPOPCNTQ and three adds, compared against the radius in one mask.
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

size_t Scan(const base::PdqHash* hay, size_t n, const base::PdqHash* needles, int num_needles, int radius,
            PdqMatch* out) {
  size_t found = 0;
  uint64_t nq[8][4];
  __m512i nv[8][4];
  for (int j = 0; j < num_needles; ++j) {
    std::memcpy(nq[j], Bytes(needles + j), 32);
    for (int k = 0; k < 4; ++k) nv[j][k] = _mm512_set1_epi64(static_cast<long long>(nq[j][k]));
  }
  const __m512i idx_even = _mm512_setr_epi64(0, 4, 8, 12, 1, 5, 9, 13);
  const __m512i idx_odd = _mm512_setr_epi64(2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i limit = _mm512_set1_epi64(radius);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512i* p = reinterpret_cast<const __m512i*>(hay + i);
    __m512i a = _mm512_loadu_si512(p), b = _mm512_loadu_si512(p + 1);
    __m512i c = _mm512_loadu_si512(p + 2), d = _mm512_loadu_si512(p + 3);
    // ab_e = word 0 of hashes 0-3, then word 1 of hashes 0-3; ab_o = words 2, 3.
    // (maskz: the unmasked form trips a false -Wmaybe-uninitialized in GCC 12.)
    __m512i ab_e = _mm512_permutex2var_epi64(a, idx_even, b), ab_o = _mm512_permutex2var_epi64(a, idx_odd, b);
    __m512i cd_e = _mm512_permutex2var_epi64(c, idx_even, d), cd_o = _mm512_permutex2var_epi64(c, idx_odd, d);
    __m512i q0 = _mm512_maskz_shuffle_i64x2(0xff, ab_e, cd_e, 0x44), q1 = _mm512_maskz_shuffle_i64x2(0xff, ab_e, cd_e, 0xee);
    __m512i q2 = _mm512_maskz_shuffle_i64x2(0xff, ab_o, cd_o, 0x44), q3 = _mm512_maskz_shuffle_i64x2(0xff, ab_o, cd_o, 0xee);
    __m512i dist[8];
    __mmask8 any = 0;
    for (int j = 0; j < num_needles; ++j) {
      dist[j] = _mm512_add_epi64(_mm512_add_epi64(_mm512_popcnt_epi64(_mm512_xor_si512(q0, nv[j][0])),
                                                  _mm512_popcnt_epi64(_mm512_xor_si512(q1, nv[j][1]))),
                                 _mm512_add_epi64(_mm512_popcnt_epi64(_mm512_xor_si512(q2, nv[j][2])),
                                                  _mm512_popcnt_epi64(_mm512_xor_si512(q3, nv[j][3]))));
      any |= _mm512_cmple_epu64_mask(dist[j], limit);
    }
    if (any) [[unlikely]] {
      for (int j = 0; j < num_needles; ++j) {
        __mmask8 m = _mm512_cmple_epu64_mask(dist[j], limit);
        alignas(64) uint64_t dd[8];
        _mm512_store_si512(dd, dist[j]);
        for (int k = 0; k < 8; ++k) {
          if (m >> k & 1) {
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

// 16 partners at a time, widened to 32-bit lanes for VPOPCNTD (16-bit
// VPOPCNTW would need BITALG, which VPOPCNTDQ does not imply).
size_t FilterPartners(const uint16_t* partners, const uint32_t* ids, size_t n, uint16_t partner, int budget,
                      uint32_t* out) {
  size_t found = 0;
  const __m512i p = _mm512_set1_epi32(partner);
  const __m512i limit = _mm512_set1_epi32(budget);
  for (size_t k = 0; k < n; k += 16) {
    // The last group loads masked (masked-off lanes never fault). maskz
    // forms throughout: the unmasked ones trip GCC 12 -Wmaybe-uninitialized.
    const __mmask16 valid = n - k >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - k)) - 1);
    __m512i v = _mm512_maskz_cvtepu16_epi32(0xffff, _mm256_maskz_loadu_epi16(valid, partners + k));
    __mmask16 m = _mm512_mask_cmple_epu32_mask(valid, _mm512_popcnt_epi32(_mm512_xor_si512(v, p)), limit);
    while (m) [[unlikely]] {
      out[found++] = ids[k + static_cast<size_t>(__builtin_ctz(m))];
      m = static_cast<__mmask16>(m & (m - 1));
    }
  }
  return found;
}

}  // namespace

namespace internal {
extern const PdqScanKernels kAvx512PdqScanKernels = {Scan, VerifyIds, FilterPartners};
}  // namespace internal

}  // namespace idx
