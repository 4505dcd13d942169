// ConnectionCaps: idle connections go first, oldest first; busy ones are
// never evicted; a peer's cap only evicts that peer's connections.
#include <doctest/doctest.h>

#include "server/http/connection_caps.h"

using server::http::ConnectionCaps;
using V = ConnectionCaps::Verdict;

TEST_CASE("the per-peer cap evicts that peer's oldest idle connection, and refuses when none is idle") {
  ConnectionCaps caps(100, 3);
  std::vector<uint64_t> evict;
  for (uint64_t id = 1; id <= 3; ++id) {
    REQUIRE(caps.Check("10.0.0.1", &evict) == V::kAdmit);
    REQUIRE(evict.empty());
    caps.Add(id, "10.0.0.1");
  }
  caps.Add(10, "10.0.0.2");
  // 2 became busy and idle again: it is now younger than 3.
  caps.SetIdle(2, false);
  caps.SetIdle(2, true);
  CHECK(caps.Check("10.0.0.1", &evict) == V::kAdmit);
  CHECK(evict == std::vector<uint64_t>{1});
  caps.SetIdle(1, false);
  CHECK(caps.Check("10.0.0.1", &evict) == V::kAdmit);
  CHECK(evict == std::vector<uint64_t>{3});
  caps.SetIdle(3, false);
  caps.SetIdle(2, false);
  CHECK(caps.Check("10.0.0.1", &evict) == V::kRefusePeer);
  CHECK(evict.empty());
  // Another peer is not affected, and its idle connection was never offered.
  CHECK(caps.Check("10.0.0.2", &evict) == V::kAdmit);
  CHECK(evict.empty());
  caps.Remove(2);
  CHECK(caps.PeerCount("10.0.0.1") == 2);
  CHECK(caps.Check("10.0.0.1", &evict) == V::kAdmit);
  CHECK(evict.empty());
}

TEST_CASE("the overall cap evicts the oldest idle connection of any peer") {
  ConnectionCaps caps(3, 10);
  std::vector<uint64_t> evict;
  caps.Add(1, "a");
  caps.Add(2, "b");
  caps.Add(3, "c");
  caps.SetIdle(1, false);
  CHECK(caps.Check("d", &evict) == V::kAdmit);
  CHECK(evict == std::vector<uint64_t>{2});
  caps.Remove(2);
  caps.Add(4, "d");
  caps.SetIdle(3, false);
  caps.SetIdle(4, false);
  CHECK(caps.Check("e", &evict) == V::kRefuseTotal);
  CHECK(caps.total() == 3);
  CHECK(caps.idle() == 0);
  caps.Remove(1);
  caps.Remove(3);
  caps.Remove(4);
  caps.Remove(4);  // twice is harmless
  CHECK(caps.total() == 0);
  CHECK(caps.PeerCount("a") == 0);
}
