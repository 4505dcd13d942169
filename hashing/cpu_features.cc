#include "hashing/cpu_features.h"

#include <cstdlib>
#include <string>

namespace hashing {

const char* SimdLevelName(SimdLevel level) {
  switch (level) {
    case SimdLevel::kScalar: return "scalar";
    case SimdLevel::kAvx2: return "avx2";
    case SimdLevel::kAvx512: return "avx512";
  }
  return "?";
}

Status ParseSimdLevel(std::string_view name, SimdLevel* out) {
  for (SimdLevel l : kAllSimdLevels) {
    if (name == SimdLevelName(l)) {
      *out = l;
      return Status::Ok();
    }
  }
  return Status::InvalidArgument("unknown SIMD level '" + std::string(name) + "' (scalar, avx2, avx512)");
}

bool CpuSupports(SimdLevel level) {
  // libgcc's __builtin_cpu_supports checks XCR0 too, so a feature the OS does
  // not save across context switches reads as absent.
  __builtin_cpu_init();
  switch (level) {
    case SimdLevel::kScalar: return true;
    case SimdLevel::kAvx2: return __builtin_cpu_supports("avx2");
    case SimdLevel::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  }
  return false;
}

bool CpuHasAvx512Vpopcntdq() {
  __builtin_cpu_init();
  return CpuSupports(SimdLevel::kAvx512) && __builtin_cpu_supports("avx512vpopcntdq");
}

bool CpuHasAvx512Vbmi() {
  __builtin_cpu_init();
  return CpuSupports(SimdLevel::kAvx512) && __builtin_cpu_supports("avx512vbmi");
}

SimdLevel BestSupportedSimdLevel() {
  if (CpuSupports(SimdLevel::kAvx512)) return SimdLevel::kAvx512;
  if (CpuSupports(SimdLevel::kAvx2)) return SimdLevel::kAvx2;
  return SimdLevel::kScalar;
}

Status CheckSimdEnvironment() {
  const char* env = std::getenv("HASHSCREEN_SIMD");
  if (!env || !*env) return Status::Ok();
  SimdLevel level;
  HS_RETURN_IF_ERROR(ParseSimdLevel(env, &level).WithContext("HASHSCREEN_SIMD"));
  if (!CpuSupports(level)) {
    return Status::Unsupported(std::string("HASHSCREEN_SIMD=") + env + ": this CPU does not support it");
  }
  return Status::Ok();
}

SimdLevel ActiveSimdLevel() {
  static const SimdLevel level = [] {
    const char* env = std::getenv("HASHSCREEN_SIMD");
    SimdLevel forced;
    if (env && *env && ParseSimdLevel(env, &forced).ok() && CpuSupports(forced)) return forced;
    return BestSupportedSimdLevel();
  }();
  return level;
}

}  // namespace hashing
