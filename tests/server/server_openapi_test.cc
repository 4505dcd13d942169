// Real responses of a running hashscreend held against docs/openapi.json:
// for the main routes, each answer's status must be documented for its
// operation and its JSON body must satisfy the documented schema (checked
// by tests/server/json_schema_check.h). The document itself is served at
// GET /v1/openapi.json without a key.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "tests/server/json_schema_check.h"
#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;

namespace {

json DocsFile() {
  std::ifstream in(std::string(HASHSCREEN_SOURCE_DIR) + "/docs/openapi.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str(), nullptr, false);
}

// "" when `r` (an answer to METHOD on the route `path` of the document) is
// documented: its status listed for the operation, and a JSON body that
// satisfies the schema of that status.
std::string CheckAnswer(const json& doc, const std::string& method, const std::string& path, const httplib::Result& r) {
  if (!r) return method + " " + path + ": no answer";
  const std::string what = method + " " + path + " " + std::to_string(r->status);
  if (!doc["paths"].contains(path) || !doc["paths"][path].contains(method)) return what + ": no such operation in the document";
  const json& responses = doc["paths"][path][method]["responses"];
  if (!responses.contains(std::to_string(r->status))) return what + ": status not documented";
  json response = responses[std::to_string(r->status)];
  if (response.contains("$ref")) response = ResolveRef(doc, response["$ref"].get<std::string>());
  const std::string content_type = r->get_header_value("Content-Type");
  if (content_type.rfind("application/json", 0) != 0) {
    return response["content"].contains(content_type.substr(0, content_type.find(';'))) ? ""
                                                                                        : what + ": content type " + content_type + " not documented";
  }
  if (!response["content"].contains("application/json")) return what + ": JSON body not documented";
  const json body = json::parse(r->body, nullptr, false);
  if (body.is_discarded()) return what + ": the body is not JSON";
  const std::string problem = CheckJsonSchema(doc, response["content"]["application/json"]["schema"], body);
  return problem.empty() ? "" : what + ": " + problem + " in " + r->body.substr(0, 400);
}

}  // namespace

TEST_CASE("json schema checker: types, required, enums, refs, closed objects, unsupported keywords") {
  const json root = {{"components", {{"schemas", {{"N", {{"type", "integer"}}}}}}}};
  const json schema = {{"type", "object"},
                       {"required", {"a"}},
                       {"additionalProperties", false},
                       {"properties",
                        {{"a", {{"$ref", "#/components/schemas/N"}}},
                         {"b", {{"type", {"string", "null"}}, {"enum", {"x", nullptr}}}},
                         {"c", {{"type", "array"}, {"items", {{"type", "boolean"}}}}}}}};
  CHECK(CheckJsonSchema(root, schema, json{{"a", 1}, {"b", "x"}, {"c", {true, false}}}) == "");
  CHECK(CheckJsonSchema(root, schema, json{{"a", 1}, {"b", nullptr}}) == "");
  CHECK(CheckJsonSchema(root, schema, json{{"b", "x"}}).find("required member \"a\"") != std::string::npos);
  CHECK(CheckJsonSchema(root, schema, json{{"a", 1.5}}).find("/a") != std::string::npos);
  CHECK(CheckJsonSchema(root, schema, json{{"a", "1"}}) != "");
  CHECK(CheckJsonSchema(root, schema, json{{"a", 1}, {"b", "y"}}).find("not one of") != std::string::npos);
  CHECK(CheckJsonSchema(root, schema, json{{"a", 1}, {"c", {true, 1}}}).find("/c/1") != std::string::npos);
  CHECK(CheckJsonSchema(root, schema, json{{"a", 1}, {"d", 0}}).find("\"d\" is not in the schema") != std::string::npos);
  CHECK(CheckJsonSchema(root, json{{"oneOf", json::array()}}, 1).find("not supported") != std::string::npos);
  CHECK(CheckJsonSchema(root, json{{"$ref", "#/nowhere"}}, 1).find("unresolved") != std::string::npos);
}

TEST_CASE("openapi: GET /v1/openapi.json serves docs/openapi.json without a key") {
  ServerFixture f({}, false);
  auto r = f.server.Client()->Get("/v1/openapi.json");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type").rfind("application/json", 0) == 0);
  CHECK(json::parse(r->body, nullptr, false) == DocsFile());
}

TEST_CASE("openapi: real answers of the main routes match the document's statuses and schemas") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  const json doc = DocsFile();
  REQUIRE(doc.is_object());
  ServerFixture f({"--rate-per-key", "0"});
  auto c = f.server.Client();
  const std::string list = "/v1/lists/" + std::to_string(f.list_id);
  auto check = [&](const std::string& method, const std::string& path, const httplib::Result& r, int expected) {
    REQUIRE_MESSAGE(r, method << " " << path);
    CHECK_MESSAGE(r->status == expected, method << " " << path << ": " << r->body);
    const std::string problem = CheckAnswer(doc, method, path, r);
    CHECK_MESSAGE(problem.empty(), problem);
  };
  const auto json_type = "application/json";

  // Screening.
  auto screened = c->Post("/v1/screen?ref=photo-1", Bearer(f.keys["ingest"]), FileBytes(BridgeImage()), "image/jpeg");
  check("post", "/v1/screen", screened, 200);
  check("post", "/v1/screen", c->Post("/v1/screen", Bearer(f.keys["ingest"]), "not an image", "image/jpeg"), 415);
  check("post", "/v1/screen", c->Post("/v1/screen", "x", "image/jpeg"), 401);
  check("post", "/v1/screen", c->Post("/v1/screen", Bearer(f.keys["ingest"]), "x", "text/plain"), 415);
  httplib::MultipartFormDataItems parts = {{"a", FileBytes(BridgeImage()), "a.jpg", "image/jpeg"},
                                           {"b", "junk", "b.txt", "text/plain"}};
  check("post", "/v1/screen/batch", c->Post("/v1/screen/batch", Bearer(f.keys["ingest"]), parts), 200);
  check("post", "/v1/screen/hashes",
        c->Post("/v1/screen/hashes", Bearer(f.keys["ingest"]), json{{"md5", std::string(32, 'a')}}.dump(), json_type), 200);
  check("post", "/v1/screen/hashes", c->Post("/v1/screen/hashes", Bearer(f.keys["ingest"]), R"({"md5":1})", json_type), 400);

  // Lists.
  check("get", "/v1/lists", c->Get("/v1/lists", Bearer(f.keys["partner"])), 200);
  check("get", "/v1/lists", c->Get("/v1/lists", Bearer(f.keys["ingest"])), 403);
  check("post", "/v1/lists", c->Post("/v1/lists", Bearer(f.keys["admin"]), R"({"name":"ops","kind":"allow"})", json_type), 201);
  check("post", "/v1/lists", c->Post("/v1/lists", Bearer(f.keys["admin"]), R"({"name":"x","nme":1})", json_type), 400);
  check("get", "/v1/lists/{id}", c->Get(list.c_str(), Bearer(f.keys["partner"])), 200);
  check("get", "/v1/lists/{id}", c->Get(list.c_str(), Bearer(f.keys["partner2"])), 404);
  check("patch", "/v1/lists/{id}", c->Patch(list.c_str(), Bearer(f.keys["partner"]), R"({"pdq_threshold":30})", json_type), 200);
  json batch{{"batch_id", "openapi-1"}, {"add", {{{"type", "md5"}, {"hash", std::string(32, 'b')}, {"ref", "r"}}}}};
  check("post", "/v1/lists/{id}/batches", c->Post((list + "/batches").c_str(), Bearer(f.keys["partner"]), batch.dump(), json_type), 200);
  check("post", "/v1/lists/{id}/batches", c->Post((list + "/batches").c_str(), Bearer(f.keys["partner"]), batch.dump(), json_type), 200);
  check("get", "/v1/lists/{id}/changes", c->Get((list + "/changes").c_str(), Bearer(f.keys["partner"])), 200);
  check("get", "/v1/feed", c->Get("/v1/feed?limit=100", Bearer(f.keys["replica"])), 200);
  check("get", "/v1/feed", c->Get("/v1/feed?after=x", Bearer(f.keys["replica"])), 400);

  // Audit.
  REQUIRE(screened);
  const std::string entry = "/v1/audit/" + Json(screened)["audit_id"].get<std::string>();
  check("get", "/v1/audit", c->Get("/v1/audit?limit=50", Bearer(f.keys["reviewer"])), 200);
  check("get", "/v1/audit/{id}", c->Get(entry.c_str(), Bearer(f.keys["reviewer"])), 200);
  check("get", "/v1/audit/{id}", c->Get("/v1/audit/999999", Bearer(f.keys["reviewer"])), 404);
  check("post", "/v1/audit/{id}/review",
        c->Post((entry + "/review").c_str(), Bearer(f.keys["reviewer"]), R"({"disposition":"confirmed","note":"n"})", json_type), 201);
  check("get", "/v1/audit/{id}", c->Get(entry.c_str(), Bearer(f.keys["reviewer"])), 200);  // now with its review
  check("get", "/v1/audit/verify", c->Get("/v1/audit/verify", Bearer(f.keys["admin"])), 200);
  const std::string other(32, 'e');
  check("post", "/v1/audit/forward",
        c->Post("/v1/audit/forward", Bearer(f.keys["replica"]), json{{"instance", other}, {"entries", json::array()}}.dump(), json_type), 200);
  check("post", "/v1/audit/forward",
        c->Post("/v1/audit/forward", Bearer(f.keys["replica"]), json{{"instance", other}, {"entries", {"00"}}}.dump(), json_type), 422);
  check("post", "/v1/audit/forward",
        c->Post("/v1/audit/forward", Bearer(f.keys["replica"]), json{{"instance", "x"}, {"entries", json::array()}}.dump(), json_type), 400);
  check("post", "/v1/audit/forward",
        c->Post("/v1/audit/forward", Bearer(f.keys["reviewer"]), json{{"instance", other}, {"entries", json::array()}}.dump(), json_type), 403);
  check("get", "/v1/audit/checkpoint", c->Get("/v1/audit/checkpoint", Bearer(f.keys["admin"])), 200);

  // Keys.
  auto created = c->Post("/v1/keys", Bearer(f.keys["admin"]), R"({"role":"ingest","label":"openapi","rate_per_s":5})", json_type);
  check("post", "/v1/keys", created, 201);
  REQUIRE(created);
  const std::string key = "/v1/keys/" + Json(created)["id"].get<std::string>();
  check("get", "/v1/keys", c->Get("/v1/keys", Bearer(f.keys["admin"])), 200);
  check("get", "/v1/keys/{id}", c->Get(key.c_str(), Bearer(f.keys["admin"])), 200);
  check("post", "/v1/keys/{id}/unblock", c->Post((key + "/unblock").c_str(), Bearer(f.keys["admin"]), "", json_type), 200);
  check("delete", "/v1/keys/{id}", c->Delete(key.c_str(), Bearer(f.keys["admin"])), 200);
  check("get", "/v1/keys/{id}", c->Get("/v1/keys/0000000000000000", Bearer(f.keys["admin"])), 404);

  // Operations.
  check("get", "/healthz", c->Get("/healthz"), 200);
  check("get", "/readyz", c->Get("/readyz"), 200);
  check("get", "/metrics", c->Get("/metrics", Bearer(f.keys["admin"])), 200);
  check("get", "/metrics", c->Get("/metrics"), 401);
  check("get", "/v1/openapi.json", c->Get("/v1/openapi.json"), 200);
}
