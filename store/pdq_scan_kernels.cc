#include "store/pdq_scan_kernels.h"

namespace store {

const PdqKernels* PdqKernelsFor(hashing::SimdLevel level) {
  switch (level) {
    case hashing::SimdLevel::kScalar: return &kPdqKernelsScalar;
    case hashing::SimdLevel::kAvx2:
      return hashing::CpuSupports(hashing::SimdLevel::kAvx2) ? &kPdqKernelsAvx2 : nullptr;
    case hashing::SimdLevel::kAvx512:
      return hashing::CpuHasAvx512Vpopcntdq() ? &kPdqKernelsAvx512 : nullptr;
  }
  return nullptr;
}

const PdqKernels& PdqKernelsActive() {
  static const PdqKernels* const kernels = [] {
    hashing::SimdLevel level = hashing::ActiveSimdLevel();
    if (const PdqKernels* k = PdqKernelsFor(level)) return k;
    // An AVX-512 CPU without VPOPCNTDQ (Skylake-X): AVX2 is the fastest we have.
    if (const PdqKernels* k = PdqKernelsFor(hashing::SimdLevel::kAvx2)) return k;
    return &kPdqKernelsScalar;
  }();
  return *kernels;
}

}  // namespace store
