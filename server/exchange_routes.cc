// GET /v1/exchanges (admin): the status of every [[exchange]]
// (sync/exchange/exchange.h), and their /metrics gauges.
#include "base/clock.h"
#include "server/routes.h"

namespace server {

namespace {

json ExchangeJson(const hsync::ExchangeStatus& s) {
  return json{{"name", s.name},
              {"kind", s.kind},
              {"list", s.list},
              {"list_id", s.list_id},
              {"last_success", s.last_success_ms > 0 ? json(base::FormatUtc(s.last_success_ms)) : json(nullptr)},
              {"last_error", s.last_error.empty() ? json(nullptr) : json(s.last_error)},
              {"last_error_at", s.last_error_ms > 0 ? json(base::FormatUtc(s.last_error_ms)) : json(nullptr)},
              {"checkpoint", s.checkpoint.empty() ? json(nullptr) : json(s.checkpoint)},
              {"entries", s.entries},
              {"lag_s", s.lag_s >= 0 ? json(s.lag_s) : json(nullptr)},
              {"fetches", s.fetches},
              {"errors", s.errors},
              {"feedback_pending", s.feedback_pending},
              {"feedback_failed", s.feedback_failed}};
}

}  // namespace

void HandleExchanges(Service& service, const ApiRequest&, ApiResponse* response) {
  json out = json::array();
  if (hsync::ExchangeManager* m = service.exchanges()) {
    for (const auto& s : m->Statuses()) out.push_back(ExchangeJson(s));
  }
  response->Json(200, json{{"exchanges", std::move(out)}});
}

void AppendExchangeGauges(Service& service, std::vector<Metrics::Gauge>* gauges) {
  hsync::ExchangeManager* m = service.exchanges();
  if (!m) return;
  const std::vector<hsync::ExchangeStatus> all = m->Statuses();
  // Consecutive entries of one name are one metric (server/metrics.h).
  auto each = [&](const char* name, const char* help, const char* type, auto value) {
    for (const auto& s : all) {
      gauges->push_back({name, help, static_cast<double>(value(s)), "exchange=\"" + s.name + "\"", type});
    }
  };
  each("hashscreen_exchange_fetches_total", "Fetches an exchange made since start (304s included).", "counter",
       [](const auto& s) { return s.fetches; });
  each("hashscreen_exchange_errors_total", "Fetches of an exchange that failed since start (nothing applied).", "counter",
       [](const auto& s) { return s.errors; });
  each("hashscreen_exchange_entries", "Signals in the list an exchange feeds.", "gauge",
       [](const auto& s) { return s.entries; });
  each("hashscreen_exchange_lag_seconds", "Seconds since an exchange last fetched successfully (-1: never).", "gauge",
       [](const auto& s) { return s.lag_s; });
  each("hashscreen_exchange_failing", "1 while an exchange's last fetch failed.", "gauge",
       [](const auto& s) { return s.last_error.empty() ? 0 : 1; });
  // One metric, three results per exchange (consecutive entries of one name).
  for (const char* result : {"delivered", "retried", "failed"}) {
    for (const auto& s : all) {
      const uint64_t v = result[0] == 'd' ? s.feedback_delivered_total
                         : result[0] == 'r' ? s.feedback_retried_total
                                            : s.feedback_failed_total;
      gauges->push_back({"hashscreen_exchange_feedback_total",
                         "Partner feedback attempts since start by result (delivered, retried, failed).",
                         static_cast<double>(v), "exchange=\"" + s.name + "\",result=\"" + result + "\"", "counter"});
    }
  }
}

}  // namespace server
