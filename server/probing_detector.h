// ProbingDetector: notices an ingest key that walks a hash along a list's
// match threshold to learn the list's hash bit by bit.
//
// Such a walk has to sit at the decision boundary. Each probe is a point at
// the threshold plus or minus a bit or two; the probes on the matching side
// land at the threshold or one below it (a flip of k bits moves the distance
// in steps of 2, so the first matching value is threshold or threshold - 1),
// and they all hit the same list hash. Legitimate screens rarely do either:
// an unrelated image lies ~128 bits from every list hash and is no hit at
// all, a copy of a listed image lies well inside the threshold, and the few
// near-duplicates that do land at the edge are spread over list hashes.
//
// So the detector counts, per key, *near-threshold screens*: screens whose
// PDQ hit on some list lies within `band` bits of that list's threshold
// (threshold - band < distance <= threshold, distance > 0). A key trips it
// with more than `budget` of them within `window_ms`, or with more than
// `hash_budget` of them on one list hash. The caller then blocks the key
// (server/screener.cc). Measured design, numbers and limits: docs/deploy.md
// "Probing".
//
// The budgets are exact under concurrency: a near-threshold screen is
// counted and judged under one lock *before* its verdict is given, and the
// screen that exceeds a budget, like every screen of the key that finishes
// while it is blocked, is told to give no verdict (Observation::answer,
// Blocked). So however many screens of a key run at once, at most
// `hash_budget` near-threshold verdicts on one list hash (and `budget` in a
// window) are ever answered.
//
// A blocked key stays blocked (Blocks) until an admin clears it or, with
// block_ms > 0, until that time has passed since the block.
//
// Thread-safety: every method may be called from any number of threads.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "store/api_keys.h"

namespace server {

class ProbingDetector {
 public:
  struct Options {
    int band = 2;
    int budget = 32;
    int hash_budget = 8;
    int64_t window_ms = 86400'000;
    int64_t block_ms = 0;  // 0 = until an admin clears the block
  };
  explicit ProbingDetector(const Options& options) : options_(options) {}
  ProbingDetector(const ProbingDetector&) = delete;
  ProbingDetector& operator=(const ProbingDetector&) = delete;

  const Options& options() const { return options_; }

  // Whether a hit at `distance` on a list with `threshold` is near the
  // threshold. Exact hits (0) are not: they teach the caller nothing.
  bool NearThreshold(int distance, int threshold) const {
    return distance > 0 && distance <= threshold && distance > threshold - options_.band;
  }

  struct Observation {
    bool answer = true;    // the screen may be answered with its verdict: within budget and the key not blocked
    bool tripped = false;  // this screen exceeded a budget and the key was not tripped already
    int in_window = 0;     // near-threshold screens of the key in the window, this one included
    int on_hash = 0;       // of those, on the same list hash as this one
  };
  // Counts one near-threshold screen of `key_id` at `now_ms` (monotonic)
  // whose hit was on the list hash with fingerprint `hash_id`. Concurrent
  // screens of one key trip it once (until the block ends or is cleared).
  // A screen of a key that is blocked already (tripped, block not over) is
  // not counted and gets answer = false.
  Observation Observe(const std::string& key_id, uint64_t hash_id, int64_t now_ms);

  // Whether this detector blocked `key_id` and the block is not over at
  // `now_ms` (monotonic): a screen of the key that was admitted before the
  // block must give no verdict either.
  bool Blocked(const std::string& key_id, int64_t now_ms);

  // Whether `key` is blocked at `now_ms` (Unix ms) by a block recorded on it.
  bool Blocks(const store::ApiKey& key, int64_t now_ms) const {
    return key.blocked_ms != 0 && (options_.block_ms == 0 || now_ms < key.blocked_ms + options_.block_ms);
  }

  // An admin cleared the key's block: its counts start again from zero.
  void Forget(const std::string& key_id);

 private:
  struct KeyState {
    // The newest near-threshold screens in the window (time, hash id),
    // oldest first; at most budget + 1: more is over the budget anyway, and
    // no hash can have more in the window than the key has in all.
    std::deque<std::pair<int64_t, uint64_t>> screens;
    int64_t tripped_ms = -1;  // monotonic time of the last trip; -1 = never
  };
  bool StillBlocked(const KeyState& k, int64_t now_ms) const {
    return k.tripped_ms >= 0 && (options_.block_ms == 0 || now_ms < k.tripped_ms + options_.block_ms);
  }
  const Options options_;
  std::mutex mu_;
  std::unordered_map<std::string, KeyState> keys_;  // keys that made near-threshold screens; keys are few
};

}  // namespace server
