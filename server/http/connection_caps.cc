#include "server/http/connection_caps.h"

namespace server::http {

ConnectionCaps::Verdict ConnectionCaps::Check(const std::string& peer, std::vector<uint64_t>* evict) const {
  evict->clear();
  auto p = peers_.find(peer);
  if (p != peers_.end() && p->second.count >= max_per_peer_) {
    // Closing this peer's oldest idle connection also frees a slot overall.
    if (p->second.idle.empty()) return Verdict::kRefusePeer;
    evict->push_back(p->second.idle.begin()->second);
    return Verdict::kAdmit;
  }
  if (conns_.size() >= max_total_) {
    if (idle_.empty()) return Verdict::kRefuseTotal;
    evict->push_back(idle_.begin()->second);
  }
  return Verdict::kAdmit;
}

void ConnectionCaps::Add(uint64_t id, const std::string& peer) {
  Conn& c = conns_[id];
  c.peer = peer;
  ++peers_[peer].count;
  SetIdle(id, true);
}

void ConnectionCaps::SetIdle(uint64_t id, bool idle) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  Peer& p = peers_[c.peer];
  if (c.idle_seq != 0) {
    if (idle) return;  // already idle: keeps its place in the order
    idle_.erase({c.idle_seq, id});
    p.idle.erase({c.idle_seq, id});
    c.idle_seq = 0;
    return;
  }
  if (!idle) return;
  c.idle_seq = next_seq_++;
  idle_.insert({c.idle_seq, id});
  p.idle.insert({c.idle_seq, id});
}

void ConnectionCaps::Remove(uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  SetIdle(id, false);
  auto p = peers_.find(it->second.peer);
  if (p != peers_.end() && --p->second.count == 0) peers_.erase(p);
  conns_.erase(it);
}

size_t ConnectionCaps::PeerCount(const std::string& peer) const {
  auto p = peers_.find(peer);
  return p == peers_.end() ? 0 : p->second.count;
}

}  // namespace server::http
