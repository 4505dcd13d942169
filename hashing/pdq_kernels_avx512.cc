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
#include "hashing/pdq_rgb_gather.h"

namespace hashing {
namespace {

constexpr int kLanes = 16;


inline __m512 BytesToFloat(__m128i bytes16) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes16)); }

inline __mmask16 TailMask(size_t rem) { return static_cast<__mmask16>((1u << rem) - 1); }

// Vectors in a ring that holds the last `window` inputs of a running sum
// while the next is stored: a power of two > window (<= 2 * window, so
// 16 floats each fit the scratch of any row length >= window).
inline size_t RingVectors(size_t window) {
  size_t n = 1;
  while (n <= window) n *= 2;
  return n;
}

bool LumaRgb(const uint8_t* rgb, size_t n, float* out) {
  const __m512 cr = _mm512_set1_ps(kLumaR), cg = _mm512_set1_ps(kLumaG), cb = _mm512_set1_ps(kLumaB);
  int grey_mask = 0xFFFF;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const auto [r, g, bl] = LoadRgb16(rgb + 3 * i);
    grey_mask &= _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(r, g), _mm_cmpeq_epi8(g, bl)));
    const __m512 y = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(cr, BytesToFloat(r)), _mm512_mul_ps(cg, BytesToFloat(g))),
                                   _mm512_mul_ps(cb, BytesToFloat(bl)));
    _mm512_storeu_ps(out + i, y);
  }
  const bool tail_grey = LumaRgbReference(rgb + 3 * i, n - i, out + i);
  return grey_mask == 0xFFFF && tail_grey;
}

// 32 pixels per step: two groups of 16 (LoadRgb16), widened to
// 16 bits (77 R + 150 G + 29 B + 128 <= 65408 cannot overflow), narrowed
// back with one truncating move.
void Luma8Rgb(const uint8_t* rgb, size_t n, uint8_t* out) {
  const __m512i wr = _mm512_set1_epi16(kLuma8R), wg = _mm512_set1_epi16(kLuma8G), wb = _mm512_set1_epi16(kLuma8B);
  const __m512i half = _mm512_set1_epi16(128);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const Rgb16 lo = LoadRgb16(rgb + 3 * i), hi = LoadRgb16(rgb + 3 * (i + 16));
    const __m512i r = _mm512_cvtepu8_epi16(_mm256_set_m128i(hi.r, lo.r));
    const __m512i g = _mm512_cvtepu8_epi16(_mm256_set_m128i(hi.g, lo.g));
    const __m512i bl = _mm512_cvtepu8_epi16(_mm256_set_m128i(hi.b, lo.b));
    const __m512i y = _mm512_srli_epi16(
        _mm512_add_epi16(_mm512_add_epi16(_mm512_mullo_epi16(r, wr), _mm512_mullo_epi16(g, wg)),
                         _mm512_add_epi16(_mm512_mullo_epi16(bl, wb), half)),
        8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_cvtepi16_epi8(y));
  }
  Luma8RgbReference(rgb + 3 * i, n - i, out + i);
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

// Filters G strips of kLanes rows (G = 1 or 2) in one pass over 16-column
// chunks, with everything in registers and L1: each chunk of each strip is
// loaded and transposed (lanes = rows), run through the strip's running sum
// (the reference's phases as a stream, as in ColumnRowsSampled below), and
// every 16 finished outputs are transposed back and stored. The inputs a
// later step subtracts wait in a small ring; outputs lag inputs by half - 1
// columns, so in-place filtering (rows_out == rows_in) only overwrites
// columns already loaded. The running sum is a chain of dependent adds and
// subtracts; two strips give two independent chains whose latencies
// overlap, and the next chunk is loaded and transposed before the current
// one runs for the same reason. All state is in locals (registers): see
// ColumnRowsSampled on why.
template <int G>
void BoxStrips(const float* const* rows_in, float* const* rows_out, size_t len, int window, float* scratch) {
  const size_t win = static_cast<size_t>(window), half = static_cast<size_t>((window + 2) / 2);
  const size_t hist = RingVectors(win), wrap = hist - 1;
  float* ring[G];
  float* staged[G];
  __m512 sum[G];
  for (int g = 0; g < G; ++g) {
    ring[g] = scratch + g * (hist + kLanes) * kLanes;  // hist input vectors
    staged[g] = ring[g] + hist * kLanes;               // 16 output vectors
    sum[g] = _mm512_setzero_ps();
  }
  size_t in = 0;

  auto flush = [&](size_t first, size_t count) {  // outputs [first, first + count), count <= 16
    for (int g = 0; g < G; ++g) {
      __m512 v[kLanes];
      for (size_t j = 0; j < kLanes; ++j) {
        v[j] = j < count ? _mm512_load_ps(staged[g] + j * kLanes) : _mm512_setzero_ps();
      }
      Transpose16(v);
      const __mmask16 m = TailMask(count);
      for (int k = 0; k < kLanes; ++k) _mm512_mask_storeu_ps(rows_out[g * kLanes + k] + first, m, v[k]);
    }
  };
  auto output = [&](size_t o, size_t n) {
    const __m512 nv = _mm512_set1_ps(static_cast<float>(n));
    for (int g = 0; g < G; ++g) _mm512_store_ps(staged[g] + (o % kLanes) * kLanes, _mm512_div_ps(sum[g], nv));
    if (o % kLanes == kLanes - 1) flush(o + 1 - kLanes, kLanes);
  };
  auto push = [&](const __m512* x) {  // x[g]: column `in` of strip g
    for (int g = 0; g < G; ++g) {
      _mm512_store_ps(ring[g] + (in & wrap) * kLanes, x[g]);
      sum[g] = _mm512_add_ps(sum[g], x[g]);
      if (in >= win) sum[g] = _mm512_sub_ps(sum[g], _mm512_load_ps(ring[g] + ((in - win) & wrap) * kLanes));
    }
    ++in;
    if (in >= half) output(in - half, in < win ? in : win);
  };
  auto load = [&](size_t c, __m512 v[G][kLanes]) {
    const size_t ncols = len - c < kLanes ? len - c : kLanes;
    const __mmask16 m = TailMask(ncols);
    for (int g = 0; g < G; ++g) {
      for (int k = 0; k < kLanes; ++k) v[g][k] = _mm512_maskz_loadu_ps(m, rows_in[g * kLanes + k] + c);
      Transpose16(v[g]);
    }
  };

  __m512 cur[G][kLanes], nxt[G][kLanes];
  if (len > 0) load(0, cur);
  for (size_t c = 0; c < len; c += kLanes) {
    const size_t ncols = len - c < kLanes ? len - c : kLanes;
    const bool more = c + kLanes < len;
    if (more) load(c + kLanes, nxt);
    for (size_t j = 0; j < ncols; ++j) {
      __m512 x[G];
      for (int g = 0; g < G; ++g) x[g] = cur[g][j];
      push(x);
    }
    if (more) {
      for (int g = 0; g < G; ++g)
        for (int j = 0; j < kLanes; ++j) cur[g][j] = nxt[g][j];
    }
  }
  // Phase 4: the last half - 1 outputs subtract the remaining inputs.
  for (size_t j = 0; j + 1 < half; ++j) {
    for (int g = 0; g < G; ++g) {
      sum[g] = _mm512_sub_ps(sum[g], _mm512_load_ps(ring[g] + ((len - win + j) & wrap) * kLanes));
    }
    output(len - half + 1 + j, win - 1 - j);
  }
  if (len % kLanes != 0) flush(len - len % kLanes, len % kLanes);
}

void BoxRows(const float* in, size_t in_stride, float* out, size_t out_stride, size_t nrows, size_t len,
             int window, float* scratch) {
  // Two strips at once when their rings fit the scratch (always, for the
  // windows PDQ uses: window <= len / 128 + 1).
  const size_t two_strips = 2 * (RingVectors(static_cast<size_t>(window)) + kLanes) * kLanes;
  const bool pairs = two_strips <= BoxRowsScratchFloats(len);
  const float* rows_in[2 * kLanes];
  float* rows_out[2 * kLanes];
  size_t r = 0;
  for (; r + kLanes <= nrows;) {
    const int strips = pairs && r + 2 * kLanes <= nrows ? 2 : 1;
    for (int k = 0; k < strips * kLanes; ++k) {
      rows_in[k] = in + (r + k) * in_stride;
      rows_out[k] = out + (r + k) * out_stride;
    }
    if (strips == 2) {
      BoxStrips<2>(rows_in, rows_out, len, window, scratch);
    } else {
      BoxStrips<1>(rows_in, rows_out, len, window, scratch);
    }
    r += strips * kLanes;
  }
  float* O = scratch;
  for (; r < nrows; ++r) {
    const float* src = in + r * in_stride;
    for (size_t i = 0; i < len; ++i) O[i] = src[i];
    BoxFilter1D(O, out + r * out_stride, static_cast<int>(len), window);
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

// Passes B and C fused, 16 columns at a time: the pass-B values of 16
// columns are computed in registers (lanes = columns), transposed (lanes =
// rows) and fed straight into pass C; no pass-B row is stored.
//
// Pass C runs over the transposed vectors (lane r = row r) one column at a
// time, in the reference's phases written as a stream: add input `in`; from
// in = window on, subtract input in - window (kept in a small ring in
// scratch, in L1); from in = half - 1 on, output in - (half - 1) is the sum
// of min(in + 1, window) inputs. Only sampled outputs are divided and
// stored: pass C's other outputs are never used.
//
// The steady state (16 rows, each adding and subtracting a row, one count)
// is software-pipelined: pass B's chain for chunk k + 1 (16 dependent
// add/subtract steps down the rows) and pass C's chain for chunk k (16
// dependent steps along the columns) are independent, so a step of one is
// interleaved with a step of the other and their latencies overlap. All
// pass-C state lives in locals (registers): __m512 may alias any float
// store, so state behind a pointer would go through memory at every step.
void ColumnRowsSampled(float* sums, const float* const* add, const float* const* sub, const float* counts, int nrows,
                       size_t len, int window, const int* sample_cols, int nsamples, float* out, size_t out_stride,
                       float* scratch) {
  const size_t win = static_cast<size_t>(window), half = static_cast<size_t>((window + 2) / 2);
  const size_t wrap = RingVectors(win) - 1;
  float* const ring = scratch;
  const __mmask16 rows = TailMask(static_cast<size_t>(nrows));

  __m512 csum = _mm512_setzero_ps();
  size_t in = 0;
  int next = 0;
  size_t next_col = nsamples > 0 ? static_cast<size_t>(sample_cols[0]) : len;
  auto emit = [&](size_t n) {
    const __m512 v = _mm512_div_ps(csum, _mm512_set1_ps(static_cast<float>(n)));
    const size_t col = next_col;
    for (; next < nsamples && static_cast<size_t>(sample_cols[next]) == col; ++next) {
      _mm512_mask_storeu_ps(out + next * out_stride, rows, v);
    }
    next_col = next < nsamples ? static_cast<size_t>(sample_cols[next]) : len;
  };
  auto push = [&](__m512 x) {
    _mm512_store_ps(ring + (in & wrap) * kLanes, x);
    csum = _mm512_add_ps(csum, x);
    if (in >= win) csum = _mm512_sub_ps(csum, _mm512_load_ps(ring + ((in - win) & wrap) * kLanes));
    ++in;
    // Output in - half (in already advanced) is ready once in >= half.
    if (in >= half && in - half == next_col) emit(in < win ? in : win);
  };

  bool steady = nrows == kLanes;
  for (int r = 0; r < nrows && steady; ++r) steady = add[r] && sub[r] && counts[r] == counts[0];
  __m512 cur[kLanes], nxt[kLanes];
  size_t c = 0;
  if (steady) {
    const __m512 cv = _mm512_set1_ps(counts[0]);
    const size_t full = len / kLanes * kLanes;
    for (; c < full; c += kLanes) {
      // Pass B of chunk c into nxt, interleaved with pass C of chunk c - 16.
      __m512 s = _mm512_loadu_ps(sums + c);
#pragma GCC unroll 16
      for (int r = 0; r < kLanes; ++r) {
        s = _mm512_sub_ps(_mm512_add_ps(s, _mm512_loadu_ps(add[r] + c)), _mm512_loadu_ps(sub[r] + c));
        nxt[r] = _mm512_div_ps(s, cv);
        if (c > 0) push(cur[r]);
      }
      _mm512_storeu_ps(sums + c, s);
      Transpose16(nxt);
#pragma GCC unroll 16
      for (int r = 0; r < kLanes; ++r) cur[r] = nxt[r];
    }
    if (c > 0) {
      for (int r = 0; r < kLanes; ++r) push(cur[r]);
    }
  }
  // The rest: every column of a batch that is not steady (rows without an add
  // or a subtract at the image edges, varying counts, fewer than 16 rows;
  // lanes past nrows are zero and never stored), or the last partial chunk.
  for (; c < len; c += kLanes) {
    const size_t ncols = len - c < kLanes ? len - c : kLanes;
    const __mmask16 m = TailMask(ncols);
    __m512 s = _mm512_maskz_loadu_ps(m, sums + c);
    for (int r = 0; r < nrows; ++r) {
      if (add[r]) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(m, add[r] + c));
      if (sub[r]) s = _mm512_sub_ps(s, _mm512_maskz_loadu_ps(m, sub[r] + c));
      nxt[r] = _mm512_div_ps(s, _mm512_set1_ps(counts[r]));
    }
    for (int r = nrows; r < kLanes; ++r) nxt[r] = _mm512_setzero_ps();
    _mm512_mask_storeu_ps(sums + c, m, s);
    Transpose16(nxt);
    for (size_t j = 0; j < ncols; ++j) push(nxt[j]);
  }
  // Phase 4: the last half - 1 outputs subtract the remaining inputs.
  for (size_t j = 0; j + 1 < half; ++j) {
    csum = _mm512_sub_ps(csum, _mm512_load_ps(ring + ((len - win + j) & wrap) * kLanes));
    if (len - half + 1 + j == next_col) emit(win - 1 - j);
  }
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

}  // namespace

namespace internal {
extern const PdqKernels kAvx512PdqKernels = {LumaRgb,           LumaGrey,  BoxRows, ColumnStep,
                                             ColumnRowsSampled, Dct64To16, Luma8Rgb};
// The same with the VBMI luma kernel (its own translation unit, compiled
// with -mavx512vbmi).
extern const PdqKernels kAvx512VbmiPdqKernels = {LumaRgbAvx512Vbmi, LumaGrey,  BoxRows, ColumnStep,
                                                 ColumnRowsSampled, Dct64To16, Luma8Rgb};
}  // namespace internal

}  // namespace hashing
