// The scalar reference kernels. This translation unit is compiled with
// auto-vectorisation off, so it stays the honest one-lane baseline the
// benchmarks compare against, and the obvious transcription of the reference.
#include "hashing/pdq_dct_table.h"
#include "hashing/pdq_kernel_shared.h"
#include "hashing/pdq_kernels.h"

namespace hashing {

void BoxFilter1D(const float* in, float* out, int len, int window) {
  // The reference's four phases, in its exact order of float operations.
  const int half = (window + 2) / 2;
  const int phase1 = half - 1;
  const int phase2 = window - half + 1;
  const int phase3 = len - window;
  const int phase4 = half - 1;
  int li = 0, ri = 0, oi = 0, n = 0;
  float sum = 0.0f;
  for (int i = 0; i < phase1; ++i) {
    sum += in[ri++];
    ++n;
  }
  for (int i = 0; i < phase2; ++i) {
    sum += in[ri++];
    ++n;
    out[oi++] = sum / static_cast<float>(n);
  }
  for (int i = 0; i < phase3; ++i) {
    sum += in[ri++];
    sum -= in[li++];
    out[oi++] = sum / static_cast<float>(n);
  }
  for (int i = 0; i < phase4; ++i) {
    sum -= in[li++];
    --n;
    out[oi++] = sum / static_cast<float>(n);
  }
}

bool LumaRgbReference(const uint8_t* rgb, size_t n, float* out) {
  bool grey = true;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
    out[i] = (kLumaR * static_cast<float>(r) + kLumaG * static_cast<float>(g)) + kLumaB * static_cast<float>(b);
    grey &= (r == g) & (g == b);
  }
  return grey;
}

void Luma8RgbReference(const uint8_t* rgb, size_t n, uint8_t* out) {
  for (size_t i = 0; i < n; ++i, rgb += 3) {
    out[i] = static_cast<uint8_t>((kLuma8R * rgb[0] + kLuma8G * rgb[1] + kLuma8B * rgb[2] + 128) >> 8);
  }
}

namespace {

void LumaGrey(const uint8_t* grey, size_t n, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(grey[i]);
}

void BoxRows(const float* in, size_t in_stride, float* out, size_t out_stride, size_t nrows, size_t len,
             int window, float* scratch) {
  for (size_t r = 0; r < nrows; ++r) {
    const float* src = in + r * in_stride;
    for (size_t i = 0; i < len; ++i) scratch[i] = src[i];  // allows in == out
    BoxFilter1D(scratch, out + r * out_stride, static_cast<int>(len), window);
  }
}

void BoxRowsSampled(const float* in, size_t in_stride, size_t nrows, size_t len, int window, const int* sample_cols,
                    int nsamples, float* out, size_t out_stride, float* scratch) {
  float* filtered = scratch + len + 16;
  for (size_t r = 0; r < nrows; ++r) {
    const float* src = in + r * in_stride;
    for (size_t i = 0; i < len; ++i) scratch[i] = src[i];
    BoxFilter1D(scratch, filtered, static_cast<int>(len), window);
    for (int j = 0; j < nsamples; ++j) out[j * out_stride + r] = filtered[sample_cols[j]];
  }
}

void ColumnStep(float* sum, const float* add, const float* sub, float* out, float count, size_t len) {
  for (size_t c = 0; c < len; ++c) {
    float s = sum[c];
    if (add) s += add[c];
    if (sub) s -= sub[c];
    sum[c] = s;
    if (out) out[c] = s / count;
  }
}

void Dct64To16(const float* a, float* b) {
  float t[16][64];
  for (int u = 0; u < 16; ++u) {
    for (int x = 0; x < 64; ++x) {
      float acc = 0.0f;
      for (int k = 0; k < 64; ++k) acc += kPdqDct[u][k] * a[k * 64 + x];
      t[u][x] = acc;
    }
  }
  for (int u = 0; u < 16; ++u) {
    for (int v = 0; v < 16; ++v) {
      float acc = 0.0f;
      for (int k = 0; k < 64; ++k) acc += t[u][k] * kPdqDct[v][k];
      b[u * 16 + v] = acc;
    }
  }
}

}  // namespace

namespace internal {
extern const PdqKernels kScalarPdqKernels = {
    LumaRgbReference, LumaGrey, BoxRows, ColumnStep, ColumnRowsSampledByRows<ColumnStep, BoxRowsSampled>,
    Dct64To16,        Luma8RgbReference};
}  // namespace internal

}  // namespace hashing
