#include "server/probing_detector.h"

#include <algorithm>

namespace server {

ProbingDetector::Observation ProbingDetector::Observe(const std::string& key_id, uint64_t hash_id, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  KeyState& k = keys_[key_id];
  Observation o;
  if (StillBlocked(k, now_ms)) {
    o.answer = false;
    return o;
  }
  while (!k.screens.empty() && k.screens.front().first <= now_ms - options_.window_ms) k.screens.pop_front();
  k.screens.emplace_back(now_ms, hash_id);
  if (k.screens.size() > static_cast<size_t>(options_.budget) + 1) k.screens.pop_front();
  o.in_window = static_cast<int>(k.screens.size());
  o.on_hash = static_cast<int>(
      std::count_if(k.screens.begin(), k.screens.end(), [hash_id](const auto& s) { return s.second == hash_id; }));
  if (o.in_window <= options_.budget && o.on_hash <= options_.hash_budget) return o;
  k.tripped_ms = now_ms;
  o.tripped = true;
  o.answer = false;
  return o;
}

bool ProbingDetector::Blocked(const std::string& key_id, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(key_id);
  return it != keys_.end() && StillBlocked(it->second, now_ms);
}

void ProbingDetector::Forget(const std::string& key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  keys_.erase(key_id);
}

}  // namespace server
