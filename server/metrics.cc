#include "server/metrics.h"

#include <cstdio>

namespace server {

namespace {
std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void RenderCounter(std::string* out, const char* name, const char* help, const char* label,
                   const std::map<std::string, uint64_t>& values) {
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
  for (const auto& [k, v] : values) *out += std::string(name) + "{" + label + "=\"" + k + "\"} " + std::to_string(v) + "\n";
}
}  // namespace

void Metrics::ObserveRequest(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  Histogram& h = requests_[{route, status}];
  ++h.count;
  h.sum += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
}

void Metrics::SetExtraRenderer(std::function<void(std::string*)> renderer) {
  std::lock_guard<std::mutex> lock(mu_);
  extra_ = std::move(renderer);
}

void Metrics::CountVerdict(const std::string& verdict) {
  std::lock_guard<std::mutex> lock(mu_);
  ++verdicts_[verdict];
}

void Metrics::CountVerdicts(const std::string& verdict, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  verdicts_[verdict] += n;
}

void Metrics::CountDecodeError(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ++decode_errors_[reason];
}

void Metrics::CountRejected(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ++rejected_[reason];
}

void Metrics::CountEvent(const std::string& event) {
  std::lock_guard<std::mutex> lock(mu_);
  ++events_[event];
}

void Metrics::CountQuarantine() {
  std::lock_guard<std::mutex> lock(mu_);
  ++quarantines_;
}

std::string Metrics::Render(const std::vector<Gauge>& gauges) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out += "# HELP hashscreen_http_requests_total HTTP requests by route pattern and status.\n"
         "# TYPE hashscreen_http_requests_total counter\n";
  for (const auto& [k, h] : requests_) {
    out += "hashscreen_http_requests_total{route=\"" + k.first + "\",status=\"" + std::to_string(k.second) + "\"} " +
           std::to_string(h.count) + "\n";
  }
  out += "# HELP hashscreen_http_request_duration_seconds Time from request parsed to response ready.\n"
         "# TYPE hashscreen_http_request_duration_seconds histogram\n";
  for (const auto& [k, h] : requests_) {
    std::string labels = "route=\"" + k.first + "\",status=\"" + std::to_string(k.second) + "\"";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      out += "hashscreen_http_request_duration_seconds_bucket{" + labels + ",le=\"" + Num(kBuckets[i]) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "hashscreen_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    out += "hashscreen_http_request_duration_seconds_sum{" + labels + "} " + Num(h.sum) + "\n";
    out += "hashscreen_http_request_duration_seconds_count{" + labels + "} " + std::to_string(h.count) + "\n";
  }
  RenderCounter(&out, "hashscreen_screen_verdicts_total", "Screening verdicts (match, no_match, error).", "verdict", verdicts_);
  RenderCounter(&out, "hashscreen_decode_errors_total", "Images refused, by reason.", "reason", decode_errors_);
  RenderCounter(&out, "hashscreen_rejected_total", "Requests refused before work: rate_limited, overloaded, probing_suspected.",
                "reason", rejected_);
  RenderCounter(&out, "hashscreen_events_total", "Audited events: probing_suspected (a key blocked), key_created, ...", "event",
                events_);
  out += "# HELP hashscreen_signal_quarantines_total Signals the flood detector quarantined since start.\n"
         "# TYPE hashscreen_signal_quarantines_total counter\n"
         "hashscreen_signal_quarantines_total " + std::to_string(quarantines_) + "\n";
  for (size_t i = 0; i < gauges.size(); ++i) {
    const Gauge& g = gauges[i];
    if (i == 0 || gauges[i - 1].name != g.name) {
      out += "# HELP " + g.name + " " + g.help + "\n# TYPE " + g.name + " " + g.type + "\n";
    }
    out += g.name + (g.labels.empty() ? "" : "{" + g.labels + "}") + " " + Num(g.value) + "\n";
  }
  if (extra_) extra_(&out);
  return out;
}

}  // namespace server
