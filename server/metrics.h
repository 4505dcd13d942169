// Metrics: the counters and histograms behind GET /metrics, rendered in the
// Prometheus text exposition format (version 0.0.4).
//   hashscreen_http_requests_total{route,status}
//   hashscreen_http_request_duration_seconds{route,status} (histogram)
//   hashscreen_screen_verdicts_total{verdict}
//   hashscreen_decode_errors_total{reason}
//   hashscreen_rejected_total{reason}            (rate limit, overload, probing block)
//   hashscreen_events_total{event}               (probing_suspected, ...: what the audit's event entries record)
//   hashscreen_signal_quarantines_total          (signals the flood detector quarantined)
// plus values sampled at render time (index sizes, audit seq, queue depth,
// whether the store can write and its write errors) supplied by the caller.
// Routes are the route patterns, never raw paths, so
// the label set stays bounded whatever clients send.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace server {

class Metrics {
 public:
  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void ObserveRequest(const std::string& route, int status, double seconds);
  void CountVerdict(const std::string& verdict);
  void CountVerdicts(const std::string& verdict, uint64_t n);
  void CountDecodeError(const std::string& reason);
  void CountRejected(const std::string& reason);
  void CountEvent(const std::string& event);
  void CountQuarantine();

  // A value sampled at render time. Consecutive entries of one name are one
  // metric with several label sets (`labels` like `reason="no_space"`);
  // `type` is "gauge" or "counter" (a total kept by someone else).
  struct Gauge {
    std::string name, help;
    double value;
    std::string labels = "";
    const char* type = "gauge";
  };
  std::string Render(const std::vector<Gauge>& gauges) const;
  // Text appended to every Render (the HTTP front's connection metrics,
  // which it keeps itself); nullptr removes it.
  void SetExtraRenderer(std::function<void(std::string*)> renderer);

  static constexpr std::array<double, 13> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,    1,     2.5,  5,    10};

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};  // non-cumulative counts
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, Histogram> requests_;
  std::map<std::string, uint64_t> verdicts_, decode_errors_, rejected_, events_;
  uint64_t quarantines_ = 0;
  std::function<void(std::string*)> extra_;
};

}  // namespace server
