// ConnectionCaps: idle connections go first, oldest first; then heads (new
// connections included) past their grace; busy ones are never evicted; a
// peer's cap only evicts that peer's connections.
#include <doctest/doctest.h>

#include "server/http/connection_caps.h"

using server::http::ConnectionCaps;
using V = ConnectionCaps::Verdict;

namespace {
// A keep-alive connection between two requests.
void AddIdle(ConnectionCaps& caps, uint64_t id, const std::string& peer) {
  caps.Add(id, peer, 0);
  caps.SetIdle(id, true);
}
}  // namespace

TEST_CASE("the per-peer cap evicts that peer's oldest idle connection, and refuses when none is idle") {
  ConnectionCaps caps(100, 3);
  std::vector<uint64_t> evict;
  for (uint64_t id = 1; id <= 3; ++id) {
    REQUIRE(caps.Check("10.0.0.1", 0, &evict) == V::kAdmit);
    REQUIRE(evict.empty());
    AddIdle(caps, id, "10.0.0.1");
  }
  AddIdle(caps, 10, "10.0.0.2");
  // 2 became busy and idle again: it is now younger than 3.
  caps.SetIdle(2, false);
  caps.SetIdle(2, true);
  CHECK(caps.Check("10.0.0.1", 0, &evict) == V::kAdmit);
  CHECK(evict == std::vector<uint64_t>{1});
  caps.SetIdle(1, false);
  CHECK(caps.Check("10.0.0.1", 0, &evict) == V::kAdmit);
  CHECK(evict == std::vector<uint64_t>{3});
  caps.SetIdle(3, false);
  caps.SetIdle(2, false);
  CHECK(caps.Check("10.0.0.1", 0, &evict) == V::kRefusePeer);
  CHECK(evict.empty());
  // Another peer is not affected, and its idle connection was never offered.
  CHECK(caps.Check("10.0.0.2", 0, &evict) == V::kAdmit);
  CHECK(evict.empty());
  caps.Remove(2);
  CHECK(caps.PeerCount("10.0.0.1") == 2);
  CHECK(caps.Check("10.0.0.1", 0, &evict) == V::kAdmit);
  CHECK(evict.empty());
}

TEST_CASE("the overall cap evicts the oldest idle connection of any peer") {
  ConnectionCaps caps(3, 10);
  std::vector<uint64_t> evict;
  AddIdle(caps, 1, "a");
  AddIdle(caps, 2, "b");
  AddIdle(caps, 3, "c");
  caps.SetIdle(1, false);
  CHECK(caps.Check("d", 0, &evict) == V::kAdmit);
  CHECK(evict == std::vector<uint64_t>{2});
  caps.Remove(2);
  AddIdle(caps, 4, "d");
  caps.SetIdle(3, false);
  caps.SetIdle(4, false);
  CHECK(caps.Check("e", 0, &evict) == V::kRefuseTotal);
  CHECK(caps.total() == 3);
  CHECK(caps.idle() == 0);
  caps.Remove(1);
  caps.Remove(3);
  caps.Remove(4);
  caps.Remove(4);  // twice is harmless
  CHECK(caps.total() == 0);
  CHECK(caps.PeerCount("a") == 0);
}

TEST_CASE("at a full cap, heads older than the grace go after idle ones, oldest head first, younger heads never") {
  ConnectionCaps caps(4, 3, /*head_grace_ms=*/1000);
  std::vector<uint64_t> evict;
  AddIdle(caps, 1, "a");
  AddIdle(caps, 2, "b");
  AddIdle(caps, 3, "c");
  AddIdle(caps, 4, "d");
  caps.SetHeadStarted(2, 5000);
  caps.SetHeadStarted(3, 4000);
  caps.SetHeadStarted(4, 4500);
  caps.SetHeadStarted(3, 9000);  // still the same head: keeps its start
  CHECK(caps.in_head() == 3);
  // An idle connection goes first, even though the heads are old.
  CHECK(caps.Check("e", 100000, &evict) == V::kAdmit);
  CHECK(evict == std::vector<uint64_t>{1});
  caps.Remove(1);
  AddIdle(caps, 5, "e");
  caps.SetIdle(5, false);  // busy: past its head
  // No idle one: within the grace every head is safe.
  CHECK(caps.Check("f", 4999, &evict) == V::kRefuseTotal);
  CHECK(evict.empty());
  // Past the grace of the oldest head (3, since 4000) only.
  CHECK(caps.Check("f", 5000, &evict) == V::kAdmit);
  CHECK(evict == std::vector<uint64_t>{3});
  // A head that completed is busy and never evicted; the next oldest head goes.
  caps.SetIdle(3, false);
  CHECK(caps.Check("f", 7000, &evict) == V::kAdmit);
  CHECK(evict == std::vector<uint64_t>{4});
  caps.SetIdle(2, false);
  caps.SetIdle(4, false);
  CHECK(caps.Check("f", 100000, &evict) == V::kRefuseTotal);
  // A keep-alive connection's next head starts a new grace.
  caps.SetIdle(2, true);
  caps.SetHeadStarted(2, 200000);
  CHECK(caps.Check("f", 200500, &evict) == V::kRefuseTotal);
  CHECK(caps.Check("f", 201000, &evict) == V::kAdmit);
  CHECK(evict == std::vector<uint64_t>{2});
  caps.Remove(2);
  CHECK(caps.in_head() == 0);
  CHECK(caps.idle() == 0);
}

TEST_CASE("the per-peer cap evicts only that peer's stale heads") {
  ConnectionCaps caps(100, 2, /*head_grace_ms=*/1000);
  std::vector<uint64_t> evict;
  AddIdle(caps, 1, "a");
  AddIdle(caps, 2, "a");
  AddIdle(caps, 3, "b");
  caps.SetHeadStarted(1, 0);
  caps.SetHeadStarted(2, 500);
  caps.SetHeadStarted(3, -10000);  // older, but another peer's
  CHECK(caps.Check("a", 900, &evict) == V::kRefusePeer);
  CHECK(caps.Check("a", 1000, &evict) == V::kAdmit);
  CHECK(evict == std::vector<uint64_t>{1});
  caps.SetIdle(1, false);
  caps.SetIdle(2, false);
  CHECK(caps.Check("a", 100000, &evict) == V::kRefusePeer);
}

TEST_CASE("a new connection is a head on its way: not a victim within the grace, so newcomers do not close each other") {
  ConnectionCaps caps(2, 10, /*head_grace_ms=*/1000);
  std::vector<uint64_t> evict;
  caps.Add(1, "a", 10000);
  caps.Add(2, "b", 10100);
  CHECK(caps.in_head() == 2);
  CHECK(caps.idle() == 0);
  // A burst of newcomers at a full cap: the ones just accepted are safe.
  CHECK(caps.Check("c", 10500, &evict) == V::kRefuseTotal);
  CHECK(evict.empty());
  // Its first byte does not restart the grace: the head counts from the accept.
  caps.SetHeadStarted(1, 10900);
  CHECK(caps.Check("c", 11000, &evict) == V::kAdmit);
  CHECK(evict == std::vector<uint64_t>{1});
  // A connection that was served and went idle is the first victim, at once.
  caps.SetIdle(2, false);
  caps.SetIdle(2, true);
  caps.Remove(1);
  caps.Add(3, "c", 11000);
  CHECK(caps.Check("d", 11001, &evict) == V::kAdmit);
  CHECK(evict == std::vector<uint64_t>{2});
}
