// GET /healthz (the process answers), /readyz (this instance should get
// traffic), /metrics (Prometheus text), /v1/openapi.json (the API's
// description, server/openapi_document.h).
//
// /readyz answers 503 with {"error":{"code","message","reason",...}} where
// reason is one of
//   draining               shutdown began (SIGTERM): in-flight requests finish
//   store_unwritable       the store cannot write (full disk: code no_space;
//                          storage error: io_error); every screen would
//                          answer 507, since no audit entry can be written
//   follower_not_caught_up a follower whose first catch-up is not done: its
//                          index does not hold the primary's lists yet
//   follower_lagging       a follower more than follow.max_lag_s behind
// "The index is not loaded" has no state of its own: a primary loads every
// list into the index in Service::Open, before the listener exists, so it
// cannot answer at all before that; a follower's index is loading exactly
// while it is not caught up.
#include <cstdio>

#include "server/openapi_document.h"
#include "server/process_metrics.h"
#include "server/routes.h"

namespace server {

void HandleHealthz(Service&, const ApiRequest&, ApiResponse* response) { response->Json(200, json{{"ok", true}}); }

namespace {

void NotReady(ApiResponse* response, const std::string& code, const char* reason, const std::string& message) {
  response->Error(503, code, message, json{{"reason", reason}});
}

}  // namespace

void HandleReadyz(Service& service, const ApiRequest&, ApiResponse* response) {
  if (service.draining()) return NotReady(response, "unavailable", "draining", "shutting down");
  // Public route: it says why, never which file or device.
  if (Status w = service.db()->ProbeWritable(); !w.ok()) {
    return NotReady(response, std::string(Status::CodeName(w.code())), "store_unwritable",
                    w.code() == Status::Code::kNoSpace
                        ? "the store cannot write: the disk is full (screens answer 507 until space returns)"
                        : "the store cannot write: storage error (screens answer 507 until it recovers)");
  }
  if (hsync::Follower* f = service.follower(); f && !f->Ready()) {
    const hsync::Follower::Stats st = f->stats();
    // One decimal: "12.3 s behind", not std::to_string's "12.345678".
    char lag[32];
    std::snprintf(lag, sizeof lag, "%.1f", st.lag_seconds);
    return NotReady(response, "unavailable", st.caught_up_once ? "follower_lagging" : "follower_not_caught_up",
                    !st.caught_up_once ? "following " + f->primary_url() + ": first catch-up not done yet"
                                       : "following " + f->primary_url() + ": " + lag +
                                             " s behind (follow.max_lag_s " +
                                             std::to_string(service.config().follow_max_lag_s) + ")" +
                                             (st.last_error.empty() ? "" : "; last error: " + st.last_error));
  }
  response->Json(200, json{{"ready", true}, {"lists", service.lists()->Lists().size()}});
}

void HandleOpenApi(Service&, const ApiRequest&, ApiResponse* response) {
  response->status = 200;
  response->content_type = "application/json";
  response->body = std::string(OpenApiDocument());
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
  if (hsync::Follower* f = service.follower()) {
    const hsync::Follower::Stats st = f->stats();
    auto add = [&](const char* name, const char* help, double v) { gauges.push_back({name, help, v}); };
    add("hashscreen_follow_ready", "1 when caught up and within follow.max_lag_s.", f->Ready() ? 1 : 0);
    add("hashscreen_follow_connected", "1 when the last request to the primary succeeded.", st.connected ? 1 : 0);
    add("hashscreen_follow_lag_seconds", "How old this follower's copy of the primary's lists is.", st.lag_seconds);
    add("hashscreen_follow_lag_records", "Feed records of the primary not applied yet.", static_cast<double>(st.lag_records));
    add("hashscreen_follow_cursor_record", "The feed record applied last.", static_cast<double>(st.cursor.record));
    add("hashscreen_follow_pages_applied", "Feed pages applied since start (a counter).", static_cast<double>(st.pages));
    add("hashscreen_follow_entries_applied", "Feed entries applied since start (a counter).", static_cast<double>(st.entries));
    add("hashscreen_follow_errors", "Failed feed requests or pages since start (a counter).", static_cast<double>(st.errors));
  }
  if (hsync::AuditForwarder* fw = service.forwarder()) {
    const hsync::AuditForwarder::Stats st = fw->stats();
    auto add = [&](const char* name, const char* help, double v) { gauges.push_back({name, help, v}); };
    add("hashscreen_audit_forward_connected", "1 when the last audit forward to the primary was answered 200.",
        st.connected ? 1 : 0);
    add("hashscreen_audit_forward_lag_entries", "Audit entries of this follower the primary does not hold yet.",
        static_cast<double>(st.lag_entries));
    add("hashscreen_audit_forward_lag_seconds", "Age of the oldest audit entry not forwarded yet (0: none).",
        st.lag_seconds);
    add("hashscreen_audit_forwarded_entries", "Audit entries the primary stored from this follower since start (a counter).",
        static_cast<double>(st.forwarded));
    add("hashscreen_audit_forward_errors", "Failed audit forwards since start (a counter).", static_cast<double>(st.errors));
  }
  AppendExchangeGauges(service, &gauges);
  for (store::HoldReason r : {store::HoldReason::kSuppressed, store::HoldReason::kQuarantined}) {
    gauges.push_back({"hashscreen_signal_holds", "Signals held now (they match nothing), by reason.",
                      static_cast<double>(service.holds()->Count(r)),
                      std::string("reason=\"") + store::HoldReasonName(r) + "\""});
  }
  gauges.push_back({"hashscreen_flood_tracked_signals", "Signals whose match rates the flood detector tracks now.",
                    static_cast<double>(service.flood().tracked())});
  AppendProcessGauges(&gauges);
  response->status = 200;
  response->content_type = "text/plain; version=0.0.4";
  response->body = service.metrics().Render(gauges);
}

}  // namespace server
