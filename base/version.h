// What this build is: the project version (CMake's project(VERSION)), the
// commit (`git describe --always --dirty` when CMake configured the tree, or
// "unknown" outside a git checkout) and the compiler that built it. For
// `--version` and the hashscreen_build_info metric.
//
// The commit is taken at configure time: a build after new commits without
// re-running CMake still names the commit it was configured at.
//
// Thread-safety: constants; any thread.
#pragma once

#include <string>
#include <string_view>

namespace base {

struct BuildInfo {
  std::string_view version;   // "0.1.0"
  std::string_view commit;    // "v0.1.0-12-g1a2b3c4d", "1a2b3c4d-dirty", or "unknown"
  std::string_view compiler;  // "gcc 12.2.0", "clang 14.0.6"
};

const BuildInfo& Build();

// "PROGRAM VERSION (commit COMMIT)\ncompiler: COMPILER\n": the first lines
// of `--version`; the binaries append their SIMD paths.
std::string VersionText(std::string_view program);

}  // namespace base
