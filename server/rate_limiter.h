// RateLimiter: a token bucket per API key id. Each key may make `burst`
// requests at once and `rate` per second sustained (the server's default, or
// the key's own rate); beyond that a request is refused with the seconds to
// wait (for 429 + Retry-After).
//
// Thread-safety: every method may be called from any number of threads.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace server {

class RateLimiter {
 public:
  // A Retry-After never exceeds this, whatever the rate.
  static constexpr int kMaxRetryAfterS = 86400;

  // rate <= 0 disables limiting for keys without a rate of their own.
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Gives `key_id` its own sustained rate; 0 returns it to the default.
  void SetKeyRate(const std::string& key_id, double rate);

  // True if `key_id` may proceed now; otherwise false and *retry_after_s is
  // the whole seconds until a token is available (1..kMaxRetryAfterS).
  bool Admit(const std::string& key_id, int* retry_after_s);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
    double own_rate = 0;  // 0 = rate_
  };
  const double rate_, burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // one per key id that made a request; keys are few
};

}  // namespace server
