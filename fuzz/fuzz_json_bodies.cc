// libFuzzer target: every route that takes a JSON body, through its real
// handler, against a real Service (RocksDB in a temp dir, fsync off for
// speed). The first byte picks the route; the rest is the body. The caller
// holds the first role the route allows (a partner key belongs to the owner
// of list 1). A handler must answer every body with a status and a JSON
// error for bad input: never crash, throw, or answer 5xx.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "server/routes.h"

namespace {

struct Fixture {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("hashscreen-fuzz-" + std::to_string(getpid()))).string();
  std::unique_ptr<server::Service> service;
  std::vector<const server::Route*> json_routes;

  Fixture() {
    std::filesystem::remove_all(dir);
    server::ServerConfig config;
    config.data_dir = dir;
    config.sync = false;
    config.log_requests = false;
    if (!server::Service::Open(config, &service).ok()) std::abort();
    store::ListInfo info;
    if (!service->lists()->CreateList({"fuzz", "fuzz", base::ListKind::kBlock, 31}, &info).ok()) std::abort();
    for (const server::Route& r : server::Routes()) {
      if (r.body == server::Route::Body::kJson) json_routes.push_back(&r);
    }
    if (json_routes.empty()) std::abort();
  }
  // Runs when libFuzzer exits normally; a crashed run leaves its directory.
  ~Fixture() {
    service.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

store::Role FirstRole(server::RoleMask mask) {
  for (store::Role r : {store::Role::kIngest, store::Role::kReviewer, store::Role::kPartner, store::Role::kReplica,
                        store::Role::kAdmin}) {
    if (mask & server::Bit(r)) return r;
  }
  return store::Role::kAdmin;
}

// Built in LLVMFuzzerInitialize, outside libFuzzer's per-input timeout:
// opening RocksDB on a loaded machine can take longer than one input may.
Fixture* fixture = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  static Fixture f;
  fixture = &f;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = *fixture;
  if (size == 0) return 0;
  const server::Route& route = *f.json_routes[data[0] % f.json_routes.size()];
  server::ApiRequest req;
  req.method = route.method;
  req.path = route.name;
  // Every capture of the route's pattern (ids) gets "1": list 1 exists.
  for (size_t i = 0; i < 4; ++i) req.path_args.push_back("1");
  req.content_type = "application/json";
  req.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  req.key.id = "fuzzkey";
  req.key.role = FirstRole(route.roles);
  req.key.partner = "fuzz";
  server::ApiResponse res;
  route.handler(*f.service, req, &res);
  if (res.status >= 500 || res.status < 100) std::abort();
  return 0;
}
