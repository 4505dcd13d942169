// FloodDetector (server/flood_detector.h): the floor, the factor over a
// signal's own history, the sliding window, Accept after a release, and the
// bounded table. Times are given, never slept.
#include <doctest/doctest.h>

#include <string>

#include "server/flood_detector.h"

using server::FloodDetector;
using base::SignalType;

namespace {

constexpr int64_t kMinute = 60'000;

FloodDetector::Options Opts(int64_t min_hits, double factor, size_t max_tracked = 1000) {
  FloodDetector::Options o;
  o.window_ms = 12 * kMinute;  // sub-buckets of a minute
  o.min_hits = min_hits;
  o.factor = factor;
  o.history_windows = 4;
  o.max_tracked = max_tracked;
  return o;
}

const std::string kHash(32, 'h');

// Hits `n` times at `t`; true if any of them tripped.
bool Hits(FloodDetector& d, int n, int64_t t, const std::string& hash = kHash, uint64_t list = 1) {
  bool tripped = false;
  for (int i = 0; i < n; ++i) tripped |= d.Observe(list, SignalType::kPdq, hash, t).flood;
  return tripped;
}

}  // namespace

TEST_CASE("flood detector: a new signal trips at the floor, not before") {
  FloodDetector d(Opts(10, 5));
  CHECK_FALSE(Hits(d, 9, 0));
  const FloodDetector::Observation o = d.Observe(1, SignalType::kPdq, kHash, 0);
  CHECK(o.flood);
  CHECK(o.in_window == 10);
  // Another list's copy of the same hash is another signal.
  CHECK_FALSE(Hits(d, 9, 0, kHash, 2));
}

TEST_CASE("flood detector: hits spread beyond the window never add up to a flood") {
  FloodDetector d(Opts(10, 5));
  // 5 hits every 12 minutes: never 10 within one window.
  for (int w = 0; w < 50; ++w) CHECK_FALSE(Hits(d, 5, w * 13 * kMinute));
}

TEST_CASE("flood detector: a steady signal's history raises its bar to factor x its usual rate") {
  FloodDetector d(Opts(10, 3));
  // 8 hits a minute (96 a window) for long enough that its usual rate is
  // learnt: trips only at the start, while it has no history.
  int tripped_late = 0;
  for (int m = 0; m < 12 * 40; ++m) {
    const bool t = Hits(d, 8, m * kMinute);
    if (m >= 12 * 20) tripped_late += t;
  }
  CHECK(tripped_late == 0);
  // Twice its usual rate is not a flood; five times is.
  const int64_t start = 12 * 40 * kMinute;
  bool two = false;
  for (int m = 0; m < 12; ++m) two |= Hits(d, 16, start + m * kMinute);
  CHECK_FALSE(two);
  bool five = false;
  for (int m = 12; m < 24 && !five; ++m) five |= Hits(d, 40, start + m * kMinute);
  CHECK(five);
}

TEST_CASE("flood detector: after Accept the rate that tripped it is the usual one") {
  FloodDetector d(Opts(10, 2));
  CHECK(Hits(d, 10, 0));
  d.Accept(1, SignalType::kPdq, kHash, 0);
  CHECK_FALSE(Hits(d, 20, 0));
  CHECK(Hits(d, 1, 0));  // 21 > 2 x 10
}

TEST_CASE("flood detector: the table is bounded, idle signals make room, busy ones are not dropped") {
  FloodDetector d(Opts(1000, 2, 3));
  for (int i = 0; i < 3; ++i) Hits(d, 1, 0, std::string(32, static_cast<char>('a' + i)));
  CHECK(d.tracked() == 3);
  Hits(d, 1, 0, std::string(32, 'z'));
  CHECK(d.tracked() == 3);
  CHECK(d.untracked() == 1);
  // A window later the idle ones are dropped to make room.
  Hits(d, 1, 13 * kMinute, std::string(32, 'z'));
  CHECK(d.tracked() == 1);
  CHECK(d.untracked() == 1);
}

TEST_CASE("flood detector: disabled, nothing is tracked or tripped") {
  FloodDetector::Options o = Opts(1, 1);
  o.enabled = false;
  FloodDetector d(o);
  CHECK_FALSE(Hits(d, 100, 0));
  CHECK(d.tracked() == 0);
}
