#include "server/probing_detector.h"

#include <algorithm>

namespace server {

ProbingDetector::Observation ProbingDetector::Observe(const std::string& key_id, uint64_t hash_id, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  KeyState& k = keys_[key_id];
  while (!k.screens.empty() && k.screens.front().first <= now_ms - options_.window_ms) k.screens.pop_front();
  k.screens.emplace_back(now_ms, hash_id);
  if (k.screens.size() > static_cast<size_t>(options_.budget) + 1) k.screens.pop_front();
  Observation o;
  o.in_window = static_cast<int>(k.screens.size());
  o.on_hash = static_cast<int>(
      std::count_if(k.screens.begin(), k.screens.end(), [hash_id](const auto& s) { return s.second == hash_id; }));
  if (o.in_window <= options_.budget && o.on_hash <= options_.hash_budget) return o;
  // Tripped already and still blocked: the caller has acted on it.
  const bool still_blocked =
      k.tripped_ms >= 0 && (options_.block_ms == 0 || now_ms < k.tripped_ms + options_.block_ms);
  if (!still_blocked) {
    k.tripped_ms = now_ms;
    o.tripped = true;
  }
  return o;
}

void ProbingDetector::Forget(const std::string& key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  keys_.erase(key_id);
}

}  // namespace server
