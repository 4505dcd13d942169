#include "tests/server/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

namespace testing_support {

RawClient::~RawClient() { Close(); }

void RawClient::Close() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) close(fd_);
  ssl_ = nullptr;
  ctx_ = nullptr;
  fd_ = -1;
}

bool RawClient::Connect(int port, bool tls, const std::string& ca_file, const std::string& source_ip) {
  Close();
  received_.clear();
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  if (!source_ip.empty()) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    inet_pton(AF_INET, source_ip.c_str(), &src.sin_addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{10, 0};  // bounds a handshake with a server that never answers
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (!tls) return true;
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (!ca_file.empty()) {
    SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  }
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  return SSL_connect(ssl_) == 1;
}

bool RawClient::Send(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    int n = ssl_ ? SSL_write(ssl_, bytes.data() + off, static_cast<int>(bytes.size() - off))
                 : static_cast<int>(send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL));
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

int RawClient::ReadSome(int timeout_ms) {
  if (!ssl_ || SSL_pending(ssl_) == 0) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return -1;
  }
  char buf[16384];
  int n = ssl_ ? SSL_read(ssl_, buf, sizeof buf) : static_cast<int>(recv(fd_, buf, sizeof buf, 0));
  if (n > 0) {
    received_.append(buf, static_cast<size_t>(n));
    return n;
  }
  if (ssl_ && SSL_get_error(ssl_, n) == SSL_ERROR_WANT_READ) return -1;
  return 0;
}

bool RawClient::ReadUntil(const std::string& needle, int timeout_ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (received_.find(needle) == std::string::npos) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count());
    if (left <= 0) return false;
    if (ReadSome(left) == 0) return received_.find(needle) != std::string::npos;
  }
  return true;
}

bool RawClient::ReadResponse(int timeout_ms, int* status, std::string* head, std::string* body) {
  if (!ReadUntil("\r\n\r\n", timeout_ms)) return false;
  size_t end = received_.find("\r\n\r\n");
  *head = received_.substr(0, end + 4);
  *status = std::atoi(head->c_str() + 9);
  size_t length = 0;
  for (const char* name : {"Content-Length: ", "content-length: "}) {
    size_t p = head->find(name);
    if (p != std::string::npos) length = std::strtoull(head->c_str() + p + 16, nullptr, 10);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (received_.size() < end + 4 + length && std::chrono::steady_clock::now() < deadline) {
    if (ReadSome(100) == 0) break;
  }
  if (received_.size() < end + 4 + length) return false;
  *body = received_.substr(end + 4, length);
  received_.erase(0, end + 4 + length);
  return true;
}

bool RawClient::WaitClosed(int timeout_ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count());
    if (left <= 0) return false;
    if (ReadSome(left) == 0) return true;
  }
}

long ProcessMemoryKb(int pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  std::string prefix = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::atol(line.c_str() + prefix.size());
  }
  return -1;
}

}  // namespace testing_support
