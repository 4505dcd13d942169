// hashscreen exchanges [list] [--json]: an admin's view of the partner
// exchanges a running hashscreend follows (GET /v1/exchanges): when each
// last succeeded, its last error, checkpoint, entries and lag.
#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "client/api_client.h"
#include "client/command.h"
#include "client/listing.h"

namespace client {

namespace {

using nlohmann::json;

constexpr const char* kHelp =
    "usage: hashscreen exchanges [list] [--json]   (admin key)\n\n"
    "  every [[exchange]] of the server's config: name, kind, list, last success, entries,\n"
    "  lag (seconds since the last successful fetch), checkpoint, and the last error (cleared\n"
    "  by a later success). --json prints the server's answer. docs/exchanges.md explains them.\n\n"
    "options:\n%s";

int Fail(const std::string& what) {
  std::fprintf(stderr, "hashscreen exchanges: %s\n", what.c_str());
  return 1;
}

std::string Text(const json& j, const char* k) {
  if (!j.contains(k) || j[k].is_null()) return "-";
  if (j[k].is_string()) return j[k].get<std::string>();
  if (j[k].is_number_float()) {
    char b[32];
    std::snprintf(b, sizeof b, "%.0f", j[k].get<double>());
    return b;
  }
  return j[k].dump();
}

int List(ApiClient& api, const std::vector<std::string>& args) {
  Listing listing;
  if (Status s = FetchListing(api, args, "/v1/exchanges", &listing); !s.ok()) return Fail(s.message());
  json page = std::move(listing.page);
  if (listing.as_json) {
    std::printf("%s\n", page.dump().c_str());
    return 0;
  }
  std::printf("%-16s  %-14s  %-16s  %-24s  %9s  %7s  %s\n", "NAME", "KIND", "LIST", "LAST SUCCESS", "ENTRIES", "LAG S",
              "CHECKPOINT / LAST ERROR");
  for (const auto& x : page.at("exchanges")) {
    std::string tail = Text(x, "checkpoint");
    if (!x["last_error"].is_null()) tail = "ERROR: " + Text(x, "last_error");
    std::printf("%-16s  %-14s  %-16s  %-24s  %9s  %7s  %s\n", Text(x, "name").c_str(), Text(x, "kind").c_str(),
                Text(x, "list").c_str(), Text(x, "last_success").c_str(), Text(x, "entries").c_str(),
                Text(x, "lag_s").c_str(), tail.c_str());
  }
  return 0;
}

}  // namespace

int RunExchanges(const std::vector<std::string>& argv) {
  std::vector<std::string> args = argv;
  // `list` is the only command, so it may be left out.
  const bool explicit_sub = std::any_of(args.begin(), args.end(),
                                        [](const std::string& a) { return a == "list" || a == "--help" || a == "-h"; });
  if (!explicit_sub) args.insert(args.begin(), "list");
  return RunServerCommand("exchanges", args, kHelp, [](ApiClient& api, const std::string& sub, std::vector<std::string>& rest) {
    if (sub == "list") return List(api, rest);
    std::fprintf(stderr, "hashscreen exchanges: unknown command '%s' (see --help)\n", sub.c_str());
    return 2;
  });
}

}  // namespace client
