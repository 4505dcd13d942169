// PDQ distance kernels for the match index: one portable reference (scalar)
// and AVX2 / AVX-512 (VPOPCNTDQ) implementations of the same three
// operations, each in its own translation unit compiled with its own ISA
// flags, registered in one family (base/kernel_registry.h): tests run every
// implementation the CPU has against the scalar one.
//
// The kernels write into caller-provided arrays and return how many entries
// they wrote: the ISA translation units use no standard-library container or
// template (an inline function instantiated there could be the copy the
// linker keeps, and would then run on CPUs without the ISA).
//
// Thread-safety: the kernels are pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/kernel_registry.h"
#include "base/pdq_hash.h"

namespace idx {

// One list hash within the radius of one needle.
struct PdqMatch {
  uint32_t index;    // position in the haystack
  uint8_t needle;    // which needle (query variant)
  uint8_t distance;  // Hamming distance, <= radius
};

struct PdqScanKernels {
  // Compares every hay[i], i < n, with needles[0..num_needles) (num_needles
  // <= 8, one pass over the haystack for all of them) and writes each pair at
  // distance <= radius to out (order unspecified). `out` has room for
  // n * num_needles entries.
  size_t (*scan)(const base::PdqHash* hay, size_t n, const base::PdqHash* needles, int num_needles, int radius,
                 PdqMatch* out);
  // Compares hay[ids[k]] for k < n with one needle, writing those at distance
  // <= radius (index = ids[k]). `out` has room for n entries.
  size_t (*verify_ids)(const base::PdqHash* hay, const uint32_t* ids, size_t n, const base::PdqHash* needle,
                       int needle_index, int radius, PdqMatch* out);
  // The multi-index's bucket filter: writes ids[k] for every k < n with
  // popcount(partners[k] ^ partner) <= budget (budget >= 0). `out` has room
  // for n entries.
  size_t (*filter_partners)(const uint16_t* partners, const uint32_t* ids, size_t n, uint16_t partner, int budget,
                            uint32_t* out);
};

// scalar, avx2, avx512 (the last needs VPOPCNTDQ besides the path's base set).
const base::KernelFamily<PdqScanKernels>& PdqScanKernelFamily();
// The implementation of the process's SIMD path.
const PdqScanKernels& ActivePdqScanKernels();

namespace internal {
extern const PdqScanKernels kScalarPdqScanKernels;
extern const PdqScanKernels kAvx2PdqScanKernels;
extern const PdqScanKernels kAvx512PdqScanKernels;
}  // namespace internal

}  // namespace idx
