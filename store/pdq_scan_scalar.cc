// Portable reference kernels: the definition of right for the SIMD ones.
#include <bit>
#include <cstring>

#include "store/pdq_scan_kernels.h"

namespace store {
namespace {

void Scan(const hashing::PdqHash* hay, size_t n, const hashing::PdqHash* needles, int num_needles, int radius,
          std::vector<PdqMatch>* out) {
  for (size_t i = 0; i < n; ++i) {
    for (int j = 0; j < num_needles; ++j) {
      int d = hashing::Distance(hay[i], needles[j]);
      if (d <= radius) out->push_back({static_cast<uint32_t>(i), static_cast<uint8_t>(j), static_cast<uint8_t>(d)});
    }
  }
}

void VerifyIds(const hashing::PdqHash* hay, const uint32_t* ids, size_t n, const hashing::PdqHash& needle,
               int needle_index, int radius, std::vector<PdqMatch>* out) {
  for (size_t k = 0; k < n; ++k) {
    int d = hashing::Distance(hay[ids[k]], needle);
    if (d <= radius) out->push_back({ids[k], static_cast<uint8_t>(needle_index), static_cast<uint8_t>(d)});
  }
}

void FilterPartners(const uint16_t* partners, const uint32_t* ids, size_t n, uint16_t partner, int budget,
                    std::vector<uint32_t>* out) {
  for (size_t k = 0; k < n; ++k) {
    if (std::popcount(static_cast<unsigned>(partners[k] ^ partner)) <= budget) out->push_back(ids[k]);
  }
}

}  // namespace

const PdqKernels kPdqKernelsScalar = {"scalar", Scan, VerifyIds, FilterPartners};

}  // namespace store
