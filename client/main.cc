// hashscreen: the command-line client. `hashscreen hash` works offline (it
// links hashing/); the other commands talk to a hashscreend over HTTPS.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/kernel_registry.h"
#include "base/version.h"
#include "client/command.h"
#include "hashing/pdq_kernels.h"

namespace {

const client::Command kCommands[] = {
    {"hash", "hash image files locally: PDQ (+ dihedral), quality, MD5, SHA-256", client::RunHash},
    {"screen", "screen files and directories against the server's lists (exit 3 on a match)", client::RunScreen},
    {"scan", "screen datasets: dirs, tar/WebDataset shards, lists; hashes locally, resumable", client::RunScan},
    {"lists", "create, inspect and push hash lists (partner and admin keys)", client::RunLists},
    {"audit", "list, show, review and verify audit entries (reviewer and admin keys)", client::RunAudit},
    {"keys", "create, list, revoke and unblock API keys on a running server (admin key)", client::RunKeys},
    {"exchanges", "status of the partner exchanges a server follows (admin key)", client::RunExchanges},
    {"holds", "suppressed and quarantined signals: list, release (reviewer or admin key)", client::RunHolds},
};

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "usage: hashscreen COMMAND [OPTIONS] [ARGS...]\n\n"
               "Screens images against known-abuse hash lists (see README.md).\n\n"
               "commands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-8s %s\n", c.name, c.summary);
  std::fprintf(out, "  %-8s %s\n", "--version", "print the version, commit, compiler and SIMD paths");
  std::fprintf(out, "\n`hashscreen COMMAND --help` explains each command.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    PrintUsage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  // A forced SIMD path the CPU lacks (or a typo) stops every command, so no
  // run ever silently measures or tests another path.
  if (base::Status s = base::InitSimd(); !s.ok()) {
    std::fprintf(stderr, "hashscreen: %s\n", s.ToString().c_str());
    return 2;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("%ssimd: %s, %s\n", base::VersionText("hashscreen").c_str(), base::DescribeSimd().c_str(),
                base::DescribeFamily(hashing::PdqKernelFamily()).c_str());
    return 0;
  }
  for (const auto& c : kCommands) {
    if (std::strcmp(argv[1], c.name) == 0) return c.run(std::vector<std::string>(argv + 2, argv + argc));
  }
  std::fprintf(stderr, "hashscreen: unknown command '%s'\n\n", argv[1]);
  PrintUsage(stderr);
  return 2;
}
