// RateLimiter: a token bucket per API key id. Each key may make `burst`
// requests at once and `rate` per second sustained; beyond that a request is
// refused with the seconds to wait (for 429 + Retry-After).
//
// Thread-safety: Admit may be called from any number of threads.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace server {

class RateLimiter {
 public:
  // rate <= 0 disables limiting.
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // True if `key_id` may proceed now; otherwise false and *retry_after_s is
  // the whole seconds until a token is available (>= 1).
  bool Admit(const std::string& key_id, int* retry_after_s);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  const double rate_, burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // one per key id; keys are few
};

}  // namespace server
