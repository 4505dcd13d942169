// Portable reference kernels: the definition of right for the SIMD ones.
#include "index/pdq_scan_kernels.h"

namespace idx {
namespace {

size_t Scan(const base::PdqHash* hay, size_t n, const base::PdqHash* needles, int num_needles, int radius,
            PdqMatch* out) {
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    for (int j = 0; j < num_needles; ++j) {
      const int d = base::Distance(hay[i], needles[j]);
      if (d <= radius) out[k++] = {static_cast<uint32_t>(i), static_cast<uint8_t>(j), static_cast<uint8_t>(d)};
    }
  }
  return k;
}

size_t VerifyIds(const base::PdqHash* hay, const uint32_t* ids, size_t n, const base::PdqHash* needle,
                 int needle_index, int radius, PdqMatch* out) {
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    const int d = base::Distance(hay[ids[i]], *needle);
    if (d <= radius) out[k++] = {ids[i], static_cast<uint8_t>(needle_index), static_cast<uint8_t>(d)};
  }
  return k;
}

size_t FilterPartners(const uint16_t* partners, const uint32_t* ids, size_t n, uint16_t partner, int budget,
                      uint32_t* out) {
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    if (__builtin_popcount(static_cast<unsigned>(partners[i] ^ partner)) <= budget) out[k++] = ids[i];
  }
  return k;
}

}  // namespace

namespace internal {
extern const PdqScanKernels kScalarPdqScanKernels = {Scan, VerifyIds, FilterPartners};
}  // namespace internal

}  // namespace idx
