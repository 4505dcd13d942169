// AVX2 kernels (compiled with -mavx2, never -mfma; contraction is off
// project-wide). Lanes are independent rows (box filter along rows, via 8x8
// in-register transposes), independent columns (column sums) or independent
// outputs (luma, DCT); each lane does exactly the scalar reference's
// operations in the same order, so results are bit-identical.
//
// No standard-library templates here: an inline function instantiated in a
// translation unit compiled for AVX2 could be the copy the linker keeps, and
// would then run on CPUs without AVX2.
#include <immintrin.h>

#include "hashing/pdq_dct_table.h"
#include "hashing/pdq_kernel_shared.h"
#include "hashing/pdq_kernels.h"
#include "hashing/pdq_rgb_gather.h"

namespace hashing {
namespace {

constexpr int kLanes = 8;


inline __m256 BytesToFloat(__m128i bytes8) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes8)); }

bool LumaRgb(const uint8_t* rgb, size_t n, float* out) {
  const __m256 cr = _mm256_set1_ps(kLumaR), cg = _mm256_set1_ps(kLumaG), cb = _mm256_set1_ps(kLumaB);
  int grey_mask = 0xFFFF;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const auto [r, g, bl] = LoadRgb16(rgb + 3 * i);
    grey_mask &= _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(r, g), _mm_cmpeq_epi8(g, bl)));
    for (int half = 0; half < 2; ++half) {
      const __m128i rh = half ? _mm_srli_si128(r, 8) : r;
      const __m128i gh = half ? _mm_srli_si128(g, 8) : g;
      const __m128i bh = half ? _mm_srli_si128(bl, 8) : bl;
      const __m256 y = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(cr, BytesToFloat(rh)), _mm256_mul_ps(cg, BytesToFloat(gh))),
                                     _mm256_mul_ps(cb, BytesToFloat(bh)));
      _mm256_storeu_ps(out + i + 8 * half, y);
    }
  }
  const bool tail_grey = LumaRgbReference(rgb + 3 * i, n - i, out + i);
  return grey_mask == 0xFFFF && tail_grey;
}

// 16 pixels per step: the channels (LoadRgb16) widened to 16
// bits, where 77 R + 150 G + 29 B + 128 <= 65408 cannot overflow.
void Luma8Rgb(const uint8_t* rgb, size_t n, uint8_t* out) {
  const __m256i wr = _mm256_set1_epi16(kLuma8R), wg = _mm256_set1_epi16(kLuma8G), wb = _mm256_set1_epi16(kLuma8B);
  const __m256i half = _mm256_set1_epi16(128);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const Rgb16 px = LoadRgb16(rgb + 3 * i);
    const __m256i r = _mm256_cvtepu8_epi16(px.r), g = _mm256_cvtepu8_epi16(px.g), bl = _mm256_cvtepu8_epi16(px.b);
    const __m256i y = _mm256_srli_epi16(
        _mm256_add_epi16(_mm256_add_epi16(_mm256_mullo_epi16(r, wr), _mm256_mullo_epi16(g, wg)),
                         _mm256_add_epi16(_mm256_mullo_epi16(bl, wb), half)),
        8);
    const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), bytes);
  }
  Luma8RgbReference(rgb + 3 * i, n - i, out + i);
}

void LumaGrey(const uint8_t* grey, size_t n, float* out) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(grey + i));
    _mm256_storeu_ps(out + i, BytesToFloat(v));
  }
  for (; i < n; ++i) out[i] = static_cast<float>(grey[i]);
}

// In-place 8x8 transpose: v[k] holds row k on entry, column k on exit.
inline void Transpose8(__m256 v[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(v[2 * i], v[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(v[2 * i], v[2 * i + 1]);
  }
  for (int g = 0; g < 2; ++g) {
    u[4 * g + 0] = _mm256_shuffle_ps(t[4 * g + 0], t[4 * g + 2], 0x44);
    u[4 * g + 1] = _mm256_shuffle_ps(t[4 * g + 0], t[4 * g + 2], 0xEE);
    u[4 * g + 2] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
    u[4 * g + 3] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
  }
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_permute2f128_ps(u[k], u[4 + k], 0x20);
    v[4 + k] = _mm256_permute2f128_ps(u[k], u[4 + k], 0x31);
  }
}

inline __m256i TailMask(size_t rem) {  // first `rem` lanes set, rem in 1..7
  alignas(32) static const int32_t kMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask + 8 - rem));
}

// Box filter along a strip of 8 rows. T: the strip transposed (vector i =
// column i of the 8 rows); O: the filtered vectors.
// Filters a strip of kLanes rows into O, transposed (vector i = column i).
void FilterStrip(const float* const rows_in[kLanes], size_t len, int window, float* T, float* O) {
  size_t c = 0;
  __m256 v[kLanes];
  for (; c + kLanes <= len; c += kLanes) {
    for (int k = 0; k < kLanes; ++k) v[k] = _mm256_loadu_ps(rows_in[k] + c);
    Transpose8(v);
    for (int j = 0; j < kLanes; ++j) _mm256_store_ps(T + (c + j) * kLanes, v[j]);
  }
  if (c < len) {
    const size_t rem = len - c;
    const __m256i m = TailMask(rem);
    for (int k = 0; k < kLanes; ++k) v[k] = _mm256_maskload_ps(rows_in[k] + c, m);
    Transpose8(v);
    for (size_t j = 0; j < rem; ++j) _mm256_store_ps(T + (c + j) * kLanes, v[j]);
  }

  const int half = (window + 2) / 2;
  const int phase1 = half - 1, phase2 = window - half + 1, phase3 = static_cast<int>(len) - window, phase4 = half - 1;
  const float* ri = T;
  const float* li = T;
  float* oi = O;
  __m256 sum = _mm256_setzero_ps();
  int n = 0;
  for (int i = 0; i < phase1; ++i, ri += kLanes, ++n) sum = _mm256_add_ps(sum, _mm256_load_ps(ri));
  for (int i = 0; i < phase2; ++i, ri += kLanes, oi += kLanes) {
    sum = _mm256_add_ps(sum, _mm256_load_ps(ri));
    ++n;
    _mm256_store_ps(oi, _mm256_div_ps(sum, _mm256_set1_ps(static_cast<float>(n))));
  }
  const __m256 full = _mm256_set1_ps(static_cast<float>(n));
  for (int i = 0; i < phase3; ++i, ri += kLanes, li += kLanes, oi += kLanes) {
    sum = _mm256_add_ps(sum, _mm256_load_ps(ri));
    sum = _mm256_sub_ps(sum, _mm256_load_ps(li));
    _mm256_store_ps(oi, _mm256_div_ps(sum, full));
  }
  for (int i = 0; i < phase4; ++i, li += kLanes, oi += kLanes) {
    sum = _mm256_sub_ps(sum, _mm256_load_ps(li));
    --n;
    _mm256_store_ps(oi, _mm256_div_ps(sum, _mm256_set1_ps(static_cast<float>(n))));
  }
}

// Transposes O back into kLanes rows.
void StoreRows(const float* O, size_t len, float* const rows_out[kLanes]) {
  __m256 v[kLanes];
  size_t c = 0;
  for (; c + kLanes <= len; c += kLanes) {
    for (int j = 0; j < kLanes; ++j) v[j] = _mm256_load_ps(O + (c + j) * kLanes);
    Transpose8(v);
    for (int k = 0; k < kLanes; ++k) _mm256_storeu_ps(rows_out[k] + c, v[k]);
  }
  if (c < len) {
    const size_t rem = len - c;
    for (size_t j = 0; j < kLanes; ++j) v[j] = j < rem ? _mm256_load_ps(O + (c + j) * kLanes) : _mm256_setzero_ps();
    Transpose8(v);
    const __m256i m = TailMask(rem);
    for (int k = 0; k < kLanes; ++k) _mm256_maskstore_ps(rows_out[k] + c, m, v[k]);
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
  for (; r < nrows; ++r) {  // rows left over: the scalar reference
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
    for (int j = 0; j < nsamples; ++j) _mm256_storeu_ps(out + j * out_stride + r, _mm256_load_ps(O + sample_cols[j] * kLanes));
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
    const __m256 cv = _mm256_set1_ps(count);
    size_t c = 0;
    for (; c + kLanes <= len; c += kLanes) {
      __m256 s = _mm256_loadu_ps(sum + c);
      if (kAdd) s = _mm256_add_ps(s, _mm256_loadu_ps(add + c));
      if (kSub) s = _mm256_sub_ps(s, _mm256_loadu_ps(sub + c));
      _mm256_storeu_ps(sum + c, s);
      if (kOut) _mm256_storeu_ps(out + c, _mm256_div_ps(s, cv));
    }
    for (; c < len; ++c) {
      float s = sum[c];
      if (kAdd) s += add[c];
      if (kSub) s -= sub[c];
      sum[c] = s;
      if (kOut) out[c] = s / count;
    }
  }
};

void ColumnStep(float* sum, const float* add, const float* sub, float* out, float count, size_t len) {
  DispatchColumnStep<ColumnStepT>(sum, add, sub, out, count, len);
}

void Dct64To16(const float* a, float* b) {
  alignas(32) float t[16][64];
  for (int u = 0; u < 16; ++u) {
    __m256 acc[8];
    for (int x = 0; x < 8; ++x) acc[x] = _mm256_setzero_ps();
    for (int k = 0; k < 64; ++k) {
      const __m256 d = _mm256_set1_ps(kPdqDct[u][k]);
      for (int x = 0; x < 8; ++x) acc[x] = _mm256_add_ps(acc[x], _mm256_mul_ps(d, _mm256_loadu_ps(a + k * 64 + 8 * x)));
    }
    for (int x = 0; x < 8; ++x) _mm256_store_ps(&t[u][8 * x], acc[x]);
  }
  alignas(32) float dt[64][16];  // D transposed: dt[k][v] = D[v][k]
  for (int v = 0; v < 16; ++v)
    for (int k = 0; k < 64; ++k) dt[k][v] = kPdqDct[v][k];
  for (int u = 0; u < 16; ++u) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int k = 0; k < 64; ++k) {
      const __m256 tv = _mm256_set1_ps(t[u][k]);
      acc0 = _mm256_add_ps(acc0, _mm256_mul_ps(tv, _mm256_load_ps(&dt[k][0])));
      acc1 = _mm256_add_ps(acc1, _mm256_mul_ps(tv, _mm256_load_ps(&dt[k][8])));
    }
    _mm256_storeu_ps(b + 16 * u, acc0);
    _mm256_storeu_ps(b + 16 * u + 8, acc1);
  }
}

}  // namespace

namespace internal {
extern const PdqKernels kAvx2PdqKernels = {
    LumaRgb, LumaGrey, BoxRows, ColumnStep, ColumnRowsSampledByRows<ColumnStep, BoxRowsSampled>, Dct64To16, Luma8Rgb};
}  // namespace internal

}  // namespace hashing
