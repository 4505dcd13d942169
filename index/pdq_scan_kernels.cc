// The index's kernel family: which table runs on which CPU.
#include "index/pdq_scan_kernels.h"

namespace idx {

namespace {
using base::SimdPath;
constexpr base::KernelImpl<PdqScanKernels> kImpls[] = {
    {"scalar", SimdPath::kScalar, 0, &internal::kScalarPdqScanKernels},
    {"avx2", SimdPath::kAvx2, base::kIsaAvx2 | base::kIsaPopcnt, &internal::kAvx2PdqScanKernels},
    {"avx512", SimdPath::kAvx512, base::kIsaAvx512Base | base::kIsaAvx512Vpopcntdq | base::kIsaPopcnt,
     &internal::kAvx512PdqScanKernels},
};
constexpr base::KernelFamily<PdqScanKernels> kFamily("index", kImpls);
}  // namespace

const base::KernelFamily<PdqScanKernels>& PdqScanKernelFamily() { return kFamily; }

const PdqScanKernels& ActivePdqScanKernels() {
  static const PdqScanKernels* const k = kFamily.Active().table;
  return *k;
}

}  // namespace idx
