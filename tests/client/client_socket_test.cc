// The client's connections set TCP_NODELAY and SO_KEEPALIVE (issue 13:
// without TCP_NODELAY every request waited ~40 ms on Nagle and the server's
// delayed ACK). Checked on the live socket of a running `hashscreen screen`,
// taken from the process with pidfd_getfd, so no timing is involved.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "tests/server/server_fixture.h"

extern char** environ;

using namespace testing_support;

namespace {

// The first socket among `pid`'s descriptors, duplicated into this process, or -1.
int StealSocket(pid_t pid) {
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return -1;
  int out = -1;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code lec;
    const std::string target = fs::read_symlink(e.path(), lec).string();
    if (target.rfind("socket:", 0) != 0) continue;
    out = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, std::stoi(e.path().filename().string()), 0));
    if (out >= 0) break;
  }
  close(pidfd);
  return out;
}

}  // namespace

TEST_CASE("hashscreen's connections set TCP_NODELAY and SO_KEEPALIVE") {
  // A listener that accepts and never answers: the client waits with its
  // connection open.
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(listener, 4) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  TempDir tmp;
  std::ofstream(tmp.path() / "x.jpg") << "not really an image";
  std::vector<std::string> argv = {HASHSCREEN_CLI, "screen", "--server", url, "--key", "k", (tmp.path() / "x.jpg").string()};
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  REQUIRE(posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  const int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  REQUIRE(conn >= 0);
  int sock = -1;
  for (int i = 0; i < 500 && sock < 0; ++i) {
    sock = StealSocket(pid);
    if (sock < 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (sock < 0 && errno == EPERM) {
    MESSAGE("pidfd_getfd is not permitted here: cannot inspect the client's socket");
  } else {
    REQUIRE(sock >= 0);
    int nodelay = 0, keepalive = 0;
    socklen_t n = sizeof nodelay;
    REQUIRE(getsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &nodelay, &n) == 0);
    n = sizeof keepalive;
    REQUIRE(getsockopt(sock, SOL_SOCKET, SO_KEEPALIVE, &keepalive, &n) == 0);
    CHECK(nodelay != 0);
    CHECK(keepalive != 0);
    close(sock);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  close(conn);
  close(listener);
}
