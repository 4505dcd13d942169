#include "server/http/connection_caps.h"

namespace server::http {

uint64_t ConnectionCaps::Victim(const Order& idle, const HeadOrder& heads, int64_t now_ms) const {
  if (!idle.empty()) return idle.begin()->second;
  if (!heads.empty() && heads.begin()->first <= now_ms - head_grace_ms_) return heads.begin()->second;
  return 0;
}

ConnectionCaps::Verdict ConnectionCaps::Check(const std::string& peer, int64_t now_ms, std::vector<uint64_t>* evict) const {
  evict->clear();
  auto p = peers_.find(peer);
  if (p != peers_.end() && p->second.count >= max_per_peer_) {
    // Closing one of this peer's connections also frees a slot overall.
    uint64_t victim = Victim(p->second.idle, p->second.heads, now_ms);
    if (victim == 0) return Verdict::kRefusePeer;
    evict->push_back(victim);
    return Verdict::kAdmit;
  }
  if (conns_.size() >= max_total_) {
    uint64_t victim = Victim(idle_, heads_, now_ms);
    if (victim == 0) return Verdict::kRefuseTotal;
    evict->push_back(victim);
  }
  return Verdict::kAdmit;
}

void ConnectionCaps::Add(uint64_t id, const std::string& peer, int64_t now_ms) {
  Conn& c = conns_[id];
  c.peer = peer;
  ++peers_[peer].count;
  SetHeadStarted(id, now_ms);
}

void ConnectionCaps::Clear(uint64_t id, Conn& c, Peer& p) {
  if (c.idle_seq != 0) {
    idle_.erase({c.idle_seq, id});
    p.idle.erase({c.idle_seq, id});
    c.idle_seq = 0;
  }
  if (c.in_head) {
    heads_.erase({c.head_since, id});
    p.heads.erase({c.head_since, id});
    c.in_head = false;
  }
}

void ConnectionCaps::SetIdle(uint64_t id, bool idle) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  if (idle && c.idle_seq != 0) return;  // already idle: keeps its place in the order
  Peer& p = peers_[c.peer];
  Clear(id, c, p);
  if (!idle) return;
  c.idle_seq = next_seq_++;
  idle_.insert({c.idle_seq, id});
  p.idle.insert({c.idle_seq, id});
}

void ConnectionCaps::SetHeadStarted(uint64_t id, int64_t now_ms) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  if (c.in_head) return;  // keeps the time its head began
  Peer& p = peers_[c.peer];
  Clear(id, c, p);
  c.in_head = true;
  c.head_since = now_ms;
  heads_.insert({now_ms, id});
  p.heads.insert({now_ms, id});
}

void ConnectionCaps::Remove(uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  auto p = peers_.find(it->second.peer);
  if (p != peers_.end()) {
    Clear(id, it->second, p->second);
    if (--p->second.count == 0) peers_.erase(p);
  }
  conns_.erase(it);
}

size_t ConnectionCaps::PeerCount(const std::string& peer) const {
  auto p = peers_.find(peer);
  return p == peers_.end() ? 0 : p->second.count;
}

}  // namespace server::http
