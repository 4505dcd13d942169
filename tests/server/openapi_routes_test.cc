// docs/openapi.json against the route table: every route (both listeners)
// is described with its method and roles, nothing is described that is not
// a route, and the document compiled into hashscreend is the file's.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "server/openapi_document.h"
#include "server/routes.h"

namespace {

using nlohmann::json;

json DocsFile() {
  std::ifstream in(std::string(HASHSCREEN_SOURCE_DIR) + "/docs/openapi.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str(), nullptr, false);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::set<std::string> RoleNames(server::RoleMask mask) {
  std::set<std::string> out;
  for (auto role : {store::Role::kIngest, store::Role::kReviewer, store::Role::kPartner, store::Role::kReplica, store::Role::kAdmin}) {
    if (mask & server::Bit(role)) out.insert(std::string(store::RoleName(role)));
  }
  return out;
}

}  // namespace

TEST_CASE("openapi: the compiled-in document is docs/openapi.json, and it is OpenAPI 3.1") {
  const json file = DocsFile();
  REQUIRE(file.is_object());
  CHECK(json::parse(server::OpenApiDocument()) == file);
  CHECK(file["openapi"] == "3.1.0");
  CHECK(file["paths"].is_object());
}

TEST_CASE("openapi: every route is described with its method and roles, and nothing else is") {
  const json doc = DocsFile();
  REQUIRE(doc.is_object());
  std::set<std::pair<std::string, std::string>> routes;
  auto check = [&](const server::Route& r) {
    const std::string method = Lower(r.method);
    routes.insert({r.name, method});
    INFO(r.method << " " << r.name);
    REQUIRE(doc["paths"].contains(r.name));
    REQUIRE(doc["paths"][r.name].contains(method));
    const json& op = doc["paths"][r.name][method];
    CHECK(op.contains("responses"));
    CHECK(op.contains("operationId"));
    std::set<std::string> documented;
    for (const auto& role : op["x-roles"]) documented.insert(role.get<std::string>());
    // The metrics listener's GET /metrics needs no key; the document
    // describes the public listener's (admin), and says so.
    if (r.roles != server::kPublic || std::string(r.name) != "/metrics") CHECK(documented == RoleNames(r.roles));
    // No key: the operation overrides the document's bearer security.
    if (r.roles == server::kPublic && std::string(r.name) != "/metrics") {
      CHECK(op.contains("security"));
      CHECK(op["security"].empty());
    }
    // A route with a body documents it.
    CHECK(op.contains("requestBody") == (r.body != server::Route::Body::kNone));
  };
  for (const auto& r : server::Routes()) check(r);
  for (const auto& r : server::MetricsRoutes()) check(r);
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [method, unused] : ops.items()) {
      CHECK_MESSAGE(routes.count({path, method}) == 1, "documented but not a route: " << method << " " << path);
    }
  }
}
