#include "base/cpu_features.h"

namespace base {

namespace {

struct IsaName {
  Isa isa;
  const char* name;
};

constexpr IsaName kIsas[] = {
    {kIsaPopcnt, "popcnt"},
    {kIsaAvx2, "avx2"},
    {kIsaAvx512F, "avx512f"},
    {kIsaAvx512BW, "avx512bw"},
    {kIsaAvx512DQ, "avx512dq"},
    {kIsaAvx512VL, "avx512vl"},
    {kIsaAvx512Vpopcntdq, "avx512vpopcntdq"},
    {kIsaAvx512Vbmi, "avx512vbmi"},
};

// __builtin_cpu_supports needs a string literal, so one call per feature.
bool Supports(Isa isa) {
  switch (isa) {
    case kIsaPopcnt: return __builtin_cpu_supports("popcnt");
    case kIsaAvx2: return __builtin_cpu_supports("avx2");
    case kIsaAvx512F: return __builtin_cpu_supports("avx512f");
    case kIsaAvx512BW: return __builtin_cpu_supports("avx512bw");
    case kIsaAvx512DQ: return __builtin_cpu_supports("avx512dq");
    case kIsaAvx512VL: return __builtin_cpu_supports("avx512vl");
    case kIsaAvx512Vpopcntdq: return __builtin_cpu_supports("avx512vpopcntdq");
    case kIsaAvx512Vbmi: return __builtin_cpu_supports("avx512vbmi");
  }
  return false;
}

}  // namespace

IsaSet CpuIsas() {
  // libgcc's __builtin_cpu_supports checks XCR0 too, so a feature the OS does
  // not save across context switches reads as absent.
  static const IsaSet isas = [] {
    __builtin_cpu_init();
    IsaSet s = 0;
    for (const IsaName& i : kIsas) {
      if (Supports(i.isa)) s |= i.isa;
    }
    return s;
  }();
  return isas;
}

std::string IsaSetNames(IsaSet set) {
  std::string out;
  for (const IsaName& i : kIsas) {
    if (!(set & i.isa)) continue;
    if (!out.empty()) out += '+';
    out += i.name;
  }
  return out.empty() ? "none" : out;
}

}  // namespace base
