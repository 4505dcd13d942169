#include "server/routes.h"

#include "server/web_assets.h"

namespace server {

namespace {

const std::vector<Route>& ApiRoutes() {
  using store::Role;
  using B = Route::Body;
  constexpr RoleMask kIngest = Bit(Role::kIngest);
  constexpr RoleMask kReviewer = Bit(Role::kReviewer);
  constexpr RoleMask kAdmin = Bit(Role::kAdmin);
  constexpr RoleMask kPartner = Bit(Role::kPartner);
  constexpr RoleMask kReplica = Bit(Role::kReplica);
  static const std::vector<Route> routes = {
      {"POST", "/v1/screen", "/v1/screen", kIngest, B::kRawImage, HandleScreen},
      {"POST", "/v1/screen/batch", "/v1/screen/batch", kIngest, B::kMultipart, HandleScreenBatch},
      {"POST", "/v1/screen/hashes", "/v1/screen/hashes", kIngest, B::kJson, HandleScreenHashes},
      {"POST", "/v1/screen/hashes/batch", "/v1/screen/hashes/batch", kIngest, B::kJson, HandleScreenHashBatch},
      {"GET", "/v1/audit", "/v1/audit", kReviewer | kAdmin, B::kNone, HandleAuditList},
      {"GET", "/v1/audit/verify", "/v1/audit/verify", kAdmin, B::kNone, HandleAuditVerify},
      {"GET", "/v1/audit/export", "/v1/audit/export", kReviewer | kAdmin, B::kNone, HandleAuditExport},
      {"GET", "/v1/audit/checkpoint", "/v1/audit/checkpoint", kAdmin, B::kNone, HandleAuditCheckpoint},
      {"GET", "/v1/audit/{n}", "/v1/audit/{id}", kReviewer | kAdmin, B::kNone, HandleAuditShow},
      {"POST", "/v1/audit/{n}/review", "/v1/audit/{id}/review", kReviewer | kAdmin, B::kJson, HandleAuditReview},
      {"POST", "/v1/audit/forward", "/v1/audit/forward", kReplica, B::kJson, HandleAuditForward},
      {"GET", "/v1/lists", "/v1/lists", kPartner | kAdmin | kReplica, B::kNone, HandleListsGet},
      {"POST", "/v1/lists", "/v1/lists", kPartner | kAdmin, B::kJson, HandleListsCreate},
      {"GET", "/v1/lists/{n}", "/v1/lists/{id}", kPartner | kAdmin | kReplica, B::kNone, HandleListShow},
      {"PATCH", "/v1/lists/{n}", "/v1/lists/{id}", kPartner | kAdmin, B::kJson, HandleListUpdate},
      {"POST", "/v1/lists/{n}/batches", "/v1/lists/{id}/batches", kPartner | kAdmin, B::kJson, HandleListBatch},
      {"GET", "/v1/lists/{n}/changes", "/v1/lists/{id}/changes", kReplica | kPartner, B::kNone, HandleListChanges},
      {"GET", "/v1/feed", "/v1/feed", kReplica | kAdmin, B::kNone, HandleFeed},
      {"GET", "/v1/keys", "/v1/keys", kAdmin, B::kNone, HandleKeysList},
      {"POST", "/v1/keys", "/v1/keys", kAdmin, B::kJson, HandleKeysCreate},
      {"GET", "/v1/keys/{hex16}", "/v1/keys/{id}", kAdmin, B::kNone, HandleKeyShow},
      {"DELETE", "/v1/keys/{hex16}", "/v1/keys/{id}", kAdmin, B::kNone, HandleKeyRevoke},
      {"POST", "/v1/keys/{hex16}/unblock", "/v1/keys/{id}/unblock", kAdmin, B::kNone, HandleKeyUnblock},
      {"GET", "/v1/exchanges", "/v1/exchanges", kAdmin, B::kNone, HandleExchanges},
      {"GET", "/v1/holds", "/v1/holds", kReviewer | kAdmin, B::kNone, HandleHoldsList},
      {"POST", "/v1/holds/release", "/v1/holds/release", kReviewer | kAdmin, B::kJson, HandleHoldRelease},
      {"GET", "/healthz", "/healthz", kPublic, B::kNone, HandleHealthz},
      {"GET", "/readyz", "/readyz", kPublic, B::kNone, HandleReadyz},
      {"GET", "/v1/openapi.json", "/v1/openapi.json", kPublic, B::kNone, HandleOpenApi},
      // Public listener: admins only; scrapers use the metrics listener.
      {"GET", "/metrics", "/metrics", kAdmin, B::kNone, HandleMetrics},
      // The review console (server/ui_routes.cc, docs/console.md).
      {"GET", "/ui", "/ui", kPublic, B::kNone, HandleUiRedirect},
      {"POST", "/ui/api/session", "/ui/api/session", kPublic, B::kJson, HandleUiSessionCreate},
      {"GET", "/ui/api/session", "/ui/api/session", kReviewer | kAdmin, B::kNone, HandleUiSessionGet},
      {"DELETE", "/ui/api/session", "/ui/api/session", kReviewer | kAdmin, B::kNone, HandleUiSessionDelete},
  };
  return routes;
}

}  // namespace

// The API routes plus one per embedded console file.
const std::vector<Route>& Routes() {
  static const std::vector<Route> routes = [] {
    std::vector<Route> all = ApiRoutes();
    for (const WebAsset& asset : WebAssets()) {
      all.push_back({"GET", asset.path, "/ui/{asset}", kPublic, Route::Body::kNone, HandleUiAsset});
    }
    return all;
  }();
  return routes;
}

const std::vector<Route>& MetricsRoutes() {
  static const std::vector<Route> routes = {
      {"GET", "/metrics", "/metrics", kPublic, Route::Body::kNone, HandleMetrics},
  };
  return routes;
}

}  // namespace server
