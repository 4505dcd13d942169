// RawClient: a blocking TCP (optionally TLS) connection to a test server
// that sends exactly the bytes it is given and reads what comes back, for
// tests that must control the wire: heads without bodies, trickled header
// lines, idle connections, pipelined requests. Reads have a timeout, so a
// server that never answers fails the test instead of hanging it.
//
// Thread-safety: one object per thread.
#pragma once

#include <openssl/ssl.h>

#include <string>

namespace testing_support {

class RawClient {
 public:
  RawClient() = default;
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Connects to 127.0.0.1:port (from `source_ip` when not empty, e.g.
  // "127.0.0.2" to be another peer). With `tls`, runs the handshake,
  // verifying the server against `ca_file` when it is not empty.
  bool Connect(int port, bool tls, const std::string& ca_file = "", const std::string& source_ip = "");
  bool Send(const std::string& bytes);
  // Reads until `needle` has been received (true) or the peer closed / the
  // timeout passed (false). Everything read is in received().
  bool ReadUntil(const std::string& needle, int timeout_ms);
  // Reads one whole response (head and Content-Length body) from what has
  // been received; true if one arrived within the timeout.
  bool ReadResponse(int timeout_ms, int* status, std::string* head, std::string* body);
  // True if the server closed the connection (EOF or reset) within the timeout.
  bool WaitClosed(int timeout_ms);
  const std::string& received() const { return received_; }
  void Close();
  int fd() const { return fd_; }

 private:
  // One read into received_: >0 bytes, 0 closed, -1 timeout.
  int ReadSome(int timeout_ms);
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string received_;
};

// The server's peak and current resident memory (VmHWM, VmRSS) in KiB.
long ProcessMemoryKb(int pid, const char* field);

}  // namespace testing_support
