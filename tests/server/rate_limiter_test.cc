#include <doctest/doctest.h>

#include <atomic>
#include <optional>
#include <thread>

#include "server/rate_limiter.h"
#include "server/screen_gate.h"

TEST_CASE("a token bucket admits the burst, then refuses with a wait, then refills") {
  server::RateLimiter limiter(20, 2);  // 20/s: a token every 50 ms
  int retry = 0;
  CHECK(limiter.Admit("k", &retry));
  CHECK(limiter.Admit("k", &retry));
  CHECK_FALSE(limiter.Admit("k", &retry));
  CHECK(retry >= 1);
  CHECK(limiter.Admit("other", &retry));  // buckets are per key
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  CHECK(limiter.Admit("k", &retry));
  server::RateLimiter off(0, 1);
  for (int i = 0; i < 100; ++i) CHECK(off.Admit("k", &retry));
}

TEST_CASE("a key's own rate replaces the default, and a tiny rate gives a bounded Retry-After, never an overflow") {
  server::RateLimiter limiter(0, 1);  // no default limit
  int retry = 0;
  for (int i = 0; i < 10; ++i) CHECK(limiter.Admit("free", &retry));
  limiter.SetKeyRate("slow", 1e-300);
  CHECK(limiter.Admit("slow", &retry));  // the burst
  retry = 0;
  CHECK_FALSE(limiter.Admit("slow", &retry));
  CHECK(retry == server::RateLimiter::kMaxRetryAfterS);
  limiter.SetKeyRate("slow", 0);  // back to the default: unlimited
  CHECK(limiter.Admit("slow", &retry));
  server::RateLimiter tiny(1e-300, 1);
  CHECK(tiny.Admit("k", &retry));
  CHECK_FALSE(tiny.Admit("k", &retry));
  CHECK(retry >= 1);
  CHECK(retry <= server::RateLimiter::kMaxRetryAfterS);
}

TEST_CASE("the screen gate runs `workers` at once, queues `queue` more, refuses the rest") {
  server::ScreenGate gate(1, 1);
  std::optional<server::ScreenGate::Ticket> first;
  first.emplace(&gate);
  CHECK(first->admitted());
  std::atomic<bool> second_in{false};
  std::thread waiter([&] {
    server::ScreenGate::Ticket second(&gate);
    second_in = second.admitted();
  });
  while (gate.waiting() == 0) std::this_thread::yield();
  {
    server::ScreenGate::Ticket third(&gate);  // queue full
    CHECK_FALSE(third.admitted());
  }
  CHECK_FALSE(second_in);
  first.reset();  // the waiting screen gets the freed worker
  waiter.join();
  CHECK(second_in);
  CHECK(gate.running() == 0);
}
