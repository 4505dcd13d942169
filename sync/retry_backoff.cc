#include "sync/retry_backoff.h"

#include <algorithm>
#include <cstdint>
#include <random>

namespace hsync {

std::chrono::milliseconds RetryDelay(int failures) {
  const double base_ms = std::min(30000.0, 250.0 * static_cast<double>(1ull << std::clamp(failures - 1, 0, 7)));
  thread_local std::mt19937_64 rng(std::random_device{}());
  const double ms = base_ms * std::uniform_real_distribution<double>(0.5, 1.0)(rng);
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

}  // namespace hsync
