// hashscreen holds [list] [--json] | release LIST_ID SIGNAL HASH [--note TEXT]:
// a reviewer's view of the signals a running hashscreend holds (suppressed by
// a false_positive review, or quarantined by the flood detector; GET
// /v1/holds), and their release (POST /v1/holds/release), which is audited.
#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "base/number_parse.h"
#include "client/api_client.h"
#include "client/command.h"
#include "client/listing.h"

namespace client {

namespace {

using nlohmann::json;

constexpr const char* kHelp =
    "usage: hashscreen holds [list] [--json]                                (reviewer or admin key)\n"
    "       hashscreen holds release LIST_ID SIGNAL HASH [--note TEXT]\n\n"
    "  list: every held signal (it matches nothing): list, signal, hash, why it is held\n"
    "  (suppressed: a reviewer judged a match on it a false positive; quarantined: it matched\n"
    "  far more than its history), when, by whom. --json prints the server's answer.\n"
    "  release: lets the signal match again; the release is an audit event with the note.\n"
    "  docs/exchanges.md \"Suppression and quarantine\".\n\n"
    "options:\n%s";

int Fail(const std::string& what) {
  std::fprintf(stderr, "hashscreen holds: %s\n", what.c_str());
  return 1;
}

std::string Text(const json& j, const char* k) {
  if (!j.contains(k) || j[k].is_null()) return "-";
  return j[k].is_string() ? j[k].get<std::string>() : j[k].dump();
}

int List(ApiClient& api, const std::vector<std::string>& args) {
  Listing listing;
  if (Status s = FetchListing(api, args, "/v1/holds", &listing); !s.ok()) return Fail(s.message());
  if (listing.as_json) {
    std::printf("%s\n", listing.page.dump().c_str());
    return 0;
  }
  std::printf("%-8s  %-16s  %-6s  %-64s  %-11s  %-14s  %s\n", "LIST", "NAME", "SIGNAL", "HASH", "REASON", "TIME MS",
              "BY / WHY");
  for (const auto& h : listing.page.at("holds")) {
    std::printf("%-8s  %-16s  %-6s  %-64s  %-11s  %-14s  %s: %s\n", Text(h, "list_id").c_str(), Text(h, "list").c_str(),
                Text(h, "signal").c_str(), Text(h, "hash").c_str(), Text(h, "reason").c_str(),
                Text(h, "time_ms").c_str(), Text(h, "by").c_str(), Text(h, "why").c_str());
  }
  return 0;
}

int Release(ApiClient& api, const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  std::string note;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--note") {
      if (i + 1 >= args.size()) return Fail("--note needs a value");
      note = args[++i];
    } else if (args[i].starts_with("--")) {
      return Fail("unknown option " + args[i] + " (see --help)");
    } else {
      positional.push_back(args[i]);
    }
  }
  if (positional.size() != 3) return Fail("release takes LIST_ID SIGNAL HASH (see --help)");
  uint64_t list_id = 0;
  if (Status s = base::ParseUint(positional[0], "LIST_ID", 0, INT64_MAX, &list_id); !s.ok()) return Fail(s.message());
  json body{{"list_id", list_id}, {"signal", positional[1]}, {"hash", positional[2]}};
  if (!note.empty()) body["note"] = note;
  ApiAnswer answer;
  if (Status s = api.Post("/v1/holds/release", body.dump(), "application/json", &answer); !s.ok()) return Fail(s.message());
  if (answer.status != 200) return Fail(answer.ErrorMessage());
  const json j = json::parse(answer.body);
  std::printf("released %s %s of list %s (%s); audit entry %s\n", Text(j["released"], "signal").c_str(),
              Text(j["released"], "hash").c_str(), Text(j["released"], "list_id").c_str(),
              Text(j["released"], "reason").c_str(), Text(j, "audit_id").c_str());
  return 0;
}

}  // namespace

int RunHolds(const std::vector<std::string>& argv) {
  std::vector<std::string> args = argv;
  // `list` is the default command, so it may be left out.
  const bool explicit_sub = std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a == "list" || a == "release" || a == "--help" || a == "-h";
  });
  if (!explicit_sub) args.insert(args.begin(), "list");
  return RunServerCommand("holds", args, kHelp, [](ApiClient& api, const std::string& sub, std::vector<std::string>& rest) {
    if (sub == "list") return List(api, rest);
    if (sub == "release") return Release(api, rest);
    std::fprintf(stderr, "hashscreen holds: unknown command '%s' (see --help)\n", sub.c_str());
    return 2;
  });
}

}  // namespace client
