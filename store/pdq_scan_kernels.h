// PDQ distance kernels for the match index: one portable reference (scalar)
// and AVX2 / AVX-512 (VPOPCNTDQ) implementations of the same two operations,
// each in its own translation unit compiled with its own ISA flags. Which one
// runs is decided once per process (PdqKernelsActive) from the CPU and
// HASHSCREEN_SIMD; tests call every supported one through PdqKernelsFor.
//
// Thread-safety: the kernels are pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "hashing/cpu_features.h"
#include "hashing/pdq_hash.h"

namespace store {

// One list hash within the radius of one needle.
struct PdqMatch {
  uint32_t index;    // position in the haystack
  uint8_t needle;    // which needle (query variant)
  uint8_t distance;  // Hamming distance, <= radius
};

struct PdqKernels {
  const char* name;
  // Compares every hay[i] with needles[0..num_needles) (num_needles <= 8, one
  // pass over the haystack for all of them) and appends each pair at
  // distance <= radius to *out (order unspecified).
  void (*scan)(const hashing::PdqHash* hay, size_t n, const hashing::PdqHash* needles, int num_needles,
               int radius, std::vector<PdqMatch>* out);
  // Compares hay[ids[k]] for k < n with one needle, appending those at
  // distance <= radius (index = ids[k]).
  void (*verify_ids)(const hashing::PdqHash* hay, const uint32_t* ids, size_t n, const hashing::PdqHash& needle,
                     int needle_index, int radius, std::vector<PdqMatch>* out);
  // The multi-index's bucket filter: appends ids[k] for every k < n with
  // popcount(partners[k] ^ partner) <= budget (budget >= 0).
  void (*filter_partners)(const uint16_t* partners, const uint32_t* ids, size_t n, uint16_t partner, int budget,
                          std::vector<uint32_t>* out);
};

extern const PdqKernels kPdqKernelsScalar;
extern const PdqKernels kPdqKernelsAvx2;
extern const PdqKernels kPdqKernelsAvx512;

// Kernels for `level`; nullptr when this CPU cannot run them. The AVX-512
// kernels need VPOPCNTDQ on top of what hashing::CpuSupports(kAvx512) checks.
const PdqKernels* PdqKernelsFor(hashing::SimdLevel level);
// hashing::ActiveSimdLevel()'s kernels; on an AVX-512 CPU without VPOPCNTDQ,
// the AVX2 ones.
const PdqKernels& PdqKernelsActive();

}  // namespace store
