// Child processes for the benchmarks that drive a real hashscreend or the
// hashscreen CLI: run a program to completion, or start a server and wait
// for its "listening on HOST:PORT" line. (The tests have their own,
// tests/server/server_process.h, tied to the test fixture's flags and
// certificates; benchmarks also start baseline binaries with other flags.)
//
// Thread-safety: none; one ServerProcess per thread.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace bench {

// Runs argv (argv[0] a path) to completion; its standard output is appended
// to *out, standard error is inherited. Returns the exit code, -1 when the
// program could not run or did not exit normally.
int RunProgram(const std::vector<std::string>& argv, std::string* out);

// A server started from a full argv. Its standard error is appended to `log`;
// Spawn returns once it printed "listening on ...:PORT" (false if it exited
// first). Stop (also on destruction) sends SIGTERM and waits.
class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess() { Stop(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool Spawn(const std::vector<std::string>& argv, const std::filesystem::path& log);
  void Stop();

  pid_t pid = -1;
  int port = 0;
  double start_s = 0;  // spawn to "listening on"
};

}  // namespace bench
