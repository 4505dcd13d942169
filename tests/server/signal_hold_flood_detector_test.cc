// FloodDetector (server/flood_detector.h): distinct contents counted (a
// re-sent content never again), the sample's estimate beyond its size, the
// floor, the factor over a signal's own history, the sliding window, list
// exemptions and the bounded table. Times are given, never slept.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

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

// `n` matches at `t`, each of a content never seen before; true if any of
// them tripped.
int next_content = 0;
bool Hits(FloodDetector& d, int n, int64_t t, const std::string& hash = kHash, uint64_t list = 1) {
  bool tripped = false;
  for (int i = 0; i < n; ++i) {
    tripped |= d.Observe(list, SignalType::kPdq, hash, d.Content("content " + std::to_string(next_content++)), t).flood;
  }
  return tripped;
}

}  // namespace

TEST_CASE("flood detector: a new signal trips at the floor, not before") {
  FloodDetector d(Opts(10, 5));
  CHECK_FALSE(Hits(d, 9, 0));
  const FloodDetector::Observation o = d.Observe(1, SignalType::kPdq, kHash, d.Content("the tenth"), 0);
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

TEST_CASE("flood detector: the same content re-sent any number of times counts once") {
  FloodDetector d(Opts(10, 2));
  const FloodDetector::ContentId one = d.Content("one file");
  for (int i = 0; i < 5000; ++i) {
    const FloodDetector::Observation o = d.Observe(1, SignalType::kPdq, kHash, one, (i / 500) * kMinute);
    CHECK_FALSE(o.flood);
    CHECK(o.in_window == 1);
  }
  // Still re-sent a window and more later: it was carried forward, so it is
  // not new again.
  for (int m = 12; m < 12 * 5; ++m) CHECK(d.Observe(1, SignalType::kPdq, kHash, one, m * kMinute).in_window <= 1);
  // A handful of files cycled for ever: at most their number.
  uint64_t most = 0;
  for (int i = 0; i < 20000; ++i) {
    const FloodDetector::Observation o =
        d.Observe(1, SignalType::kPdq, kHash, d.Content("cycled " + std::to_string(i % 9)), (60 + i / 1000) * kMinute);
    CHECK_FALSE(o.flood);
    most = std::max(most, o.in_window);
  }
  CHECK(most <= 10);
}

TEST_CASE("flood detector: a content id is keyed per process, so ids cannot be chosen") {
  FloodDetector a(Opts(10, 2)), b(Opts(10, 2));
  CHECK(a.Content("x") == a.Content("x"));
  CHECK(a.Content("x") != b.Content("x"));
}

TEST_CASE("flood detector: beyond the sample's size the distinct count is an estimate, repeats still count nothing") {
  FloodDetector d(Opts(1'000'000, 2));
  // 20000 distinct contents in one minute, each sent three times.
  FloodDetector::Observation o;
  for (int i = 0; i < 20000; ++i) {
    for (int r = 0; r < 3; ++r) o = d.Observe(1, SignalType::kPdq, kHash, d.Content("many " + std::to_string(i)), 0);
  }
  CHECK(o.in_window > 20000 / 2);
  CHECK(o.in_window < 20000 * 2);
  // Trips on distinct contents past the floor, whatever the sample's level.
  FloodDetector f(Opts(5000, 2));
  bool tripped = false;
  for (int i = 0; i < 20000 && !tripped; ++i) {
    tripped = f.Observe(1, SignalType::kPdq, kHash, f.Content("near copy " + std::to_string(i)), 0).flood;
  }
  CHECK(tripped);
}

TEST_CASE("flood detector: exempt lists are named in the setting, a bad setting is refused") {
  std::vector<std::string> names;
  REQUIRE(FloodDetector::ParseExemptLists("", &names).ok());
  CHECK(names.empty());
  REQUIRE(FloodDetector::ParseExemptLists(" ncmec , iwf-known,x ", &names).ok());
  CHECK(names == std::vector<std::string>{"ncmec", "iwf-known", "x"});
  for (const char* bad : {",", "ncmec,", "a,,b", " , x"}) {
    CHECK_MESSAGE(!FloodDetector::ParseExemptLists(bad, &names).ok(), bad);
  }
  CHECK_FALSE(FloodDetector::ParseExemptLists(std::string(257, 'n'), &names).ok());
  FloodDetector::Options o = Opts(10, 2);
  o.exempt_lists = {"ncmec"};
  FloodDetector d(o);
  CHECK(d.ListExempt("ncmec"));
  CHECK_FALSE(d.ListExempt("ncmec2"));
  CHECK_FALSE(d.ListExempt(""));
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
