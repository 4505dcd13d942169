// hashscreen audit list|show|review|verify: the reviewer's and admin's view
// of the audit log.
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "client/api_client.h"
#include "client/command.h"

namespace client {

namespace {

using nlohmann::json;

constexpr const char* kHelp =
    "usage: hashscreen audit COMMAND [OPTIONS]\n\n"
    "  audit list [--after ID] [--limit N] [--verdict match|no_match|error|review|event]\n"
    "             [--list ID] [--since MS] [--until MS] [--json]\n"
    "                          entries, one line each (reviewer key); --json prints the page as JSON\n"
    "  audit show ID           one entry with its reviews, as JSON (reviewer key)\n"
    "  audit review ID --disposition confirmed|false_positive|escalated [--note TEXT]\n"
    "                          record a review (reviewer key)\n"
    "  audit verify            walk the audit chain (admin key); exit 1 if it does not verify\n\n"
    "options:\n%s";

int Fail(const std::string& what) {
  std::fprintf(stderr, "hashscreen audit: %s\n", what.c_str());
  return 1;
}

std::string Time(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Str(const json& j, const char* k) {
  return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
}

int List(ApiClient& api, const std::vector<std::string>& args) {
  std::string query;
  bool as_json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--json") {
      as_json = true;
      continue;
    }
    if (args[i].rfind("--", 0) != 0 || i + 1 >= args.size()) return Fail("bad option " + args[i] + " (see --help)");
    query += query.empty() ? '?' : '&';
    query += args[i].substr(2);
    query += '=';
    query += UrlEncode(args[i + 1]);
    ++i;
  }
  ApiAnswer a;
  if (Status s = api.Get("/v1/audit" + query, &a); !s.ok()) return Fail(s.message());
  if (a.status != 200) return Fail(a.ErrorMessage());
  json page = json::parse(a.body);
  if (as_json) {
    std::printf("%s\n", page.dump().c_str());
    return 0;
  }
  for (const auto& e : page["entries"]) {
    std::string line = Str(e, "id") + "  " + Time(e["time_ms"].get<int64_t>()) + "  ";
    if (Str(e, "kind") == "event") {
      line += "event " + Str(e, "event") + " key=" + Str(e, "key_id") + ": " + Str(e, "detail");
    } else if (Str(e, "kind") == "review") {
      line += "review of " + Str(e, "target_id") + ": " + Str(e, "disposition") + " " + Str(e, "note");
    } else {
      line += Str(e, "verdict");
      if (e.contains("error")) line += " (" + Str(e, "error") + ")";
      line += "  ref=" + Str(e, "ref");
      for (const auto& h : e["hits"]) {
        line += "  [" + Str(h, "list_kind") + " list " + std::to_string(h["list_id"].get<uint64_t>()) + " " +
                Str(h, "partner") + "/" + Str(h, "partner_ref") + " " + Str(h, "signal") + " d=" +
                std::to_string(h["distance"].get<int>()) + "]";
      }
    }
    std::printf("%s\n", line.c_str());
  }
  if (page["next"].is_string()) std::fprintf(stderr, "more: --after %s\n", page["next"].get<std::string>().c_str());
  return 0;
}

}  // namespace

int RunAudit(const std::vector<std::string>& argv) {
  return RunServerCommand("audit", argv, kHelp, [](ApiClient& api, const std::string& sub, std::vector<std::string>& args) {
    ApiAnswer a;
    if (sub == "list") return List(api, args);
    if (sub == "show") {
      if (args.size() != 1) return Fail("show needs one ID");
      if (Status s = api.Get("/v1/audit/" + UrlEncode(args[0]), &a); !s.ok()) return Fail(s.message());
      if (a.status != 200) return Fail(a.ErrorMessage());
      std::printf("%s\n", json::parse(a.body).dump(2).c_str());
      return 0;
    }
    if (sub == "review") {
      if (args.empty()) return Fail("review needs an ID");
      json body;
      for (size_t i = 1; i + 1 < args.size(); i += 2) {
        if (args[i] == "--disposition") body["disposition"] = args[i + 1];
        else if (args[i] == "--note") body["note"] = args[i + 1];
        else return Fail("unknown option " + args[i]);
      }
      if (!body.contains("disposition")) return Fail("review needs --disposition");
      if (Status s = api.Post("/v1/audit/" + UrlEncode(args[0]) + "/review", body.dump(), "application/json", &a); !s.ok()) {
        return Fail(s.message());
      }
      if (a.status != 201) return Fail(a.ErrorMessage());
      std::printf("recorded review %s\n", Str(json::parse(a.body), "id").c_str());
      return 0;
    }
    if (sub == "verify") {
      if (Status s = api.Get("/v1/audit/verify", &a); !s.ok()) return Fail(s.message());
      if (a.status != 200) return Fail(a.ErrorMessage());
      json v = json::parse(a.body);
      if (v["ok"].get<bool>()) {
        std::printf("ok: %llu entries, head %s\n", static_cast<unsigned long long>(v["entries"].get<uint64_t>()),
                    Str(v, "head").c_str());
        return 0;
      }
      std::printf("FAILED at entry %s: %s\n", Str(v, "first_bad_id").c_str(), Str(v, "problem").c_str());
      return 1;
    }
    std::fprintf(stderr, "hashscreen audit: unknown command '%s' (see --help)\n", sub.c_str());
    return 2;
  });
}

}  // namespace client
