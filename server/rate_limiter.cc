#include "server/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace server {

bool RateLimiter::Admit(const std::string& key_id, int* retry_after_s) {
  if (rate_ <= 0) return true;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = buckets_.try_emplace(key_id, Bucket{burst_, now});
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  b.last = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  *retry_after_s = std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / rate_)));
  return false;
}

}  // namespace server
