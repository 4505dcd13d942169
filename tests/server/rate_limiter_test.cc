#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

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
  first.emplace(&gate, "k");
  CHECK(first->admitted());
  std::atomic<bool> second_in{false};
  std::thread waiter([&] {
    server::ScreenGate::Ticket second(&gate, "k");
    second_in = second.admitted();
  });
  while (gate.waiting() == 0) std::this_thread::yield();
  {
    server::ScreenGate::Ticket third(&gate, "k");  // queue full
    CHECK_FALSE(third.admitted());
  }
  CHECK_FALSE(second_in);
  first.reset();  // the waiting screen gets the freed worker
  waiter.join();
  CHECK(second_in);
  CHECK(gate.running() == 0);
}

TEST_CASE("a freed worker goes to the waiting key with the fewest running screens, not to the oldest waiter") {
  // One worker, held by key "a"; "a" queues three more, then "b" queues one.
  // First-come would admit b last; fair admission admits it next.
  server::ScreenGate gate(1, 10);
  std::optional<server::ScreenGate::Ticket> held;
  held.emplace(&gate, "a");
  std::mutex mu;
  std::vector<std::string> order;
  std::vector<std::thread> threads;
  auto queue_one = [&](const std::string& key, size_t waiting_after) {
    threads.emplace_back([&, key] {
      server::ScreenGate::Ticket t(&gate, key);
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(key);
    });
    while (gate.waiting() < waiting_after) std::this_thread::yield();
  };
  for (size_t i = 1; i <= 3; ++i) queue_one("a", i);
  queue_one("b", 4);
  held.reset();
  for (auto& t : threads) t.join();
  REQUIRE(order.size() == 4);
  CHECK(order[0] == "b");
  CHECK(gate.running() == 0);
  CHECK(gate.waiting() == 0);
}

TEST_CASE("with two workers, keys alternate: each freed worker goes to the key running fewer") {
  server::ScreenGate gate(2, 20);
  std::optional<server::ScreenGate::Ticket> a1, a2;
  a1.emplace(&gate, "a");
  a2.emplace(&gate, "a");
  std::mutex mu;
  std::vector<std::string> order;
  std::vector<std::thread> threads;
  std::atomic<int> release{0};
  for (int i = 0; i < 4; ++i) {
    const std::string key = i < 3 ? "a" : "b";
    threads.emplace_back([&, key] {
      server::ScreenGate::Ticket t(&gate, key);
      {
        std::lock_guard<std::mutex> lock(mu);
        order.push_back(key);
      }
      while (release.load() == 0) std::this_thread::yield();  // hold the worker
    });
    while (gate.waiting() < static_cast<size_t>(i + 1)) std::this_thread::yield();
  }
  a1.reset();  // "a" runs 1, "b" 0: b goes first
  for (;;) {
    std::lock_guard<std::mutex> lock(mu);
    if (!order.empty()) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    REQUIRE(order.size() == 1);
    CHECK(order[0] == "b");
  }
  release = 1;
  a2.reset();
  for (auto& t : threads) t.join();
  CHECK(order.size() == 4);
}
