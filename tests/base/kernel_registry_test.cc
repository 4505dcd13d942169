#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "base/kernel_registry.h"

namespace {

struct Table {
  int id;
};
constexpr Table kScalar{0}, kAvx2{1}, kAvx512Fancy{2}, kAvx512{3}, kImpossible{4};
constexpr base::IsaSet kNoCpuHasThis = 1u << 31;
constexpr base::KernelImpl<Table> kImpls[] = {
    {"scalar", base::SimdPath::kScalar, 0, &kScalar},
    {"avx2", base::SimdPath::kAvx2, base::kIsaAvx2, &kAvx2},
    {"avx512-impossible", base::SimdPath::kAvx512, base::kIsaAvx512Base | kNoCpuHasThis, &kImpossible},
    {"avx512", base::SimdPath::kAvx512, base::kIsaAvx512Base, &kAvx512},
};
constexpr base::KernelFamily<Table> kFamily("test", kImpls);

}  // namespace

TEST_CASE("a family picks the preferred runnable implementation at or below the path, and never an unrunnable one") {
  CHECK(kFamily.Best(base::SimdPath::kScalar).table == &kScalar);
  const bool avx2 = base::CpuSupports(base::SimdPath::kAvx2);
  const bool avx512 = base::CpuSupports(base::SimdPath::kAvx512);
  CHECK(kFamily.Best(base::SimdPath::kAvx2).table == (avx2 ? &kAvx2 : &kScalar));
  // The impossible implementation is preferred but never chosen.
  const Table* best = kFamily.Best(base::SimdPath::kAvx512).table;
  CHECK(best != &kImpossible);
  CHECK(best == (avx512 ? &kAvx512 : avx2 ? &kAvx2 : &kScalar));
  CHECK(kFamily.ForPath(base::SimdPath::kAvx512) == (avx512 ? &kImpls[3] : nullptr));
  for (const auto* impl : kFamily.Runnable()) CHECK(impl->table != &kImpossible);
  CHECK(!kImpls[2].Runnable());
  CHECK(kImpls[0].Runnable());
  (void)kAvx512Fancy;
}

TEST_CASE("path names parse strictly and name the valid ones") {
  base::SimdPath p;
  CHECK(base::ParseSimdPath("avx2", &p).ok());
  CHECK(p == base::SimdPath::kAvx2);
  base::Status s = base::ParseSimdPath("avx9000", &p);
  CHECK(!s.ok());
  CHECK(s.message().find("scalar, avx2, avx512") != std::string::npos);
  CHECK(!base::ParseSimdPath("AVX2", &p).ok());
  CHECK((base::SimdPathIsas(base::SimdPath::kAvx512) & base::kIsaAvx512F) != 0);
  CHECK(base::IsaSetNames(base::kIsaAvx2 | base::kIsaPopcnt) == "popcnt+avx2");
  CHECK(base::IsaSetNames(0) == "none");
  CHECK(base::CpuSupports(base::SimdPath::kScalar));
}

TEST_CASE("the process path honours HASHSCREEN_SIMD exactly as InitSimd reports it") {
  // The path is decided once per process: check consistency with the
  // environment this test binary was started with.
  const char* env = std::getenv("HASHSCREEN_SIMD");
  base::Status s = base::InitSimd();
  REQUIRE(s.ok());  // the suite runs with a valid (or no) HASHSCREEN_SIMD
  if (env && *env) {
    CHECK(std::string(base::SimdPathName(base::ActiveSimdPath())) == env);
  } else {
    CHECK(base::ActiveSimdPath() == base::BestSimdPath());
  }
  CHECK(base::DescribeSimd().find(base::SimdPathName(base::ActiveSimdPath())) == 0);
}
