#include "base/kernel_registry.h"

#include <cstdio>
#include <cstdlib>

namespace base {

namespace {

struct Decision {
  Status status;
  SimdPath path = SimdPath::kScalar;
};

Decision Decide() {
  Decision d;
  d.path = BestSimdPath();
  const char* env = std::getenv("HASHSCREEN_SIMD");
  if (!env || !*env) return d;
  SimdPath forced;
  if (Status s = ParseSimdPath(env, &forced); !s.ok()) {
    d.status = s.WithContext("HASHSCREEN_SIMD");
    return d;
  }
  if (!CpuSupports(forced)) {
    std::string valid;
    for (SimdPath p : kAllSimdPaths) {
      if (CpuSupports(p)) valid += (valid.empty() ? "" : ", ") + std::string(SimdPathName(p));
    }
    d.status = Status::Unsupported(std::string("HASHSCREEN_SIMD=") + env + ": this CPU lacks " +
                                   IsaSetNames(SimdPathIsas(forced) & ~CpuIsas()) + " (paths it can run: " + valid +
                                   ")");
    return d;
  }
  d.path = forced;
  return d;
}

const Decision& TheDecision() {
  static const Decision d = Decide();
  return d;
}

}  // namespace

const char* SimdPathName(SimdPath path) {
  switch (path) {
    case SimdPath::kScalar: return "scalar";
    case SimdPath::kAvx2: return "avx2";
    case SimdPath::kAvx512: return "avx512";
  }
  return "?";
}

Status ParseSimdPath(std::string_view name, SimdPath* out) {
  for (SimdPath p : kAllSimdPaths) {
    if (name == SimdPathName(p)) {
      *out = p;
      return Status::Ok();
    }
  }
  return Status::InvalidArgument("unknown SIMD path '" + std::string(name) + "' (valid: scalar, avx2, avx512)");
}

IsaSet SimdPathIsas(SimdPath path) {
  switch (path) {
    case SimdPath::kScalar: return 0;
    case SimdPath::kAvx2: return kIsaAvx2 | kIsaPopcnt;
    case SimdPath::kAvx512: return kIsaAvx2 | kIsaPopcnt | kIsaAvx512Base;
  }
  return 0;
}

bool CpuSupports(SimdPath path) { return (CpuIsas() & SimdPathIsas(path)) == SimdPathIsas(path); }

SimdPath BestSimdPath() {
  if (CpuSupports(SimdPath::kAvx512)) return SimdPath::kAvx512;
  if (CpuSupports(SimdPath::kAvx2)) return SimdPath::kAvx2;
  return SimdPath::kScalar;
}

Status InitSimd() { return TheDecision().status; }

SimdPath ActiveSimdPath() {
  const Decision& d = TheDecision();
  if (!d.status.ok()) {
    std::fprintf(stderr, "hashscreen: %s\n", d.status.ToString().c_str());
    std::exit(2);
  }
  return d.path;
}

std::string DescribeSimd() {
  return std::string(SimdPathName(ActiveSimdPath())) + " (cpu: " + IsaSetNames(CpuIsas()) + ")";
}

}  // namespace base
