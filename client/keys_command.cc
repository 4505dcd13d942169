// hashscreen keys create|list|show|revoke|unblock: an admin's management of
// API keys on a running hashscreend (/v1/keys). Revocation holds for the
// key's next request. `hashscreend keys ...` remains for the first admin key,
// with the server stopped.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/number_parse.h"
#include "client/api_client.h"
#include "client/command.h"
#include "client/listing.h"

namespace client {

namespace {

using nlohmann::json;

constexpr const char* kHelp =
    "usage: hashscreen keys COMMAND [OPTIONS]   (admin key)\n\n"
    "  keys list [--json]      every key: id, role, partner, label, created, expires, last used,\n"
    "                          revoked, permissions (never secrets)\n"
    "  keys create --role ingest|reviewer|partner|replica|admin [--partner NAME] [--label TEXT]\n"
    "              [--expires-in DURATION] [--hash-queries] [--no-probing-limit] [--rate N]\n"
    "                          make a key; the secret is the last line of stdout, shown once.\n"
    "                          --expires-in: 3600s, 30m, 12h, 90d (then the key is unknown);\n"
    "                          --hash-queries: the ingest key may call /v1/screen/hashes;\n"
    "                          --no-probing-limit: the ingest key is not watched by the probing\n"
    "                          detector (your own test tooling only; audited);\n"
    "                          --rate: its own requests per second instead of the server's\n"
    "  keys show ID            one key, as JSON\n"
    "  keys revoke ID          revoke a key; its next request gets 401\n"
    "  keys unblock ID         clear a block set by the probing detector (see `audit list --verdict event`)\n\n"
    "Last-use times are exact in memory and written to disk every keys.last_used_flush_s.\n\n"
    "options:\n%s";

int Fail(const std::string& what) {
  std::fprintf(stderr, "hashscreen keys: %s\n", what.c_str());
  return 1;
}

std::string Str(const json& j, const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; }

std::string Time(const json& j, const char* k) {
  return j.contains(k) && j[k].is_number_integer() ? base::FormatUtc(j[k].get<int64_t>()) : "-";
}

int Create(ApiClient& api, const std::vector<std::string>& args) {
  json body = json::object();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--hash-queries") {
      body["hash_queries"] = true;
    } else if (a == "--no-probing-limit") {
      body["probing_exempt"] = true;
    } else if ((a == "--role" || a == "--partner" || a == "--label") && has_value) {
      body[a.substr(2)] = args[++i];
    } else if (a == "--expires-in" && has_value) {
      int64_t ms = 0;
      if (Status s = base::ParseDurationMs(args[++i], "--expires-in", 3650ll * 86400000, &ms); !s.ok()) return Fail(s.message());
      body["expires_ms"] = base::NowMs() + ms;
    } else if (a == "--rate" && has_value) {
      double rate = 0;
      if (Status s = base::ParseDouble(args[++i], "--rate", 0.001, 1e6, &rate); !s.ok()) return Fail(s.message());
      body["rate_per_s"] = rate;
    } else {
      return Fail("unknown option " + a + (has_value ? "" : " (or its value is missing)") + "; see --help");
    }
  }
  if (!body.contains("role")) return Fail("create needs --role ROLE (see --help)");
  ApiAnswer a;
  if (Status s = api.Post("/v1/keys", body.dump(), "application/json", &a); !s.ok()) return Fail(s.message());
  if (a.status != 201) return Fail(a.ErrorMessage());
  json k = json::parse(a.body);
  std::printf("key id %s, role %s%s%s\n", Str(k, "id").c_str(), Str(k, "role").c_str(),
              Str(k, "partner").empty() ? "" : ", partner ", Str(k, "partner").c_str());
  std::printf("the secret below is shown once; store it now:\n%s\n", Str(k, "secret").c_str());
  return 0;
}

int List(ApiClient& api, const std::vector<std::string>& args) {
  Listing listing;
  if (Status s = FetchListing(api, args, "/v1/keys", &listing); !s.ok()) return Fail(s.message());
  json page = std::move(listing.page);
  if (listing.as_json) {
    std::printf("%s\n", page.dump().c_str());
    return 0;
  }
  std::printf("%-16s  %-8s  %-12s  %-20s  %-20s  %-20s  %-20s  %s\n", "ID", "ROLE", "PARTNER", "CREATED", "EXPIRES",
              "LAST USED", "REVOKED", "PERMISSIONS / LABEL");
  for (const auto& k : page["keys"]) {
    std::string extra;
    if (k["hash_queries"].get<bool>()) extra += "hash-queries ";
    if (k["probing_exempt"].get<bool>()) extra += "no-probing-limit ";
    if (k["blocked"].get<bool>()) extra += "BLOCKED ";
    if (k["rate_per_s"].is_number()) {
      char rate[48];
      std::snprintf(rate, sizeof rate, "rate=%g/s ", k["rate_per_s"].get<double>());
      extra += rate;
    }
    extra += Str(k, "label");
    std::printf("%-16s  %-8s  %-12s  %-20s  %-20s  %-20s  %-20s  %s\n", Str(k, "id").c_str(), Str(k, "role").c_str(),
                Str(k, "partner").empty() ? "-" : Str(k, "partner").c_str(), Time(k, "created_ms").c_str(),
                Time(k, "expires_ms").c_str(), Time(k, "last_used_ms").c_str(), Time(k, "revoked_ms").c_str(),
                extra.c_str());
  }
  return 0;
}

}  // namespace

int RunKeys(const std::vector<std::string>& argv) {
  return RunServerCommand("keys", argv, kHelp, [](ApiClient& api, const std::string& sub, std::vector<std::string>& args) {
    if (sub == "create") return Create(api, args);
    if (sub == "list") return List(api, args);
    if (sub == "show" || sub == "revoke" || sub == "unblock") {
      if (args.size() != 1) return Fail(sub + " needs exactly one key ID");
      const std::string path = "/v1/keys/" + UrlEncode(args[0]);
      ApiAnswer a;
      Status s = sub == "show"     ? api.Get(path, &a)
                 : sub == "revoke" ? api.Delete(path, &a)
                                   : api.Post(path + "/unblock", "", "application/json", &a);
      if (!s.ok()) return Fail(s.message());
      if (a.status == 404) return Fail("no key " + args[0]);
      if (a.status != 200) return Fail(a.ErrorMessage());
      json k = json::parse(a.body);
      if (sub == "show") std::printf("%s\n", k.dump(2).c_str());
      if (sub == "revoke") std::printf("revoked %s\n", Str(k, "id").c_str());
      if (sub == "unblock") std::printf("unblocked %s\n", Str(k, "id").c_str());
      return 0;
    }
    std::fprintf(stderr, "hashscreen keys: unknown command '%s' (see --help)\n", sub.c_str());
    return 2;
  });
}

}  // namespace client
