#include "tests/server/server_process.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

extern char** environ;

namespace testing_support {

namespace {

// A client writing to a connection the server closed (after a refused upload,
// or a killed server) must see an error, not die of SIGPIPE.
const bool kSigpipeIgnored = [] {
  signal(SIGPIPE, SIG_IGN);
  return true;
}();

std::string ReadAll(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, n);
  return s;
}

pid_t Spawn(const std::vector<std::string>& argv, int stdout_fd, int stderr_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
  if (stderr_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

int WaitExit(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

int RunProgram(const std::vector<std::string>& argv, std::string* out, std::string* err) {
  int out_pipe[2], err_pipe[2];
  REQUIRE(pipe(out_pipe) == 0);
  REQUIRE(pipe(err_pipe) == 0);
  pid_t pid = Spawn(argv, out_pipe[1], err_pipe[1]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  REQUIRE(pid > 0);
  // Small outputs: read stdout fully, then stderr (the child cannot block on a full stderr pipe
  // for the sizes these commands print).
  std::string o = ReadAll(out_pipe[0]);
  std::string e = ReadAll(err_pipe[0]);
  close(out_pipe[0]);
  close(err_pipe[0]);
  if (out) *out = o;
  if (err) *err = e;
  return WaitExit(pid);
}

void MakeTestCertificate(const fs::path& dir, fs::path* cert, fs::path* key) {
  *cert = dir / "cert.pem";
  *key = dir / "key.pem";
  std::string out, err;
  int rc = RunProgram({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                       "-nodes", "-keyout", key->string(), "-out", cert->string(), "-days", "2", "-subj",
                       "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"},
                      &out, &err);
  REQUIRE_MESSAGE(rc == 0, "openssl req failed: " << err);
}

ServerProcess::ServerProcess(fs::path dir) : dir_(std::move(dir)) { MakeTestCertificate(dir_, &cert_, &key_); }

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    WaitExit(pid_);
  }
}

std::string ServerProcess::CreateKey(const std::string& role, const std::string& partner,
                                     const std::vector<std::string>& flags) {
  std::vector<std::string> argv = {HASHSCREEND, "keys", "create", "--create", "--data", data_dir().string(), "--role", role};
  if (!partner.empty()) {
    argv.push_back("--partner");
    argv.push_back(partner);
  }
  argv.insert(argv.end(), flags.begin(), flags.end());
  std::string out, err;
  int rc = RunProgram(argv, &out, &err);
  REQUIRE_MESSAGE(rc == 0, "keys create failed: " << err);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out.substr(out.rfind('\n') + 1);
}

bool ServerProcess::Start(const std::vector<std::string>& extra, std::string* error) {
  std::vector<std::string> argv = {HASHSCREEND, "serve", "--data", data_dir().string(), "--listen", "127.0.0.1:0",
                                   "--tls-cert", cert_.string(), "--tls-key", key_.string(),
                                   "--metrics-listen", "127.0.0.1:0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  int out_pipe[2];
  REQUIRE(pipe(out_pipe) == 0);
  int log_fd = open((dir_ / "server.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  REQUIRE(log_fd >= 0);
  pid_ = Spawn(argv, out_pipe[1], log_fd);
  close(out_pipe[1]);
  close(log_fd);
  REQUIRE(pid_ > 0);
  std::string line;
  metrics_port_ = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out_pipe[0], POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char c;
    ssize_t n = read(out_pipe[0], &c, 1);
    if (n <= 0) break;  // the server exited
    if (c != '\n') {
      line.push_back(c);
      continue;
    }
    if (line.rfind("metrics on http://", 0) == 0) {
      metrics_port_ = std::stoi(line.substr(line.rfind(':') + 1));
    }
    if (line.rfind("listening on ", 0) == 0) {
      port_ = std::stoi(line.substr(line.rfind(':') + 1));
      close(out_pipe[0]);
      return true;
    }
    line.clear();
  }
  close(out_pipe[0]);
  kill(pid_, SIGKILL);
  int rc = WaitExit(pid_);
  pid_ = -1;
  if (error) *error = "exit " + std::to_string(rc) + ": " + Log();
  return false;
}

int ServerProcess::Stop(int sig) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  int rc = WaitExit(pid_);
  pid_ = -1;
  return rc;
}

std::unique_ptr<httplib::SSLClient> ServerProcess::Client() const {
  auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port_);
  c->set_ca_cert_path(cert_.c_str());
  c->enable_server_certificate_verification(true);
  c->set_read_timeout(30, 0);
  c->set_write_timeout(30, 0);
  c->set_connection_timeout(5, 0);
  return c;
}

std::string ServerProcess::Log() const {
  std::ifstream in(dir_ / "server.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

httplib::Headers Bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

nlohmann::json Json(const httplib::Result& r) {
  if (!r) return nlohmann::json();
  return nlohmann::json::parse(r->body, nullptr, false);
}

}  // namespace testing_support
