// Allow lists on a real hashscreend: a partner's allow list silences only that
// partner's own block lists; only the operator's (admin-created) allow lists
// silence across partners, and no partner can claim the operator's name. The
// audit entry records every hit, block and allow.
#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;

namespace {

uint64_t CreateList(ServerFixture& f, const std::string& role, const json& body) {
  auto r = f.server.Client()->Post("/v1/lists", Bearer(f.keys[role]), body.dump(), "application/json");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 201, r->body);
  return Json(r)["id"].get<uint64_t>();
}

void Push(ServerFixture& f, const std::string& role, uint64_t list, const std::string& pdq_hex, const std::string& batch) {
  json body{{"batch_id", batch}, {"add", {{{"type", "pdq"}, {"hash", pdq_hex}, {"ref", batch}}}}};
  auto r = f.server.Client()->Post(("/v1/lists/" + std::to_string(list) + "/batches").c_str(), Bearer(f.keys[role]),
                                   body.dump(), "application/json");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
}

json ScreenBridge(ServerFixture& f) {
  auto r = f.Screen(FileBytes(BridgeImage()));
  REQUIRE(r);
  REQUIRE(r->status == 200);
  return Json(r);
}

}  // namespace

TEST_CASE("another partner's allow list cannot silence a partner's block list, the owner's and the operator's can") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;  // acme's block list holds the bridge photo
  const std::string bridge = PdqHexOf(BridgeImage());
  CHECK(ScreenBridge(f)["match"] == true);

  // globex lists the same photo in an allow list with the widest threshold.
  const uint64_t globex_allow = CreateList(f, "partner2", {{"name", "mine"}, {"kind", "allow"}, {"pdq_threshold", 63}});
  Push(f, "partner2", globex_allow, bridge, "g1");
  json j = ScreenBridge(f);
  CHECK(j["match"] == true);
  // The audit entry still records both hits.
  auto c = f.server.Client();
  json entry = Json(c->Get(("/v1/audit/" + j["audit_id"].get<std::string>()).c_str(), Bearer(f.keys["reviewer"])));
  REQUIRE(entry["hits"].size() == 2);
  CHECK(entry["hits"][0]["list_kind"] == "block");
  CHECK(entry["hits"][0]["partner"] == "acme");
  CHECK(entry["hits"][1]["list_kind"] == "allow");
  CHECK(entry["hits"][1]["partner"] == "globex");

  // A list an admin creates for globex is globex's: no more power than globex's own.
  const uint64_t for_globex =
      CreateList(f, "admin", {{"name", "by-admin"}, {"kind", "allow"}, {"owner", "globex"}});
  Push(f, "partner2", for_globex, bridge, "g2");
  CHECK(ScreenBridge(f)["match"] == true);

  // No partner can make a list the operator's.
  auto spoof = c->Post("/v1/lists", Bearer(f.keys["partner2"]), R"({"name":"x","kind":"allow","owner":"@operator"})",
                       "application/json");
  CHECK(spoof->status == 400);
  auto bad_owner = c->Post("/v1/lists", Bearer(f.keys["admin"]), R"({"name":"x","owner":"no such/partner"})",
                           "application/json");
  CHECK(bad_owner->status == 400);

  // acme's own allow list silences acme's block list.
  const uint64_t acme_allow = CreateList(f, "partner", {{"name", "ok"}, {"kind", "allow"}});
  Push(f, "partner", acme_allow, bridge, "a1");
  CHECK(ScreenBridge(f)["match"] == false);
  auto off = c->Patch(("/v1/lists/" + std::to_string(acme_allow)).c_str(), Bearer(f.keys["partner"]), R"({"enabled":false})",
                      "application/json");
  REQUIRE(off->status == 200);
  CHECK(ScreenBridge(f)["match"] == true);

  // The operator's allow list (an admin creates it; its owner is the operator) silences everyone's.
  auto op = c->Post("/v1/lists", Bearer(f.keys["admin"]), R"({"name":"reviewed-benign","kind":"allow"})", "application/json");
  REQUIRE(op->status == 201);
  CHECK(Json(op)["owner"] == "@operator");
  const uint64_t operator_allow = Json(op)["id"].get<uint64_t>();
  // Admins fill the operator's lists, and only those.
  Push(f, "admin", operator_allow, bridge, "o1");
  json not_theirs{{"batch_id", "x"}, {"add", json::array()}};
  auto refused = c->Post(("/v1/lists/" + std::to_string(f.list_id) + "/batches").c_str(), Bearer(f.keys["admin"]),
                         not_theirs.dump(), "application/json");
  CHECK(refused->status == 403);
  // Partners do not see the operator's lists.
  CHECK(c->Get(("/v1/lists/" + std::to_string(operator_allow)).c_str(), Bearer(f.keys["partner"]))->status == 404);
  CHECK(ScreenBridge(f)["match"] == false);
}
