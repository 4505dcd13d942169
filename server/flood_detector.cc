#include "server/flood_detector.h"

#include <algorithm>
#include <cmath>

#include "base/coding.h"

namespace server {

int64_t FloodDetector::BucketMs() const { return std::max<int64_t>(1, options_.window_ms / kBuckets); }

std::string FloodDetector::Key(uint64_t list_id, base::SignalType type, std::string_view hash) {
  std::string k;
  base::PutU64(&k, list_id);
  k.push_back(static_cast<char>(type));
  k.append(hash);
  return k;
}

void FloodDetector::Advance(Track* t, int64_t index) const {
  if (index <= t->newest) return;
  const double alpha = 1.0 / (static_cast<double>(std::max<int64_t>(1, options_.history_windows)) * kBuckets);
  const int64_t steps = index - t->newest;
  // Each bucket leaving the window feeds the usual rate; steps beyond a
  // whole window are empty buckets, folded in at once.
  const int64_t leaving = std::min<int64_t>(steps, kBuckets);
  for (int64_t i = 1; i <= leaving; ++i) {
    uint32_t& b = t->buckets[static_cast<size_t>((t->newest + i) % kBuckets)];
    t->usual = t->usual * (1 - alpha) + b * alpha;
    b = 0;
  }
  if (steps > kBuckets) t->usual *= std::pow(1 - alpha, static_cast<double>(steps - kBuckets));
  t->newest = index;
}

uint64_t FloodDetector::InWindow(const Track& t) {
  uint64_t n = 0;
  for (uint32_t b : t.buckets) n += b;
  return n;
}

FloodDetector::Track* FloodDetector::Find(const std::string& key, int64_t index) {
  auto it = tracks_.find(key);
  if (it != tracks_.end()) return &it->second;
  if (tracks_.size() >= options_.max_tracked && last_prune_ != index) {
    last_prune_ = index;
    std::erase_if(tracks_, [&](const auto& kv) { return index - kv.second.newest >= kBuckets; });
  }
  if (tracks_.size() >= options_.max_tracked) return nullptr;
  Track& t = tracks_[key];
  t.newest = index;
  return &t;
}

FloodDetector::Observation FloodDetector::Observe(uint64_t list_id, base::SignalType type, std::string_view hash,
                                                  int64_t now_ms) {
  Observation o;
  if (!options_.enabled) return o;
  const int64_t index = now_ms / BucketMs();
  std::lock_guard<std::mutex> lock(mu_);
  Track* t = Find(Key(list_id, type, hash), index);
  if (!t) {
    ++untracked_;
    return o;
  }
  Advance(t, index);
  uint32_t& b = t->buckets[static_cast<size_t>(index % kBuckets)];
  if (b < UINT32_MAX) ++b;
  o.in_window = InWindow(*t);
  o.usual = t->usual * kBuckets;
  o.flood = o.in_window >= static_cast<uint64_t>(options_.min_hits) &&
            static_cast<double>(o.in_window) > options_.factor * o.usual;
  if (o.flood) t->tripped = o.in_window;
  return o;
}

void FloodDetector::Accept(uint64_t list_id, base::SignalType type, std::string_view hash, int64_t now_ms) {
  if (!options_.enabled) return;
  const int64_t index = now_ms / BucketMs();
  std::lock_guard<std::mutex> lock(mu_);
  Track* t = Find(Key(list_id, type, hash), index);
  if (!t) return;
  Advance(t, index);
  // Its own rate when it tripped, or at least the floor: a released signal
  // that keeps matching at that pace is what the reviewer accepted.
  const double accepted = static_cast<double>(std::max<uint64_t>(t->tripped, static_cast<uint64_t>(options_.min_hits)));
  t->usual = std::max(t->usual, accepted / kBuckets);
  t->buckets.fill(0);
}

size_t FloodDetector::tracked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tracks_.size();
}

uint64_t FloodDetector::untracked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return untracked_;
}

}  // namespace server
