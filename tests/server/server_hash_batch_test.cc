// POST /v1/screen/hashes/batch on a real hashscreend: verdicts in order,
// the dihedral set and min_quality honoured, one Merkle-rooted audit entry
// for the no-match items whose root the caller can recompute, strict bodies
// and the item cap, and the probing detector counting every item of a batch.
#include <random>

#include "base/hex.h"
#include "base/merkle.h"
#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;

namespace {

base::PdqHash Bridge() {
  base::PdqHash h;
  REQUIRE(base::PdqHash::FromHex(PdqHexOf(BridgeImage()), &h).ok());
  return h;
}

// `listed` with `bits` bits flipped (a distinct choice per seed).
base::PdqHash Near(const base::PdqHash& listed, int bits, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int> order(256);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  base::PdqHash q = listed;
  for (int i = 0; i < bits; ++i) q.bytes[31 - order[i] / 8] ^= static_cast<uint8_t>(1u << (order[i] % 8));
  return q;
}

httplib::Result PostBatch(httplib::SSLClient& c, const std::string& key, const json& body) {
  return c.Post("/v1/screen/hashes/batch", Bearer(key), body.dump(), "application/json");
}

base::Sha256Digest LeafOf(const json& item) {
  std::vector<base::PdqHash> pdq;
  if (item.contains("pdq")) {
    for (const auto& h : item["pdq"]) {
      base::PdqHash p;
      REQUIRE(base::PdqHash::FromHex(h.get<std::string>(), &p).ok());
      pdq.push_back(p);
    }
  }
  const std::string ref = item.value("ref", "");
  base::BatchLeafItem leaf;
  leaf.ref = ref;
  leaf.pdq = pdq;
  leaf.quality = item.value("quality", -1);
  if (item.contains("md5")) {
    base::Md5Digest d;
    REQUIRE(base::HexDecode(item["md5"].get<std::string>(), d).ok());
    leaf.md5 = d;
  }
  if (item.contains("sha256")) {
    base::Sha256Digest d;
    REQUIRE(base::HexDecode(item["sha256"].get<std::string>(), d).ok());
    leaf.sha256 = d;
  }
  return base::BatchLeafHash(leaf);
}

}  // namespace

TEST_CASE("a hash batch is answered in order, and its no-match items share one audit entry whose Merkle root the caller recomputes") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  auto c = f.server.Client();
  const base::PdqHash bridge = Bridge();
  json items = json::array();
  for (int i = 0; i < 10; ++i) {
    items.push_back({{"ref", "far-" + std::to_string(i)},
                     {"pdq", {Near(bridge, 120, i).ToHex(), Near(bridge, 110, 100 + i).ToHex()}},
                     {"quality", 90},
                     {"md5", base::HexEncode(base::Md5(base::Sha256(std::string("m").append(std::to_string(i)))))}});
  }
  // The listed hash as the second variant of a set: the rotated copy matches.
  items.push_back({{"ref", "turned"}, {"pdq", {Near(bridge, 128, 77).ToHex(), bridge.ToHex()}}, {"quality", 90}});
  // The listed hash with a quality below screening.min_quality: digests only.
  items.push_back({{"ref", "blurry"}, {"pdq", {bridge.ToHex()}}, {"quality", 10}});
  items.push_back({{"ref", "digest-only"}, {"sha256", std::string(64, 'e')}});
  auto r = PostBatch(*c, f.keys["ingest"], {{"items", items}});
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  json out = Json(r);
  REQUIRE(out["results"].size() == items.size());
  std::vector<base::Sha256Digest> leaves;
  std::string pooled_id;
  for (size_t i = 0; i < items.size(); ++i) {
    const json& res = out["results"][i];
    CHECK(res["ref"] == items[i]["ref"]);
    if (items[i]["ref"] == "turned") {
      CHECK(res["match"] == true);
      continue;
    }
    CHECK(res["match"] == false);
    if (pooled_id.empty()) pooled_id = res["audit_id"];
    CHECK(res["audit_id"] == pooled_id);
    leaves.push_back(LeafOf(items[i]));
  }
  // The match has its own entry, with the hit reviewers need.
  const std::string match_id = out["results"][10]["audit_id"];
  CHECK(match_id != pooled_id);
  json match = Json(c->Get(("/v1/audit/" + match_id).c_str(), Bearer(f.keys["reviewer"])));
  CHECK(match["kind"] == "screen");
  CHECK(match["ref"] == "turned");
  REQUIRE(match["hits"].size() == 1);
  CHECK(match["hits"][0]["variant"] == 1);
  // The pooled entry: count and root, equal to the one computed here.
  json pooled = Json(c->Get(("/v1/audit/" + pooled_id).c_str(), Bearer(f.keys["reviewer"])));
  CHECK(pooled["kind"] == "batch");
  CHECK(pooled["verdict"] == "no_match");
  CHECK(pooled["count"] == leaves.size());
  base::Sha256Digest root{};
  REQUIRE(base::MerkleRoot(leaves, &root).ok());
  CHECK(pooled["merkle_root"] == base::HexEncode(root));
  CHECK(out["no_match_audit"]["merkle_root"] == base::HexEncode(root));
  CHECK(out["no_match_audit"]["audit_id"] == pooled_id);
  // Listed for reviewers by kind, and the chain still verifies.
  json batches = Json(c->Get("/v1/audit?verdict=batch", Bearer(f.keys["reviewer"])));
  REQUIRE(batches["entries"].size() == 1);
  CHECK(batches["entries"][0]["id"] == pooled_id);
  CHECK(Json(c->Get("/v1/audit/verify", Bearer(f.keys["admin"])))["ok"] == true);
  // The ingest answer names no list, partner or hash.
  CHECK(r->body.find("acme") == std::string::npos);
  CHECK(r->body.find("known") == std::string::npos);
}

TEST_CASE("the single hash route takes the dihedral set and a quality") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  auto c = f.server.Client();
  const base::PdqHash bridge = Bridge();
  auto ask = [&](const json& body) {
    auto r = c->Post("/v1/screen/hashes", Bearer(f.keys["ingest"]), body.dump(), "application/json");
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 200, r->body);
    return Json(r)["match"].get<bool>();
  };
  CHECK(ask({{"pdq", {Near(bridge, 128, 5).ToHex(), bridge.ToHex()}}}));
  CHECK(ask({{"pdq", bridge.ToHex()}}));
  CHECK_FALSE(ask({{"pdq", {bridge.ToHex()}}, {"quality", 49}}));
  CHECK(ask({{"pdq", {bridge.ToHex()}}, {"quality", 50}}));
  std::vector<std::string> nine(9, bridge.ToHex());
  auto r = c->Post("/v1/screen/hashes", Bearer(f.keys["ingest"]), json{{"pdq", nine}}.dump(), "application/json");
  CHECK(r->status == 400);
  CHECK(r->body.find("1 to 8") != std::string::npos);
}

TEST_CASE("hash batches are strict: malformed items, unknown fields, duplicates and the item cap are 400, nothing audited") {
  ServerFixture f({"--max-hash-batch-items", "5"}, /*with_list=*/false);
  auto c = f.server.Client();
  const std::string md5 = std::string(32, '0');
  auto expect400 = [&](const std::string& body, const std::string& needle) {
    auto r = c->Post("/v1/screen/hashes/batch", Bearer(f.keys["ingest"]), body, "application/json");
    REQUIRE(r);
    CHECK_MESSAGE(r->status == 400, body);
    CHECK(Json(r)["error"]["code"] == "invalid_argument");
    CHECK_MESSAGE(r->body.find(needle) != std::string::npos, r->body);
  };
  json six = json::array();
  for (int i = 0; i < 6; ++i) six.push_back({{"md5", md5}});
  expect400(json{{"items", six}}.dump(), "1 to 5");
  expect400(R"({"items":[]})", "1 to 5");
  expect400(R"({"items":{}})", "items");
  expect400(R"({"itemz":[]})", "itemz");
  expect400(R"({"items":[{"md5":")" + md5 + R"("}],"items":[]})", "items");
  expect400(R"({"items":[{"md5":")" + md5 + R"("},{"md5":"xyz"}]})", "items[1]: md5");
  expect400(R"({"items":[{"md5":")" + md5 + R"(","colour":1}]})", "items[0]: unknown field");
  expect400(R"({"items":[{"md5":")" + md5 + R"(","md5":")" + md5 + R"("}]})", "md5");
  expect400(R"({"items":[{"ref":"x"}]})", "items[0]: give at least one");
  expect400(R"({"items":[{"md5":")" + md5 + R"(","quality":101}]})", "quality");
  expect400(R"({"items":[{"pdq":[]}]})", "items[0]: pdq must hold 1 to 8");
  expect400(R"({"items":[{"md5":")" + md5 + R"(","ref":"a\u0001b"}]})", "control character");
  expect400(R"({"items":[7]})", "items[0]");
  expect400("not json", "");
  // Nothing of those was audited.
  CHECK(Json(c->Get("/v1/audit", Bearer(f.keys["reviewer"])))["entries"].empty());
  // Five is fine; a key without the hash permission is refused.
  json five = json::array();
  for (int i = 0; i < 5; ++i) five.push_back({{"md5", md5}, {"ref", std::to_string(i)}});
  auto ok = PostBatch(*c, f.keys["ingest"], {{"items", five}});
  REQUIRE(ok->status == 200);
  CHECK(Json(ok)["results"].size() == 5);
  auto created = c->Post("/v1/keys", Bearer(f.keys["admin"]), R"({"role":"ingest"})", "application/json");
  auto refused = PostBatch(*c, Json(created)["secret"], {{"items", five}});
  CHECK(refused->status == 403);
  CHECK(Json(refused)["error"]["code"] == "permission_denied");
  CHECK(PostBatch(*c, f.keys["reviewer"], {{"items", five}})->status == 403);
}

TEST_CASE("the probing detector counts every item of a hash batch: a walk packed into one batch is cut at the budget") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  auto c = f.server.Client();
  const base::PdqHash bridge = Bridge();
  // 20 screens at distance 31 of one list hash (threshold 31): each is near
  // the threshold. The hash budget (8) allows 8 verdicts; the 9th trips the
  // detector, and every item after it, hit or not, gets no verdict.
  json items = json::array();
  for (int i = 0; i < 20; ++i) items.push_back({{"ref", "probe-" + std::to_string(i)}, {"pdq", {Near(bridge, 31, i).ToHex()}}});
  items.push_back({{"ref", "clean"}, {"md5", std::string(32, '1')}});
  auto r = PostBatch(*c, f.keys["ingest"], {{"items", items}});
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  json out = Json(r);
  int answered = 0, refused = 0;
  for (const auto& res : out["results"]) {
    if (res.contains("error")) {
      CHECK(res["error"]["code"] == "probing_suspected");
      ++refused;
    } else {
      ++answered;
    }
  }
  CHECK(answered == 8);
  CHECK(refused == 13);
  CHECK(out["results"][20].contains("error"));
  CHECK_FALSE(out.contains("no_match_audit"));
  // The key is blocked for everything after.
  auto later = PostBatch(*c, f.keys["ingest"], {{"items", {{{"md5", std::string(32, '2')}}}}});
  CHECK(later->status == 403);
  CHECK(Json(later)["error"]["code"] == "probing_suspected");
  // Each refused item has its own error entry, as a refused single screen does.
  json errors = Json(c->Get("/v1/audit?verdict=error&limit=100", Bearer(f.keys["reviewer"])));
  CHECK(errors["entries"].size() == 13);
}
