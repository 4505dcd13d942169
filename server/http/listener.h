// Listener: a listening TCP socket for the front, bound the one safe way.
// SO_REUSEADDR (so a restart does not wait out TIME_WAIT) but never
// SO_REUSEPORT: with it a second hashscreend on the same port would also
// bind, and the kernel would split the traffic between two servers with
// different data. A second bind therefore fails with
// "cannot bind ADDR: address in use".
//
// Ownership: the returned descriptor is non-blocking, close-on-exec, and
// owned by the caller.
#pragma once

#include <string>

#include "base/status.h"

namespace server::http {

// Binds and listens on `host`:`port` (IPv4, IPv6 or a host name resolved
// with getaddrinfo; port 0 picks a free port). *bound is the actual address,
// "127.0.0.1:43121" or "[::1]:8443". `what` names the setting in errors.
base::Status BindListener(const std::string& what, const std::string& host, int port, int backlog, int* fd,
                          std::string* bound);

// The numeric address of a connected peer ("192.0.2.7", "2001:db8::1"):
// the key of the per-peer connection cap.
std::string PeerAddress(const void* sockaddr_storage);

}  // namespace server::http
