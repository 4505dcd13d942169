// Whether a host names this machine: "localhost", an IPv4 address in
// 127.0.0.0/8 in dotted-quad form, or the IPv6 loopback ::1 (without
// brackets). Anything else, names included, is not. The one rule the
// server (plain_http, the metrics listener), the follower (--follow http://)
// and the client (--server http://) apply before letting a key travel or a
// port open in clear text.
//
// Thread-safety: pure function.
#pragma once

#include <string>

namespace base {

bool IsLoopbackHost(const std::string& host);

}  // namespace base
