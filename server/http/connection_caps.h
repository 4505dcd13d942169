// ConnectionCaps: the policy that keeps one listener's connections bounded,
// overall (`max_total`) and per peer address (`max_per_peer`).
//
// A connection is *idle* while no request is in progress on it: accepted
// but no byte received yet, or between two requests of a keep-alive
// connection. When a new connection would pass a cap, idle connections are
// closed first, oldest idle first (for the per-peer cap, that peer's
// oldest); only if none is idle is the new connection refused. An idle
// connection costs the server nothing to drop (the client reconnects), while
// one in the middle of a request would lose work; and slow senders cannot
// hold a slot past their deadlines, so refusals end by themselves.
//
// Pure bookkeeping (no sockets, no clock: "oldest" is the order in which
// connections became idle), so it is tested on its own.
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
  ConnectionCaps(size_t max_total, size_t max_per_peer) : max_total_(max_total), max_per_peer_(max_per_peer) {}
  ConnectionCaps(const ConnectionCaps&) = delete;
  ConnectionCaps& operator=(const ConnectionCaps&) = delete;

  enum class Verdict { kAdmit, kRefuseTotal, kRefusePeer };
  // What a new connection from `peer` needs: kAdmit with the ids of idle
  // connections to close first in *evict (possibly none), or a refusal.
  // Changes nothing: the caller closes the evicted ones (Remove) and then
  // Adds the new one.
  Verdict Check(const std::string& peer, std::vector<uint64_t>* evict) const;

  // Registers an admitted connection; it starts idle.
  void Add(uint64_t id, const std::string& peer);
  // Marks a connection idle (no request in progress) or busy.
  void SetIdle(uint64_t id, bool idle);
  void Remove(uint64_t id);

  size_t total() const { return conns_.size(); }
  size_t PeerCount(const std::string& peer) const;
  size_t idle() const { return idle_.size(); }

 private:
  struct Conn {
    std::string peer;
    uint64_t idle_seq = 0;  // 0 = busy
  };
  struct Peer {
    size_t count = 0;
    std::set<std::pair<uint64_t, uint64_t>> idle;  // (idle_seq, id), oldest first
  };
  const size_t max_total_, max_per_peer_;
  uint64_t next_seq_ = 1;
  std::unordered_map<uint64_t, Conn> conns_;
  std::unordered_map<std::string, Peer> peers_;
  std::set<std::pair<uint64_t, uint64_t>> idle_;  // every idle connection, oldest first
};

}  // namespace server::http
