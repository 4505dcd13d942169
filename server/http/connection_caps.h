// ConnectionCaps: the policy that keeps one listener's connections bounded,
// overall (`max_total`) and per peer address (`max_per_peer`).
//
// A connection is *in a head* from the moment it is accepted (a new
// connection is a request on its way: its TLS handshake or head is expected
// at once) and again from the first byte of each later request, until the
// head is complete; after that it is busy. It is *idle* between two
// requests of a keep-alive connection.
//
// When a new connection would pass a cap, connections are closed in this
// order: idle ones, oldest idle first; then ones whose head has been in
// progress for longer than `head_grace_ms`, the oldest head first; only if
// there is neither is the new connection refused (for the per-peer cap, only
// that peer's connections are candidates). An idle connection costs nothing
// to drop (the client reconnects). A real client's handshake and head arrive
// within milliseconds of its connect, so a head still open after the grace
// is a slow or stalled sender; without this, connections that trickle a head
// from enough addresses (max_total / max_per_peer of them) would hold every
// slot until their header deadline and lock everyone out. A connection just
// accepted is never a victim within the grace: were it idle, an attacker
// reconnecting in a loop at a full cap would close every newcomer between
// its accept and its first byte, legitimate clients included.
// Connections past their head (Admit, body, handler, response) are never
// evicted: they carry an authorised request and have their own deadlines.
//
// Pure bookkeeping (no sockets, no clock: the caller passes the time in ms
// of one monotonic clock; "oldest idle" is the order in which connections
// became idle), so it is tested on its own.
//
// Thread-safety: none; the front's event loop owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace server::http {

class ConnectionCaps {
 public:
  ConnectionCaps(size_t max_total, size_t max_per_peer, int64_t head_grace_ms = 50)
      : max_total_(max_total), max_per_peer_(max_per_peer), head_grace_ms_(head_grace_ms) {}
  ConnectionCaps(const ConnectionCaps&) = delete;
  ConnectionCaps& operator=(const ConnectionCaps&) = delete;

  enum class Verdict { kAdmit, kRefuseTotal, kRefusePeer };
  // What a new connection from `peer` needs at time `now_ms`: kAdmit with
  // the ids of connections to close first in *evict (idle, or in a head
  // older than the grace; possibly none), or a refusal. Changes nothing: the
  // caller closes the evicted ones (Remove) and then Adds the new one.
  Verdict Check(const std::string& peer, int64_t now_ms, std::vector<uint64_t>* evict) const;

  // Registers a connection admitted at `now_ms`; it starts in a head.
  void Add(uint64_t id, const std::string& peer, int64_t now_ms);
  // Marks a connection idle (no request in progress) or busy (past its head).
  void SetIdle(uint64_t id, bool idle);
  // Marks a connection as in a request head (or TLS handshake) since `now_ms`.
  void SetHeadStarted(uint64_t id, int64_t now_ms);
  void Remove(uint64_t id);

  size_t total() const { return conns_.size(); }
  size_t PeerCount(const std::string& peer) const;
  size_t idle() const { return idle_.size(); }
  size_t in_head() const { return heads_.size(); }

 private:
  using Order = std::set<std::pair<uint64_t, uint64_t>>;      // (idle_seq, id), oldest first
  using HeadOrder = std::set<std::pair<int64_t, uint64_t>>;  // (head start ms, id), oldest first
  struct Conn {
    std::string peer;
    uint64_t idle_seq = 0;  // 0 = not idle
    bool in_head = false;
    int64_t head_since = 0;
  };
  struct Peer {
    size_t count = 0;
    Order idle;
    HeadOrder heads;
  };
  // The one to close first among `idle` and `heads`, or 0 for none.
  uint64_t Victim(const Order& idle, const HeadOrder& heads, int64_t now_ms) const;
  // Takes the connection out of the idle and head orders.
  void Clear(uint64_t id, Conn& c, Peer& p);

  const size_t max_total_, max_per_peer_;
  const int64_t head_grace_ms_;
  uint64_t next_seq_ = 1;
  std::unordered_map<uint64_t, Conn> conns_;
  std::unordered_map<std::string, Peer> peers_;
  Order idle_;       // every idle connection
  HeadOrder heads_;  // every connection in a head
};

}  // namespace server::http
