// The AVX-512 luma kernel for CPUs with VBMI (compiled with -mavx512vbmi on
// top of the AVX-512 level's flags; pdq_kernels_avx512.cc picks it at run
// time). Per 16 pixels and channel, one zero-masking byte permute puts the
// 16 channel bytes into the low bytes of 16 dwords, ready to convert. The AVX-512 kernel without VBMI needs three
// byte shuffles, two ORs and a widening per channel for the same.
//
// Same arithmetic as the scalar reference, lane by lane: each product
// rounded to float, (R + G) first, then + B; no FMA (contraction is off).
#include <immintrin.h>



#include "hashing/pdq_kernels.h"

namespace hashing {
namespace internal {

namespace {

// Index vectors for a zero-masking permute of the 128 bytes (lo, hi) whose
// bytes first..first+47 are 16 RGB pixels: byte 4k of the result is byte
// (first + 3k + channel), the low byte of dword k; the mask zeroes the rest.
__m512i ChannelIndex(int first, int channel) {
  alignas(64) uint8_t idx[64];
  for (int k = 0; k < 64; ++k) idx[k] = static_cast<uint8_t>(first + 3 * (k / 4) + channel);
  return _mm512_load_si512(idx);
}

constexpr __mmask64 kLowBytes = 0x1111111111111111ull;

struct Group {
  __m512i r, g, b;
};

inline void Luma16(const Group& ch, const __m512 cr, const __m512 cg, const __m512 cb, __mmask16* grey, float* out) {
  *grey &= _mm512_cmpeq_epi32_mask(ch.r, ch.g) & _mm512_cmpeq_epi32_mask(ch.g, ch.b);
  const __m512 y = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(cr, _mm512_cvtepi32_ps(ch.r)),
                                               _mm512_mul_ps(cg, _mm512_cvtepi32_ps(ch.g))),
                                 _mm512_mul_ps(cb, _mm512_cvtepi32_ps(ch.b)));
  _mm512_storeu_ps(out, y);
}

}  // namespace

bool LumaRgbAvx512Vbmi(const uint8_t* rgb, size_t n, float* out) {
  // 64 pixels = 192 bytes = three 64-byte loads a, b, c. Pixel group q (16
  // pixels) is bytes 48q..48q+47: group 0 in a, 1 in (a, b), 2 in (b, c),
  // 3 in c; one two-source byte permute per channel and group.
  __m512i idx[4][3];
  for (int ch = 0; ch < 3; ++ch) {
    idx[0][ch] = ChannelIndex(0, ch);
    idx[1][ch] = ChannelIndex(48, ch);
    idx[2][ch] = ChannelIndex(32, ch);
    idx[3][ch] = ChannelIndex(16, ch);
  }
  const __m512 cr = _mm512_set1_ps(kLumaR), cg = _mm512_set1_ps(kLumaG), cb = _mm512_set1_ps(kLumaB);
  __mmask16 grey = 0xFFFF;
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const uint8_t* p = rgb + 3 * i;
    _mm_prefetch(reinterpret_cast<const char*>(p) + 4096, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(p) + 4096 + 64, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(p) + 4096 + 128, _MM_HINT_T0);
    const __m512i a = _mm512_loadu_si512(p), b = _mm512_loadu_si512(p + 64), c = _mm512_loadu_si512(p + 128);
    Group g0{_mm512_maskz_permutexvar_epi8(kLowBytes, idx[0][0], a), _mm512_maskz_permutexvar_epi8(kLowBytes, idx[0][1], a),
             _mm512_maskz_permutexvar_epi8(kLowBytes, idx[0][2], a)};
    Luma16(g0, cr, cg, cb, &grey, out + i);
    Group g1{_mm512_maskz_permutex2var_epi8(kLowBytes, a, idx[1][0], b),
             _mm512_maskz_permutex2var_epi8(kLowBytes, a, idx[1][1], b),
             _mm512_maskz_permutex2var_epi8(kLowBytes, a, idx[1][2], b)};
    Luma16(g1, cr, cg, cb, &grey, out + i + 16);
    Group g2{_mm512_maskz_permutex2var_epi8(kLowBytes, b, idx[2][0], c),
             _mm512_maskz_permutex2var_epi8(kLowBytes, b, idx[2][1], c),
             _mm512_maskz_permutex2var_epi8(kLowBytes, b, idx[2][2], c)};
    Luma16(g2, cr, cg, cb, &grey, out + i + 32);
    Group g3{_mm512_maskz_permutexvar_epi8(kLowBytes, idx[3][0], c), _mm512_maskz_permutexvar_epi8(kLowBytes, idx[3][1], c),
             _mm512_maskz_permutexvar_epi8(kLowBytes, idx[3][2], c)};
    Luma16(g3, cr, cg, cb, &grey, out + i + 48);
  }
  const bool tail_grey = LumaRgbReference(rgb + 3 * i, n - i, out + i);
  return grey == 0xFFFF && tail_grey;
}

}  // namespace internal
}  // namespace hashing
