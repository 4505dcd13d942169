// Test helpers: a real hashscreend child process on a free loopback port with
// its own data dir and a TLS certificate made for the test (openssl CLI), API
// keys created through `hashscreend keys create`, and HTTPS clients that
// verify the server against that certificate.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace testing_support {

namespace fs = std::filesystem;

// Runs `argv` to completion; returns the exit status (or -1) and stdout.
int RunProgram(const std::vector<std::string>& argv, std::string* out, std::string* err = nullptr);

// A self-signed certificate for 127.0.0.1 / localhost, written into `dir`.
void MakeTestCertificate(const fs::path& dir, fs::path* cert, fs::path* key);

class ServerProcess {
 public:
  // `dir` holds data/ and the certificate; it must outlive the process.
  explicit ServerProcess(fs::path dir);
  ~ServerProcess();  // SIGKILLs a still-running server
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Creates a key with the offline CLI (server must be stopped; makes the
  // database if there is none yet) with `flags` (e.g. --hash-queries);
  // returns the secret.
  std::string CreateKey(const std::string& role, const std::string& partner = "",
                        const std::vector<std::string>& flags = {});

  // Starts the server with the standard test flags (including a metrics
  // listener on a free loopback port) plus `extra`; waits for "listening on".
  // Returns false (with the log in *error) if it did not come up.
  bool Start(const std::vector<std::string>& extra = {}, std::string* error = nullptr);
  // Sends `sig` and waits for the exit; returns the exit code (128+sig if killed).
  int Stop(int sig);

  std::unique_ptr<httplib::SSLClient> Client() const;
  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }  // 0 when no metrics listener
  pid_t pid() const { return pid_; }
  const fs::path& dir() const { return dir_; }
  fs::path data_dir() const { return dir_ / "data"; }
  fs::path cert() const { return cert_; }
  std::string Log() const;

 private:
  fs::path dir_, cert_, key_;
  pid_t pid_ = -1;
  int port_ = 0;
  int metrics_port_ = 0;
};

// Convenience calls with a bearer key.
httplib::Headers Bearer(const std::string& key);
nlohmann::json Json(const httplib::Result& r);

}  // namespace testing_support
