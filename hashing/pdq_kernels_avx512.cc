// AVX-512 kernels (compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl;
// contraction is off project-wide, so no FMA is ever emitted). Same structure
// and the same per-lane operation order as the AVX2 kernels, 16 lanes wide:
// rows via 16x16 in-register transposes, columns and outputs directly.
//
// No standard-library templates here (see pdq_kernels_avx2.cc for why).
#include <immintrin.h>

#include "hashing/pdq_dct_table.h"
#include "hashing/pdq_kernel_shared.h"
#include "hashing/pdq_kernels.h"

namespace hashing {
namespace {

constexpr int kLanes = 16;


inline __m128i GatherChannel(__m128i a, __m128i b, __m128i c, int ch) {
  const __m128i ma = _mm_load_si128(reinterpret_cast<const __m128i*>(kRgbShuffleMasks.m[ch][0]));
  const __m128i mb = _mm_load_si128(reinterpret_cast<const __m128i*>(kRgbShuffleMasks.m[ch][1]));
  const __m128i mc = _mm_load_si128(reinterpret_cast<const __m128i*>(kRgbShuffleMasks.m[ch][2]));
  return _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, ma), _mm_shuffle_epi8(b, mb)), _mm_shuffle_epi8(c, mc));
}

inline __m512 BytesToFloat(__m128i bytes16) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes16)); }

inline __mmask16 TailMask(size_t rem) { return static_cast<__mmask16>((1u << rem) - 1); }

bool LumaRgb(const uint8_t* rgb, size_t n, float* out) {
  const __m512 cr = _mm512_set1_ps(kLumaR), cg = _mm512_set1_ps(kLumaG), cb = _mm512_set1_ps(kLumaB);
  int grey_mask = 0xFFFF;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const uint8_t* p = rgb + 3 * i;
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 32));
    const __m128i r = GatherChannel(a, b, c, 0), g = GatherChannel(a, b, c, 1), bl = GatherChannel(a, b, c, 2);
    grey_mask &= _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(r, g), _mm_cmpeq_epi8(g, bl)));
    const __m512 y = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(cr, BytesToFloat(r)), _mm512_mul_ps(cg, BytesToFloat(g))),
                                   _mm512_mul_ps(cb, BytesToFloat(bl)));
    _mm512_storeu_ps(out + i, y);
  }
  bool grey = grey_mask == 0xFFFF;
  for (; i < n; ++i) {
    const uint8_t r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
    out[i] = (kLumaR * static_cast<float>(r) + kLumaG * static_cast<float>(g)) + kLumaB * static_cast<float>(b);
    grey &= (r == g) & (g == b);
  }
  return grey;
}

void LumaGrey(const uint8_t* grey, size_t n, float* out) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(out + i, BytesToFloat(_mm_loadu_si128(reinterpret_cast<const __m128i*>(grey + i))));
  }
  for (; i < n; ++i) out[i] = static_cast<float>(grey[i]);
}

// In-place 16x16 transpose: v[k] holds row k on entry, column k on exit.
inline void Transpose16(__m512 v[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]);
  }
  // Within each 128-bit lane L, u[4g+k] = column 4L+k of rows 4g..4g+3.
  for (int g = 0; g < 4; ++g) {
    u[4 * g + 0] = _mm512_shuffle_ps(t[4 * g + 0], t[4 * g + 2], 0x44);
    u[4 * g + 1] = _mm512_shuffle_ps(t[4 * g + 0], t[4 * g + 2], 0xEE);
    u[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
    u[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
  }
  for (int k = 0; k < 4; ++k) {
    const __m512 a0 = _mm512_shuffle_f32x4(u[k], u[4 + k], 0x44);
    const __m512 a1 = _mm512_shuffle_f32x4(u[k], u[4 + k], 0xEE);
    const __m512 b0 = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0x44);
    const __m512 b1 = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0xEE);
    v[0 + k] = _mm512_shuffle_f32x4(a0, b0, 0x88);
    v[4 + k] = _mm512_shuffle_f32x4(a0, b0, 0xDD);
    v[8 + k] = _mm512_shuffle_f32x4(a1, b1, 0x88);
    v[12 + k] = _mm512_shuffle_f32x4(a1, b1, 0xDD);
  }
}

// Filters a strip of kLanes rows into O, transposed (vector i = column i).
void FilterStrip(const float* const rows_in[kLanes], size_t len, int window, float* T, float* O) {
  size_t c = 0;
  __m512 v[kLanes];
  for (; c + kLanes <= len; c += kLanes) {
    for (int k = 0; k < kLanes; ++k) v[k] = _mm512_loadu_ps(rows_in[k] + c);
    Transpose16(v);
    for (int j = 0; j < kLanes; ++j) _mm512_store_ps(T + (c + j) * kLanes, v[j]);
  }
  if (c < len) {
    const size_t rem = len - c;
    const __mmask16 m = TailMask(rem);
    for (int k = 0; k < kLanes; ++k) v[k] = _mm512_maskz_loadu_ps(m, rows_in[k] + c);
    Transpose16(v);
    for (size_t j = 0; j < rem; ++j) _mm512_store_ps(T + (c + j) * kLanes, v[j]);
  }

  const int half = (window + 2) / 2;
  const int phase1 = half - 1, phase2 = window - half + 1, phase3 = static_cast<int>(len) - window, phase4 = half - 1;
  const float* ri = T;
  const float* li = T;
  float* oi = O;
  __m512 sum = _mm512_setzero_ps();
  int n = 0;
  for (int i = 0; i < phase1; ++i, ri += kLanes, ++n) sum = _mm512_add_ps(sum, _mm512_load_ps(ri));
  for (int i = 0; i < phase2; ++i, ri += kLanes, oi += kLanes) {
    sum = _mm512_add_ps(sum, _mm512_load_ps(ri));
    ++n;
    _mm512_store_ps(oi, _mm512_div_ps(sum, _mm512_set1_ps(static_cast<float>(n))));
  }
  const __m512 full = _mm512_set1_ps(static_cast<float>(n));
  for (int i = 0; i < phase3; ++i, ri += kLanes, li += kLanes, oi += kLanes) {
    sum = _mm512_add_ps(sum, _mm512_load_ps(ri));
    sum = _mm512_sub_ps(sum, _mm512_load_ps(li));
    _mm512_store_ps(oi, _mm512_div_ps(sum, full));
  }
  for (int i = 0; i < phase4; ++i, li += kLanes, oi += kLanes) {
    sum = _mm512_sub_ps(sum, _mm512_load_ps(li));
    --n;
    _mm512_store_ps(oi, _mm512_div_ps(sum, _mm512_set1_ps(static_cast<float>(n))));
  }
}

// Transposes O back into kLanes rows.
void StoreRows(const float* O, size_t len, float* const rows_out[kLanes]) {
  __m512 v[kLanes];
  size_t c = 0;
  for (; c + kLanes <= len; c += kLanes) {
    for (int j = 0; j < kLanes; ++j) v[j] = _mm512_load_ps(O + (c + j) * kLanes);
    Transpose16(v);
    for (int k = 0; k < kLanes; ++k) _mm512_storeu_ps(rows_out[k] + c, v[k]);
  }
  if (c < len) {
    const size_t rem = len - c;
    for (size_t j = 0; j < kLanes; ++j) v[j] = j < rem ? _mm512_load_ps(O + (c + j) * kLanes) : _mm512_setzero_ps();
    Transpose16(v);
    const __mmask16 m = TailMask(rem);
    for (int k = 0; k < kLanes; ++k) _mm512_mask_storeu_ps(rows_out[k] + c, m, v[k]);
  }
}

void BoxStrip(const float* const rows_in[kLanes], float* const rows_out[kLanes], size_t len, int window,
              float* T, float* O) {
  FilterStrip(rows_in, len, window, T, O);
  StoreRows(O, len, rows_out);
}

void BoxRows(const float* in, size_t in_stride, float* out, size_t out_stride, size_t nrows, size_t len,
             int window, float* scratch) {
  float* T = scratch;
  float* O = scratch + 16 * (len + 16);
  size_t r = 0;
  for (; r + kLanes <= nrows; r += kLanes) {
    const float* rows_in[kLanes];
    float* rows_out[kLanes];
    for (int k = 0; k < kLanes; ++k) {
      rows_in[k] = in + (r + k) * in_stride;
      rows_out[k] = out + (r + k) * out_stride;
    }
    BoxStrip(rows_in, rows_out, len, window, T, O);
  }
  for (; r < nrows; ++r) {
    const float* src = in + r * in_stride;
    for (size_t i = 0; i < len; ++i) O[i] = src[i];
    BoxFilter1D(O, out + r * out_stride, static_cast<int>(len), window);
  }
}

void BoxRowsSampled(const float* in, size_t in_stride, size_t nrows, size_t len, int window, const int* sample_cols,
                    int nsamples, float* out, size_t out_stride, float* scratch) {
  float* T = scratch;
  float* O = scratch + 16 * (len + 16);
  size_t r = 0;
  for (; r + kLanes <= nrows; r += kLanes) {
    const float* rows_in[kLanes];
    for (int k = 0; k < kLanes; ++k) rows_in[k] = in + (r + k) * in_stride;
    FilterStrip(rows_in, len, window, T, O);
    // Column sample_cols[j] of the kLanes rows is one vector of O.
    for (int j = 0; j < nsamples; ++j) _mm512_storeu_ps(out + j * out_stride + r, _mm512_load_ps(O + sample_cols[j] * kLanes));
  }
  for (; r < nrows; ++r) {
    const float* src = in + r * in_stride;
    float* filtered = O + len + 16;
    for (size_t i = 0; i < len; ++i) O[i] = src[i];
    BoxFilter1D(O, filtered, static_cast<int>(len), window);
    for (int j = 0; j < nsamples; ++j) out[j * out_stride + r] = filtered[sample_cols[j]];
  }
}

template <bool kAdd, bool kSub, bool kOut>
struct ColumnStepT {
  static void Run(float* sum, const float* add, const float* sub, float* out, float count, size_t len) {
    const __m512 cv = _mm512_set1_ps(count);
    size_t c = 0;
    for (; c < len; c += kLanes) {
      const __mmask16 m = len - c >= kLanes ? static_cast<__mmask16>(0xFFFF) : TailMask(len - c);
      __m512 s = _mm512_maskz_loadu_ps(m, sum + c);
      if (kAdd) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(m, add + c));
      if (kSub) s = _mm512_sub_ps(s, _mm512_maskz_loadu_ps(m, sub + c));
      _mm512_mask_storeu_ps(sum + c, m, s);
      if (kOut) _mm512_mask_storeu_ps(out + c, m, _mm512_div_ps(s, cv));
    }
  }
};

void ColumnStep(float* sum, const float* add, const float* sub, float* out, float count, size_t len) {
  DispatchColumnStep<ColumnStepT>(sum, add, sub, out, count, len);
}

void Dct64To16(const float* a, float* b) {
  alignas(64) float t[16][64];
  for (int u = 0; u < 16; ++u) {
    __m512 acc[4];
    for (int x = 0; x < 4; ++x) acc[x] = _mm512_setzero_ps();
    for (int k = 0; k < 64; ++k) {
      const __m512 d = _mm512_set1_ps(kPdqDct[u][k]);
      for (int x = 0; x < 4; ++x) acc[x] = _mm512_add_ps(acc[x], _mm512_mul_ps(d, _mm512_loadu_ps(a + k * 64 + 16 * x)));
    }
    for (int x = 0; x < 4; ++x) _mm512_store_ps(&t[u][16 * x], acc[x]);
  }
  alignas(64) float dt[64][16];  // D transposed: dt[k][v] = D[v][k]
  for (int v = 0; v < 16; ++v)
    for (int k = 0; k < 64; ++k) dt[k][v] = kPdqDct[v][k];
  for (int u = 0; u < 16; ++u) {
    __m512 acc = _mm512_setzero_ps();
    for (int k = 0; k < 64; ++k) acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_set1_ps(t[u][k]), _mm512_load_ps(&dt[k][0])));
    _mm512_storeu_ps(b + 16 * u, acc);
  }
}

constexpr PdqKernels kAvx512Kernels = {SimdLevel::kAvx512, LumaRgb, LumaGrey, BoxRows, BoxRowsSampled, ColumnStep, Dct64To16};

}  // namespace

namespace internal {
const PdqKernels& Avx512PdqKernels() { return kAvx512Kernels; }
}  // namespace internal

}  // namespace hashing
