// CpuFeatures: which instruction-set extensions this CPU (and the OS, which
// must save the wider registers across context switches) supports, as a bit
// set. Kernel implementations declare the extensions they execute in the
// same terms (base/kernel_registry.h).
//
// Thread-safety: pure functions (the CPU is probed once).
#pragma once

#include <cstdint>
#include <string>

namespace base {

using IsaSet = uint32_t;

enum Isa : IsaSet {
  kIsaPopcnt = 1u << 0,
  kIsaAvx2 = 1u << 1,
  kIsaAvx512F = 1u << 2,
  kIsaAvx512BW = 1u << 3,
  kIsaAvx512DQ = 1u << 4,
  kIsaAvx512VL = 1u << 5,
  kIsaAvx512Vpopcntdq = 1u << 6,
  kIsaAvx512Vbmi = 1u << 7,
};

// The AVX-512 subsets every avx512 kernel may use (Skylake-X and later, Zen 4).
inline constexpr IsaSet kIsaAvx512Base = kIsaAvx512F | kIsaAvx512BW | kIsaAvx512DQ | kIsaAvx512VL;

// Everything this CPU and OS support.
IsaSet CpuIsas();
// "avx2+popcnt", "none" for the empty set.
std::string IsaSetNames(IsaSet set);

}  // namespace base
