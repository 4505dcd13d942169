// SIMD level selection, simdjson-style: every accelerated operation has a
// scalar reference and per-ISA kernels; the best level the CPU (and OS)
// supports is picked once per process, and HASHSCREEN_SIMD=scalar|avx2|avx512
// forces one for tests and benchmarks.
#pragma once

#include <string_view>

#include "hashing/status.h"

namespace hashing {

enum class SimdLevel { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };
inline constexpr SimdLevel kAllSimdLevels[] = {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512};

const char* SimdLevelName(SimdLevel level);  // "scalar", "avx2", "avx512"
Status ParseSimdLevel(std::string_view name, SimdLevel* out);

// kAvx2 needs AVX2; kAvx512 needs AVX-512 F, BW, DQ and VL (Skylake-X and
// later, Zen 4), each with OS support for the register state.
bool CpuSupports(SimdLevel level);
// AVX-512 VPOPCNTDQ (Ice Lake and later, Zen 4): used by the match index.
bool CpuHasAvx512Vpopcntdq();
// AVX-512 VBMI (Ice Lake and later, Zen 4): byte permutes, used by the
// AVX-512 luma kernel to split RGB into channels in one instruction each.
bool CpuHasAvx512Vbmi();
SimdLevel BestSupportedSimdLevel();

// The process-wide level: HASHSCREEN_SIMD when set and valid, otherwise the
// best supported. Decided on first call; thread-safe.
SimdLevel ActiveSimdLevel();
// Binaries call this at start-up: an error when HASHSCREEN_SIMD is set to an
// unknown name or to a level this CPU lacks, so a forced run never silently
// measures or tests another path.
Status CheckSimdEnvironment();

}  // namespace hashing
