// GET /healthz (the process answers), /readyz (store open, index loaded:
// true once the Service exists, since Service::Open loads everything before
// the listener starts; 503 once shutdown began), /metrics (Prometheus text).
#include "server/routes.h"

namespace server {

void HandleHealthz(Service&, const ApiRequest&, ApiResponse* response) { response->Json(200, json{{"ok", true}}); }

void HandleReadyz(Service& service, const ApiRequest&, ApiResponse* response) {
  if (service.draining()) return response->Error(503, "unavailable", "shutting down");
  response->Json(200, json{{"ready", true}, {"lists", service.lists()->Lists().size()}});
}

void HandleMetrics(Service& service, const ApiRequest&, ApiResponse* response) {
  std::vector<Metrics::Gauge> gauges = {
      {"hashscreen_index_pdq_hashes", "PDQ hashes in the match index.",
       static_cast<double>(service.lists()->IndexedPdqHashes())},
      {"hashscreen_index_memory_bytes", "Approximate heap bytes of the match index.",
       static_cast<double>(service.lists()->IndexMemoryBytes())},
      {"hashscreen_lists", "Hash lists (enabled or not).", static_cast<double>(service.lists()->Lists().size())},
      {"hashscreen_audit_seq", "Sequence number of the newest audit entry.", static_cast<double>(service.audit()->last_seq())},
      {"hashscreen_screens_running", "Screens hashing right now.", static_cast<double>(service.gate().running())},
      {"hashscreen_screens_waiting", "Screens waiting for a worker.", static_cast<double>(service.gate().waiting())},
  };
  response->status = 200;
  response->content_type = "text/plain; version=0.0.4";
  response->body = service.metrics().Render(gauges);
}

}  // namespace server
