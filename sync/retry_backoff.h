// RetryDelay: how long a sync/ loop (the follower, the audit forwarder)
// waits after its n-th failure in a row to reach the primary: 0.25 s
// doubling to 30 s, with jitter in [d/2, d] so that instances that lost the
// primary together do not come back together.
//
// Thread-safety: may be called from any thread (the generator is per thread).
#pragma once

#include <chrono>

namespace hsync {

// `failures` >= 1.
std::chrono::milliseconds RetryDelay(int failures);

}  // namespace hsync
