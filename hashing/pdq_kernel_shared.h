// Pieces shared by the per-ISA kernel translation units: constant tables and
// compile-time dispatch. Everything here is data or a template with internal
// linkage (anonymous namespace), so each ISA's TU compiles its own copy and no
// AVX-512 code can be the copy the linker keeps for an AVX2 TU.
// Include only from pdq_kernels_*.cc.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hashing {
namespace {

// Calls Step<add?, sub?, out?>::Run(...) for the operands that are present, so
// the per-column loop has no branches.
template <template <bool, bool, bool> class Step>
void DispatchColumnStep(float* sum, const float* add, const float* sub, float* out, float count, size_t len) {
  switch ((add ? 4 : 0) | (sub ? 2 : 0) | (out ? 1 : 0)) {
    case 1: return Step<false, false, true>::Run(sum, add, sub, out, count, len);
    case 2: return Step<false, true, false>::Run(sum, add, sub, out, count, len);
    case 3: return Step<false, true, true>::Run(sum, add, sub, out, count, len);
    case 4: return Step<true, false, false>::Run(sum, add, sub, out, count, len);
    case 5: return Step<true, false, true>::Run(sum, add, sub, out, count, len);
    case 6: return Step<true, true, false>::Run(sum, add, sub, out, count, len);
    case 7: return Step<true, true, true>::Run(sum, add, sub, out, count, len);
    default: return;  // nothing to add, subtract or write
  }
}

// column_rows_sampled from a level's own column_step and a BoxRowsSampled
// (box_rows keeping only columns sample_cols[0..nsamples) of each filtered
// row, written transposed: out[j * out_stride + r]): the nrows pass-B rows
// go through scratch, then pass C filters them.
template <auto kColumnStep, auto kBoxRowsSampled>
void ColumnRowsSampledByRows(float* sums, const float* const* add, const float* const* sub, const float* counts,
                             int nrows, size_t len, int window, const int* sample_cols, int nsamples, float* out,
                             size_t out_stride, float* scratch) {
  float* rows = scratch;
  for (int r = 0; r < nrows; ++r) kColumnStep(sums, add[r], sub[r], rows + r * len, counts[r], len);
  kBoxRowsSampled(rows, len, static_cast<size_t>(nrows), len, window, sample_cols, nsamples, out, out_stride,
                  scratch + 16 * len);
}

}  // namespace
}  // namespace hashing
