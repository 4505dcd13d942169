// PdqKernels: the hot stages of PDQ (luma, the Jarosz box filter, the DCT),
// and the border detector's 8-bit luma, one implementation per SIMD level
// behind one table of function pointers.
//
// Every implementation computes bit-identical results to the scalar
// reference: binary32, the reference's operation order, no fused
// multiply-add, real divisions. SIMD kernels vectorise only across
// independent rows, columns or outputs, so each lane performs exactly the
// scalar sequence of operations. Tests assert the equality on every level.
//
// The kernels are stateless and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/kernel_registry.h"

namespace hashing {

struct PdqKernels {
  // Luma of n interleaved RGB pixels: out[i] = (cR*R + cG*G) + cB*B, each
  // product rounded to float. Returns true iff every pixel had R == G == B.
  bool (*luma_rgb)(const uint8_t* rgb, size_t n, float* out);

  // out[i] = float(grey[i]).
  void (*luma_grey)(const uint8_t* grey, size_t n, float* out);

  // One-dimensional box filter of `window` along each of `nrows` rows of
  // length `len` (the reference's box1DFloat with stride 1). Row r is read
  // from in + r*in_stride and written to out + r*out_stride; in == out is
  // allowed. `scratch` holds BoxRowsScratchFloats(len) floats, 64-byte aligned.
  void (*box_rows)(const float* in, size_t in_stride, float* out, size_t out_stride, size_t nrows,
                   size_t len, int window, float* scratch);

  // One step of the column-wise running sums of the vertical box filter,
  // across `len` independent columns: s = sum[c]; if add, s = s + add[c]; if
  // sub, s = s - sub[c]; sum[c] = s; if out, out[c] = s / count.
  void (*column_step)(float* sum, const float* add, const float* sub, float* out, float count, size_t len);

  // Passes B and C of JaroszStream for nrows (1..16) consecutive output
  // rows. For each row r in order the vertical running sums advance:
  // s = sums[c]; if add[r], s = s + add[r][c]; if sub[r], s = s - sub[r][c];
  // sums[c] = s; and the row's value at c is s / counts[r]. Each such row is
  // then box-filtered along its len values with `window` (box_rows), keeping
  // only columns sample_cols[0..nsamples) (ascending), written transposed:
  // out[j * out_stride + r]. Lets a kernel keep the rows in registers
  // between the passes and divide only where a sample is taken.
  // `scratch` holds ColumnRowsScratchFloats(len) floats, 64-byte aligned.
  void (*column_rows_sampled)(float* sums, const float* const* add, const float* const* sub, const float* counts,
                              int nrows, size_t len, int window, const int* sample_cols, int nsamples, float* out,
                              size_t out_stride, float* scratch);

  // b[16x16] = D * a[64x64] * D^T with D = kPdqDct, each output accumulated
  // in float with k increasing from 0.
  void (*dct64_to_16)(const float* a, float* b);

  // The border detector's luma (hashing/border_detector.h) of n interleaved
  // RGB pixels, in integers: out[i] = (77 R + 150 G + 29 B + 128) >> 8, 0..255.
  // Not part of PDQ; it lives here to share the registry and the tests.
  void (*luma8_rgb)(const uint8_t* rgb, size_t n, uint8_t* out);
};

// Scratch floats box_rows needs for rows of length len (any level).
inline size_t BoxRowsScratchFloats(size_t len) { return 32 * (len + 16); }
// Scratch floats column_rows_sampled needs for rows of length len (any level).
inline size_t ColumnRowsScratchFloats(size_t len) { return 16 * len + BoxRowsScratchFloats(len) + 1024; }

// The implementations (scalar, avx2, avx512-vbmi, avx512), each declaring
// the extensions it executes (base/kernel_registry.h).
const base::KernelFamily<PdqKernels>& PdqKernelFamily();
// The implementation of the process's SIMD path.
const PdqKernels& ActivePdqKernels();
// The scalar reference.
const PdqKernels& ScalarPdqKernels();

// The scalar reference box filter of one row (box1DFloat). SIMD kernels call
// it for rows that do not fill a whole vector strip. `out` must not alias `in`.
void BoxFilter1D(const float* in, float* out, int len, int window);

// The scalar reference luma_rgb. SIMD kernels call it for the last pixels of
// a row, those that do not fill a vector.
bool LumaRgbReference(const uint8_t* rgb, size_t n, float* out);

// The scalar reference luma8_rgb, for the pixels SIMD kernels leave over.
void Luma8RgbReference(const uint8_t* rgb, size_t n, uint8_t* out);

// luma8_rgb's weights, of 256 (0.299, 0.587, 0.114 rounded; they sum to 256,
// so a grey pixel keeps its level).
inline constexpr int kLuma8R = 77;
inline constexpr int kLuma8G = 150;
inline constexpr int kLuma8B = 29;

// The luma coefficients: the floats nearest 0.299, 0.587 and 0.114.
inline constexpr float kLumaR = 0.299f;
inline constexpr float kLumaG = 0.587f;
inline constexpr float kLumaB = 0.114f;

namespace internal {
// The tables, one per translation unit compiled for its ISA.
extern const PdqKernels kScalarPdqKernels;
extern const PdqKernels kAvx2PdqKernels;
extern const PdqKernels kAvx512PdqKernels;
extern const PdqKernels kAvx512VbmiPdqKernels;
// luma_rgb for AVX-512 CPUs with VBMI.
bool LumaRgbAvx512Vbmi(const uint8_t* rgb, size_t n, float* out);
}  // namespace internal

}  // namespace hashing
