#include "bench/bench_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

extern char** environ;

namespace bench {

namespace {

// Spawns argv with stdout into `out_fd` and, when `err_fd` >= 0, stderr into it.
int SpawnWith(const std::vector<std::string>& argv, int out_fd, int err_fd, pid_t* pid) {
  posix_spawn_file_actions_t a;
  posix_spawn_file_actions_init(&a);
  posix_spawn_file_actions_adddup2(&a, out_fd, 1);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&a, err_fd, 2);
  std::vector<char*> args;
  for (const auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
  args.push_back(nullptr);
  const int rc = posix_spawn(pid, args[0], &a, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&a);
  return rc;
}

}  // namespace

int RunProgram(const std::vector<std::string>& argv, std::string* out) {
  int p[2];
  if (pipe(p) != 0) return -1;
  pid_t pid;
  const int rc = SpawnWith(argv, p[1], -1, &pid);
  close(p[1]);
  if (rc != 0) {
    close(p[0]);
    return -1;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(p[0], buf, sizeof buf)) > 0) out->append(buf, static_cast<size_t>(n));
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool ServerProcess::Spawn(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  int p[2];
  if (pipe(p) != 0) return false;
  const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  const auto t = std::chrono::steady_clock::now();
  const int rc = SpawnWith(argv, p[1], log_fd, &pid);
  close(p[1]);
  if (log_fd >= 0) close(log_fd);
  if (rc != 0) {
    pid = -1;
    close(p[0]);
    return false;
  }
  std::string line;
  char c;
  while (read(p[0], &c, 1) == 1) {
    if (c != '\n') {
      line.push_back(c);
      continue;
    }
    if (line.rfind("listening on ", 0) == 0) {
      port = std::stoi(line.substr(line.rfind(':') + 1));
      start_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
      close(p[0]);
      return true;
    }
    line.clear();
  }
  close(p[0]);
  return false;
}

void ServerProcess::Stop() {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  pid = -1;
}

}  // namespace bench
