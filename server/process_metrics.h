// The process's own metrics in Prometheus' standard names, read from
// /proc/self at each scrape: process_start_time_seconds,
// process_resident_memory_bytes, process_open_fds, process_cpu_seconds_total;
// and hashscreen_build_info{version,commit,compiler} 1 (base/version.h).
// A /proc file that cannot be read leaves its metric out rather than
// reporting a made-up 0.
//
// Thread-safety: stateless; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/metrics.h"

namespace server {

void AppendProcessGauges(std::vector<Metrics::Gauge>* gauges);

// A Prometheus label value: backslash, double quote and newline escaped.
std::string PrometheusLabelValue(std::string_view v);

}  // namespace server
