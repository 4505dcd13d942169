// FloodDetector: notices a block-list signal that suddenly matches far more
// than its own history (the hash of a meme, a logo, a blank image on a
// partner's list), so the screener can quarantine it (store/signal_holds.h)
// before it floods reviewers and blocks ordinary uploads.
//
// Each signal that matched is tracked with its hits in the last window
// (kBuckets sub-buckets of window_ms / kBuckets, so the window slides) and
// its usual rate: an exponentially weighted mean of its hits per sub-bucket
// over about history_windows windows, fed by each sub-bucket as it leaves
// the window. A hit makes the signal a flood when its window holds at least
// min_hits and more than factor x its usual hits per window. A signal with
// no history (new, or tracked only since this process started) is judged by
// min_hits alone, which is why the floor is high.
//
// Memory is bounded: only signals that matched are tracked, at most
// max_tracked (~200 bytes each). When the table is full, signals idle for a
// whole window are dropped (at most once per sub-bucket); if it is still
// full, new signals are not tracked (untracked() counts their hits).
//
// Thread-safety: every method may be called from any number of threads.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/signal.h"

namespace server {

class FloodDetector {
 public:
  static constexpr int kBuckets = 12;
  struct Options {
    bool enabled = true;
    int64_t window_ms = 3600'000;
    int64_t min_hits = 500;
    double factor = 20;
    int64_t history_windows = 24;
    size_t max_tracked = 100'000;
  };
  struct Observation {
    bool flood = false;      // quarantine the signal now
    uint64_t in_window = 0;  // its hits in the window, this one included
    double usual = 0;        // its usual hits per window
  };

  explicit FloodDetector(const Options& options) : options_(options) {}
  FloodDetector(const FloodDetector&) = delete;
  FloodDetector& operator=(const FloodDetector&) = delete;

  // Counts one match on the signal at monotonic time now_ms. `flood` is set
  // once per trip: the caller holds the signal, so it stops matching.
  Observation Observe(uint64_t list_id, base::SignalType type, std::string_view hash, int64_t now_ms);
  // A reviewer released the signal from quarantine: the rate that tripped
  // it becomes its usual rate, so only a further rise trips it again.
  void Accept(uint64_t list_id, base::SignalType type, std::string_view hash, int64_t now_ms);

  const Options& options() const { return options_; }
  size_t tracked() const;
  uint64_t untracked() const;

 private:
  struct Track {
    std::array<uint32_t, kBuckets> buckets{};
    int64_t newest = 0;     // absolute sub-bucket index of the newest bucket
    double usual = 0;       // hits per sub-bucket
    uint64_t tripped = 0;   // window count when it last tripped
  };
  int64_t BucketMs() const;
  void Advance(Track* t, int64_t index) const;
  static uint64_t InWindow(const Track& t);
  static std::string Key(uint64_t list_id, base::SignalType type, std::string_view hash);
  // Caller holds mu_. The track of `key`, created if room; null when full.
  Track* Find(const std::string& key, int64_t index);

  const Options options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Track> tracks_;  // guarded by mu_
  int64_t last_prune_ = -1;                        // guarded by mu_
  uint64_t untracked_ = 0;                         // guarded by mu_
};

}  // namespace server
