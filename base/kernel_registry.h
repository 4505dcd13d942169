// The kernel registry, in the spirit of simdjson: every SIMD-accelerated
// operation family (PDQ hashing kernels, the index's distance kernels) is a
// KernelFamily listing its implementations: a portable scalar reference and
// per-ISA ones, each declaring the SIMD path it belongs to and every
// instruction-set extension it executes.
//
// One SIMD path is chosen per process: HASHSCREEN_SIMD=scalar|avx2|avx512
// when set, else the best the CPU supports. Each family then runs its
// preferred implementation of the highest path at or below the chosen one
// whose extensions the CPU has (e.g. on an AVX-512 CPU without VPOPCNTDQ the
// index runs its avx2 kernels under the avx512 path; DescribeKernels() and
// the binaries' start-up line say so).
//
// HASHSCREEN_SIMD naming an unknown path, or one the CPU lacks, is an error:
// binaries call InitSimd() first and stop with its message; anything that
// reads the path without InitSimd having succeeded exits (status 2) with
// the same message rather than run another path silently.
//
// Thread-safety: everything here may be called from any thread; the path is
// decided once.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/cpu_features.h"
#include "base/status.h"

namespace base {

enum class SimdPath { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };
inline constexpr SimdPath kAllSimdPaths[] = {SimdPath::kScalar, SimdPath::kAvx2, SimdPath::kAvx512};

const char* SimdPathName(SimdPath path);  // "scalar", "avx2", "avx512"
// InvalidArgument naming the valid paths for anything else.
Status ParseSimdPath(std::string_view name, SimdPath* out);
// The extensions a path needs at least: avx2 = AVX2 + POPCNT; avx512 = that
// plus AVX-512 F, BW, DQ, VL.
IsaSet SimdPathIsas(SimdPath path);
bool CpuSupports(SimdPath path);
SimdPath BestSimdPath();

// Decides the process-wide path from HASHSCREEN_SIMD and the CPU. Errors
// (unknown name, path the CPU lacks) name the valid paths. Idempotent.
Status InitSimd();
// The path InitSimd decided (deciding now if it was not called; an invalid
// HASHSCREEN_SIMD then exits the process, status 2, with InitSimd's message).
SimdPath ActiveSimdPath();

// One implementation of a family's function table.
template <class Table>
struct KernelImpl {
  const char* name;  // "avx512-vbmi": unique within the family
  SimdPath path;
  IsaSet isas;  // every extension the implementation executes
  const Table* table;

  bool Runnable() const { return (CpuIsas() & isas) == isas; }
};

template <class Table>
class KernelFamily {
 public:
  // `impls`: the scalar reference first, then by path, preferred first
  // within a path. Must outlive the family (a static array).
  constexpr KernelFamily(const char* name, std::span<const KernelImpl<Table>> impls) : name_(name), impls_(impls) {}

  const char* name() const { return name_; }
  // The preferred runnable implementation of the highest path <= `path`.
  // Never null: the scalar reference needs nothing.
  const KernelImpl<Table>& Best(SimdPath path) const {
    const KernelImpl<Table>* best = &impls_[0];
    for (const auto& i : impls_) {
      if (i.path <= path && i.Runnable() && i.path > best->path) best = &i;
    }
    return *best;
  }
  // Best(ActiveSimdPath()).
  const KernelImpl<Table>& Active() const { return Best(ActiveSimdPath()); }
  // The preferred runnable implementation of exactly `path`, or nullptr.
  const KernelImpl<Table>* ForPath(SimdPath path) const {
    for (const auto& i : impls_) {
      if (i.path == path && i.Runnable()) return &i;
    }
    return nullptr;
  }
  // Every implementation this CPU can run, for tests comparing each with
  // the scalar reference and for benchmarks.
  std::vector<const KernelImpl<Table>*> Runnable() const {
    std::vector<const KernelImpl<Table>*> out;
    for (const auto& i : impls_) {
      if (i.Runnable()) out.push_back(&i);
    }
    return out;
  }
  std::span<const KernelImpl<Table>> all() const { return impls_; }

 private:
  const char* name_;
  std::span<const KernelImpl<Table>> impls_;
};

// "avx512 (cpu: avx2+...)": the active path and what the CPU has, for logs
// and --version; families append their choices with DescribeFamily.
std::string DescribeSimd();
template <class Table>
std::string DescribeFamily(const KernelFamily<Table>& f) {
  return std::string(f.name()) + "=" + f.Active().name;
}

}  // namespace base
