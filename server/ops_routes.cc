// GET /healthz (the process answers), /readyz (store open, index loaded:
// true once the Service exists, since Service::Open loads everything before
// the listener starts; 503 once shutdown began or while the store cannot
// write, e.g. on a full disk, when every screen would answer 507), /metrics
// (Prometheus text).
#include "server/routes.h"

namespace server {

void HandleHealthz(Service&, const ApiRequest&, ApiResponse* response) { response->Json(200, json{{"ok", true}}); }

void HandleReadyz(Service& service, const ApiRequest&, ApiResponse* response) {
  if (service.draining()) return response->Error(503, "unavailable", "shutting down");
  // Public route: it says why, never which file or device.
  if (Status w = service.db()->ProbeWritable(); !w.ok()) {
    return response->Error(503, std::string(Status::CodeName(w.code())),
                           w.code() == Status::Code::kNoSpace
                               ? "the store cannot write: the disk is full (screens answer 507 until space returns)"
                               : "the store cannot write: storage error (screens answer 507 until it recovers)");
  }
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
  const store::WriteHealth::State store = service.db()->write_health();
  gauges.push_back({"hashscreen_store_writable", "1 when the store accepts writes; 0 on a full disk or storage error.",
                    store.writable ? 1.0 : 0.0});
  for (auto reason : {store::WriteHealth::Reason::kNoSpace, store::WriteHealth::Reason::kIOError}) {
    gauges.push_back({"hashscreen_store_unwritable", "1 for the reason the store cannot write now (no_space, io_error).",
                      !store.writable && store.reason == reason ? 1.0 : 0.0,
                      std::string("reason=\"") + store::WriteHealth::ReasonName(reason) + "\""});
  }
  gauges.push_back({"hashscreen_store_write_errors_total", "Store writes that failed since start, by reason.",
                    static_cast<double>(store.no_space_errors), "reason=\"no_space\"", "counter"});
  gauges.push_back({"hashscreen_store_write_errors_total", "Store writes that failed since start, by reason.",
                    static_cast<double>(store.io_errors), "reason=\"io_error\"", "counter"});
  response->status = 200;
  response->content_type = "text/plain; version=0.0.4";
  response->body = service.metrics().Render(gauges);
}

}  // namespace server
