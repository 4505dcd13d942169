#include "server/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace server {

void RateLimiter::SetKeyRate(const std::string& key_id, double rate) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = buckets_.try_emplace(key_id, Bucket{burst_, std::chrono::steady_clock::now()});
  it->second.own_rate = rate > 0 ? rate : 0;
}

bool RateLimiter::Admit(const std::string& key_id, int* retry_after_s) {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = buckets_.try_emplace(key_id, Bucket{burst_, now});
  Bucket& b = it->second;
  const double rate = b.own_rate > 0 ? b.own_rate : rate_;
  if (rate <= 0) return true;
  double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(burst_, b.tokens + elapsed * rate);
  b.last = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  // In double, clamped before the conversion: a tiny rate gives a huge wait,
  // which must not overflow the int.
  const double wait = std::ceil((1 - b.tokens) / rate);
  *retry_after_s = wait >= kMaxRetryAfterS ? kMaxRetryAfterS : std::max(1, static_cast<int>(wait));
  return false;
}

}  // namespace server
