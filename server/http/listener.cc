#include "server/http/listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace server::http {

using base::Status;

namespace {

std::string Format(const sockaddr* sa) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
  port = ntohs(in6->sin6_port);
  std::string out(1, '[');
  out += host;
  out += "]:";
  out += std::to_string(port);
  return out;
}

}  // namespace

std::string PeerAddress(const void* storage) {
  auto* sa = static_cast<const sockaddr*>(storage);
  char host[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, host, sizeof host);
  } else if (sa->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, host, sizeof host);
  }
  return host;
}

Status BindListener(const std::string& what, const std::string& host, int port, int backlog, int* fd_out,
                    std::string* bound) {
  const std::string shown = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) return Status::InvalidArgument(what + ": cannot resolve " + host + ": " + gai_strerror(rc));
  Status result = Status::IOError(what + ": cannot bind " + shown + ": no usable address");
  for (addrinfo* ai = found; ai; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      result = Status::IOError(what + ": cannot create a socket for " + shown + ": " + std::strerror(errno));
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      int e = errno;
      close(fd);
      result = Status::IOError(what + ": cannot bind " + shown + ": " +
                               (e == EADDRINUSE ? std::string("address in use") : std::strerror(e)));
      if (e == EADDRINUSE) break;
      continue;
    }
    if (listen(fd, backlog) != 0) {
      int e = errno;
      close(fd);
      result = Status::IOError(what + ": cannot listen on " + shown + ": " + std::strerror(e));
      continue;
    }
    sockaddr_storage actual{};
    socklen_t len = sizeof actual;
    getsockname(fd, reinterpret_cast<sockaddr*>(&actual), &len);
    *bound = Format(reinterpret_cast<sockaddr*>(&actual));
    *fd_out = fd;
    freeaddrinfo(found);
    return Status::Ok();
  }
  freeaddrinfo(found);
  return result;
}

}  // namespace server::http
