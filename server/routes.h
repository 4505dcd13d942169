// The route table of API v1 (DESIGN.md section 4): method, path pattern,
// which roles may call it, and the handler. The HTTP layer authenticates
// (401) and checks the role (403) before any handler runs, so a handler
// never reveals to a caller of the wrong role whether a list or an entry
// exists. Handlers that act on a partner's own lists answer 404 for lists of
// other partners, exactly as for lists that do not exist.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "server/api.h"
#include "server/service.h"

namespace server {

using RoleMask = uint32_t;
constexpr RoleMask Bit(store::Role r) { return 1u << static_cast<uint32_t>(r); }
constexpr RoleMask kPublic = 0;

struct Route {
  const char* method;
  const char* pattern;  // path template (server/route_pattern.h); placeholders become path_args
  const char* name;     // metrics/log label
  RoleMask roles;       // kPublic: no key needed
  enum class Body { kJson, kRawImage, kMultipart, kNone } body;
  void (*handler)(Service& service, const ApiRequest& request, ApiResponse* response);
};

const std::vector<Route>& Routes();
// The metrics listener's routes (metrics.listen): GET /metrics without a key.
const std::vector<Route>& MetricsRoutes();

// Handlers, one file per resource.
void HandleScreen(Service&, const ApiRequest&, ApiResponse*);
void HandleScreenBatch(Service&, const ApiRequest&, ApiResponse*);
void HandleScreenHashes(Service&, const ApiRequest&, ApiResponse*);
void HandleScreenHashBatch(Service&, const ApiRequest&, ApiResponse*);
void HandleAuditList(Service&, const ApiRequest&, ApiResponse*);
void HandleAuditShow(Service&, const ApiRequest&, ApiResponse*);
void HandleAuditExport(Service&, const ApiRequest&, ApiResponse*);
void HandleAuditReview(Service&, const ApiRequest&, ApiResponse*);
void HandleAuditVerify(Service&, const ApiRequest&, ApiResponse*);
void HandleAuditCheckpoint(Service&, const ApiRequest&, ApiResponse*);
void HandleAuditForward(Service&, const ApiRequest&, ApiResponse*);
void HandleListsGet(Service&, const ApiRequest&, ApiResponse*);
void HandleListsCreate(Service&, const ApiRequest&, ApiResponse*);
void HandleListShow(Service&, const ApiRequest&, ApiResponse*);
void HandleListUpdate(Service&, const ApiRequest&, ApiResponse*);
void HandleListBatch(Service&, const ApiRequest&, ApiResponse*);
void HandleListChanges(Service&, const ApiRequest&, ApiResponse*);
void HandleFeed(Service&, const ApiRequest&, ApiResponse*);
void HandleKeysList(Service&, const ApiRequest&, ApiResponse*);
void HandleKeysCreate(Service&, const ApiRequest&, ApiResponse*);
void HandleKeyShow(Service&, const ApiRequest&, ApiResponse*);
void HandleKeyRevoke(Service&, const ApiRequest&, ApiResponse*);
void HandleKeyUnblock(Service&, const ApiRequest&, ApiResponse*);
void HandleHealthz(Service&, const ApiRequest&, ApiResponse*);
void HandleReadyz(Service&, const ApiRequest&, ApiResponse*);
void HandleOpenApi(Service&, const ApiRequest&, ApiResponse*);
void HandleMetrics(Service&, const ApiRequest&, ApiResponse*);
void HandleUiAsset(Service&, const ApiRequest&, ApiResponse*);
void HandleUiRedirect(Service&, const ApiRequest&, ApiResponse*);
void HandleUiSessionCreate(Service&, const ApiRequest&, ApiResponse*);
void HandleUiSessionGet(Service&, const ApiRequest&, ApiResponse*);
void HandleUiSessionDelete(Service&, const ApiRequest&, ApiResponse*);
void HandleExchanges(Service&, const ApiRequest&, ApiResponse*);
void HandleHoldsList(Service&, const ApiRequest&, ApiResponse*);
void HandleHoldRelease(Service&, const ApiRequest&, ApiResponse*);
// The exchanges' gauges for /metrics (server/exchange_routes.cc).
void AppendExchangeGauges(Service& service, std::vector<Metrics::Gauge>* gauges);

// A list as the API shows it (list_routes.cc; the feed's JSON reuses it).
json ListJson(const store::ListInfo& list);

}  // namespace server
