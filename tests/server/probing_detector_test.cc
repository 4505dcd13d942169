#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "server/probing_detector.h"

namespace {
server::ProbingDetector::Options Small() {
  server::ProbingDetector::Options o;
  o.band = 2;
  o.budget = 5;
  o.hash_budget = 3;
  o.window_ms = 1000;
  o.block_ms = 0;
  return o;
}
}  // namespace

TEST_CASE("near-threshold: within band bits at or below the threshold, never an exact hit, never beyond") {
  server::ProbingDetector d(Small());
  CHECK(d.NearThreshold(31, 31));
  CHECK(d.NearThreshold(30, 31));
  CHECK_FALSE(d.NearThreshold(29, 31));
  CHECK_FALSE(d.NearThreshold(32, 31));
  CHECK_FALSE(d.NearThreshold(0, 31));
  CHECK_FALSE(d.NearThreshold(0, 0));  // a threshold-0 list: every hit is exact
  CHECK(d.NearThreshold(1, 1));
}

TEST_CASE("a key trips the detector with more than hash_budget near-threshold screens on one hash, once") {
  server::ProbingDetector d(Small());
  for (int i = 0; i < 3; ++i) CHECK_FALSE(d.Observe("k", 7, 100 + i).tripped);
  CHECK_FALSE(d.Observe("other", 7, 103).tripped);  // counts are per key
  auto o = d.Observe("k", 7, 104);
  CHECK(o.tripped);
  CHECK(o.on_hash == 4);
  CHECK(o.in_window == 4);
  // Concurrent screens of the tripped key do not trip it again.
  CHECK_FALSE(d.Observe("k", 7, 105).tripped);
  CHECK_FALSE(d.Observe("k", 8, 106).tripped);
  // An admin's clear starts the key afresh.
  d.Forget("k");
  CHECK_FALSE(d.Observe("k", 7, 107).tripped);
}

TEST_CASE("a key trips the detector with more than budget near-threshold screens over any hashes in the window") {
  server::ProbingDetector d(Small());
  for (uint64_t h = 0; h < 5; ++h) CHECK_FALSE(d.Observe("k", h, 10 * static_cast<int64_t>(h)).tripped);
  auto o = d.Observe("k", 99, 60);
  CHECK(o.tripped);
  CHECK(o.in_window == 6);
  CHECK(o.on_hash == 1);
}

TEST_CASE("screens older than the window no longer count") {
  server::ProbingDetector d(Small());
  for (int i = 0; i < 3; ++i) CHECK_FALSE(d.Observe("k", 7, i).tripped);
  // 1000 ms later the first three are out of the window.
  for (int i = 0; i < 3; ++i) CHECK_FALSE(d.Observe("k", 7, 1000 + i).tripped);
  CHECK(d.Observe("k", 7, 1003).tripped);
}

TEST_CASE("a block lasts until cleared, or block_ms when set, a tripped key trips again after its block ended") {
  server::ProbingDetector forever(Small());
  store::ApiKey key;
  CHECK_FALSE(forever.Blocks(key, 5000));
  key.blocked_ms = 1000;
  CHECK(forever.Blocks(key, 1000));
  CHECK(forever.Blocks(key, 1000 + 365ll * 86400000));
  auto o = Small();
  o.block_ms = 500;
  server::ProbingDetector timed(o);
  CHECK(timed.Blocks(key, 1499));
  CHECK_FALSE(timed.Blocks(key, 1500));
  for (int i = 0; i < 3; ++i) timed.Observe("k", 7, i);
  CHECK(timed.Observe("k", 7, 3).tripped);
  CHECK_FALSE(timed.Observe("k", 7, 400).tripped);  // still blocked
  CHECK(timed.Observe("k", 7, 600).tripped);        // block over, still over budget in the window: again
}

TEST_CASE("the budget is exact: the screen over it and every later one of the key get no verdict") {
  server::ProbingDetector d(Small());
  for (int i = 0; i < 3; ++i) CHECK(d.Observe("k", 7, i).answer);
  CHECK_FALSE(d.Blocked("k", 3));
  auto o = d.Observe("k", 7, 3);
  CHECK(o.tripped);
  CHECK_FALSE(o.answer);
  CHECK(d.Blocked("k", 4));
  CHECK_FALSE(d.Observe("k", 8, 5).answer);  // another hash: blocked all the same
  CHECK_FALSE(d.Blocked("other", 5));
  d.Forget("k");
  CHECK_FALSE(d.Blocked("k", 6));
  CHECK(d.Observe("k", 7, 6).answer);
}

TEST_CASE("many threads observing one key concurrently get at most hash_budget answers") {
  server::ProbingDetector d(Small());  // hash_budget 3
  std::atomic<int> answered{0}, tripped{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        auto o = d.Observe("k", 7, 10);
        answered += o.answer;
        tripped += o.tripped;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(answered == 3);
  CHECK(tripped == 1);
}
