#include "base/version.h"

#include "base/version_info.h"

namespace base {

namespace {

#if defined(__clang__)
constexpr std::string_view kCompiler = "clang " __clang_version__;
#elif defined(__GNUC__)
constexpr std::string_view kCompiler = "gcc " __VERSION__;
#else
constexpr std::string_view kCompiler = "unknown";
#endif

}  // namespace

const BuildInfo& Build() {
  static const BuildInfo info{kBuildVersion, kBuildCommit, kCompiler};
  return info;
}

std::string VersionText(std::string_view program) {
  const BuildInfo& b = Build();
  std::string out(program);
  out += " ";
  out += b.version;
  out += " (commit ";
  out += b.commit;
  out += ")\ncompiler: ";
  out += b.compiler;
  out += "\n";
  return out;
}

}  // namespace base
