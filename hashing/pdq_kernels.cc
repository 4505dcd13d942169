// The PDQ kernel family: which table runs on which CPU (base/kernel_registry.h).
#include "hashing/pdq_kernels.h"

namespace hashing {

namespace {
using base::SimdPath;
constexpr base::KernelImpl<PdqKernels> kImpls[] = {
    {"scalar", SimdPath::kScalar, 0, &internal::kScalarPdqKernels},
    {"avx2", SimdPath::kAvx2, base::kIsaAvx2, &internal::kAvx2PdqKernels},
    {"avx512-vbmi", SimdPath::kAvx512, base::kIsaAvx512Base | base::kIsaAvx512Vbmi, &internal::kAvx512VbmiPdqKernels},
    {"avx512", SimdPath::kAvx512, base::kIsaAvx512Base, &internal::kAvx512PdqKernels},
};
constexpr base::KernelFamily<PdqKernels> kFamily("pdq", kImpls);
}  // namespace

const base::KernelFamily<PdqKernels>& PdqKernelFamily() { return kFamily; }

const PdqKernels& ActivePdqKernels() {
  static const PdqKernels* const k = kFamily.Active().table;
  return *k;
}

const PdqKernels& ScalarPdqKernels() { return internal::kScalarPdqKernels; }

}  // namespace hashing
