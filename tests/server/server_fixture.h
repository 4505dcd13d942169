// A running hashscreend with one key per role (the ingest key may screen
// hashes), and a block list of partner "acme" holding the PDQ hash of the
// conformance bridge photo.
#pragma once

#include <doctest/doctest.h>

#include <map>

#include "hashing/image_hasher.h"
#include "tests/server/server_process.h"
#include "tests/test_support.h"

namespace testing_support {

inline fs::path ConformanceImages() { return PdqDataDir() / "images"; }
inline fs::path BridgeImage() { return ConformanceImages() / "bridge-mods" / "aaa-orig.jpg"; }

inline std::string FileBytes(const fs::path& p) {
  auto v = ReadFile(p);
  return std::string(v.begin(), v.end());
}

inline std::string PdqHexOf(const fs::path& p) {
  auto bytes = ReadFile(p);
  hashing::ImageHashes h;
  REQUIRE(hashing::HashImage(bytes, {}, &h).ok());
  return h.pdq[hashing::kOrig].ToHex();
}

struct ServerFixture {
  TempDir tmp;
  ServerProcess server{tmp.path()};
  std::map<std::string, std::string> keys;  // role (and "partner2") -> secret
  uint64_t list_id = 0;                     // acme's block list

  // Creates the keys, starts the server with `extra` flags, and (if
  // `with_list`) creates acme's list holding the bridge photo.
  explicit ServerFixture(const std::vector<std::string>& extra = {}, bool with_list = true) {
    for (const char* role : {"reviewer", "replica", "admin"}) keys[role] = server.CreateKey(role);
    keys["ingest"] = server.CreateKey("ingest", "", {"--hash-queries"});
    keys["partner"] = server.CreateKey("partner", "acme");
    keys["partner2"] = server.CreateKey("partner", "globex");
    std::string error;
    REQUIRE_MESSAGE(server.Start(extra, &error), error);
    if (!with_list) return;
    auto c = server.Client();
    auto r = c->Post("/v1/lists", Bearer(keys["partner"]), R"({"name":"known","kind":"block","pdq_threshold":31})",
                     "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 201);
    list_id = Json(r)["id"].get<uint64_t>();
    nlohmann::json batch{{"batch_id", "seed"},
                         {"add", {{{"type", "pdq"}, {"hash", PdqHexOf(BridgeImage())}, {"ref", "bridge-ref-1"}}}}};
    r = c->Post(("/v1/lists/" + std::to_string(list_id) + "/batches").c_str(), Bearer(keys["partner"]), batch.dump(),
                "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 200);
  }

  httplib::Result Screen(const std::string& bytes, const std::string& key_role = "ingest",
                         const std::string& content_type = "image/jpeg", const std::string& query = "") {
    auto c = server.Client();
    return c->Post(("/v1/screen" + query).c_str(), Bearer(keys[key_role]), bytes, content_type.c_str());
  }
};

}  // namespace testing_support
