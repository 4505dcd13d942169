// hashscreen audit list|show|review|verify|checkpoint: the reviewer's and
// admin's view of the audit log.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "client/api_client.h"
#include "client/audit_prove.h"
#include "client/command.h"
#include "base/clock.h"
#include "base/number_parse.h"

namespace client {

namespace {

using nlohmann::json;

constexpr const char* kHelp =
    "usage: hashscreen audit COMMAND [OPTIONS]\n\n"
    "  audit list [FILTERS] [--order oldest|newest] [--limit N] [--json]\n"
    "                          entries, one line each, every page (reviewer or admin key); --limit N\n"
    "                          stops after N entries; --json prints one JSON entry per line. FILTERS:\n"
    "      --verdict match|no_match|error|review|event|batch\n"
    "      --list ID           screens with a hit on list ID\n"
    "      --partner NAME      screens with a hit on a list owned by partner NAME\n"
    "      --disposition unreviewed|confirmed|false_positive|escalated|reported\n"
    "                          the current disposition (latest review); unreviewed = matches no\n"
    "                          one has reviewed: the review queue is --verdict match --disposition\n"
    "                          unreviewed (oldest first)\n"
    "      --instance ID       entries of one instance (its id, or 8+ leading hex digits of it)\n"
    "      --since T, --until T  a time window, inclusive; T is ms since the epoch or ISO-8601 UTC\n"
    "                          (2026-11-30, 2026-11-30T06:45:24Z)\n"
    "  audit show ID           one entry with its current disposition and review history, as JSON\n"
    "  audit review ID --disposition confirmed|false_positive|escalated|reported [--note TEXT]\n"
    "             [--report-id R]\n"
    "                          record a review. reported needs --report-id (e.g. the CyberTipline\n"
    "                          report number); an entry already reviewed needs --note saying why\n"
    "  audit export --since T --until T [--format csv|json] [--out FILE]\n"
    "             [--list ID] [--partner NAME] [--disposition D]\n"
    "                          the matches of a time window, one row per hit, with their current\n"
    "                          disposition and reviews (reviewer key); FILE is never overwritten\n"
    "  audit verify [--checkpoint FILE|STRING]\n"
    "                          walk the audit chain (admin key); with a checkpoint, also prove the\n"
    "                          log still holds it (a cut or rewritten tail fails). Exit 0 verified,\n"
    "                          1 it failed (or the request did), 4 it could not be checked fully\n"
    "                          (HMACs present but the server has no key; an old log's head\n"
    "                          without a MAC)\n"
    "  audit checkpoint [--json]\n"
    "                          print the chain head as one line (sequence, hash, MAC by the\n"
    "                          server's audit HMAC key) to store away from the server (admin key)\n"
    "  audit prove ID --proofs FILE.merkle.jsonl (--image SOURCE | --ref REF --pdq H[,H...]\n"
    "             [--quality Q] [--md5 HEX] [--sha256 HEX]) [--ref REF] [--fast] [--json]\n"
    "                          prove that an item is one of the no-match items of batch entry ID\n"
    "                          (hashscreen scan's hash batches): its leaf, recomputed from the\n"
    "                          image (a path or SHARD:MEMBER, hashed as scan hashes it) or from\n"
    "                          its hashes, is in the Merkle root the entry holds; the leaves come\n"
    "                          from the scan's side file. REF defaults to SOURCE (as scan sends\n"
    "                          it); --fast for a source scanned with --fast. Exit 0 proven,\n"
    "                          1 not (reviewer key)\n\n"
    "options:\n%s";

constexpr std::string_view kCheckpointPrefix = "audit-checkpoint:";
constexpr size_t kMaxCheckpointFile = 4096;

int Fail(const std::string& what) {
  std::fprintf(stderr, "hashscreen audit: %s\n", what.c_str());
  return 1;
}

std::string Str(const json& j, const char* k) {
  return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
}

// A usage error: exit 2, naming what was wrong.
int Usage(const std::string& what) {
  std::fprintf(stderr, "hashscreen audit: %s (see hashscreen audit --help)\n", what.c_str());
  return 2;
}

// A time: ms since the epoch, or ISO-8601 UTC (2026-11-30, 2026-11-30T06:45,
// 2026-11-30T06:45:24Z, 2026-11-30T06:45:24.250Z).
Status ParseTime(const std::string& flag, const std::string& text, int64_t* out) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
    uint64_t v = 0;
    HS_RETURN_IF_ERROR(base::ParseUint(text, flag.c_str(), 0, INT64_MAX, &v));
    *out = static_cast<int64_t>(v);
    return Status::Ok();
  }
  const auto bad = [&] {
    return Status::InvalidArgument(flag + " " + text + ": not ms since the epoch nor an ISO-8601 UTC time (2026-11-30T06:45:24Z)");
  };
  auto digits = [&](size_t at, size_t n, int* v) {
    if (at + n > text.size()) return false;
    *v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      *v = *v * 10 + (text[i] - '0');
    }
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  if (!digits(0, 4, &y) || text.size() < 10 || text[4] != '-' || !digits(5, 2, &mo) || text[7] != '-' || !digits(8, 2, &d)) {
    return bad();
  }
  size_t at = 10;
  if (at < text.size() && (text[at] == 'T' || text[at] == ' ')) {
    if (!digits(at + 1, 2, &h) || at + 3 >= text.size() || text[at + 3] != ':' || !digits(at + 4, 2, &mi)) return bad();
    at += 6;
    if (at < text.size() && text[at] == ':') {
      if (!digits(at + 1, 2, &sec)) return bad();
      at += 3;
      if (at < text.size() && text[at] == '.') {
        size_t n = 0;
        while (at + 1 + n < text.size() && n < 3 && text[at + 1 + n] >= '0' && text[at + 1 + n] <= '9') ++n;
        if (n == 0 || !digits(at + 1, n, &ms)) return bad();
        for (size_t i = n; i < 3; ++i) ms *= 10;
        at += 1 + n;
      }
    }
  }
  if (at < text.size()) {
    const std::string zone = text.substr(at);
    if (zone != "Z" && zone != "+00:00") {
      return Status::InvalidArgument(flag + " " + text + ": times are UTC: end with Z (or give ms since the epoch)");
    }
  }
  if (!base::UtcToUnixMs(y, mo, d, h, mi, sec, ms, out)) return bad();
  return Status::Ok();
}

// Flags of `audit list` and `audit export` that become query parameters.
struct FilterFlags {
  std::map<std::string, std::string> params;
};

// Takes the value of flag args[i] into `params` under `param`; false when it has none.
bool TakeValue(const std::vector<std::string>& args, size_t* i, std::string* value) {
  if (*i + 1 >= args.size()) return false;
  *value = args[++*i];
  return true;
}

std::string QueryString(const std::map<std::string, std::string>& params) {
  std::string q;
  for (const auto& [k, v] : params) q += (q.empty() ? "?" : "&") + k + "=" + UrlEncode(v);
  return q;
}

std::string EntryLine(const json& e) {
  std::string line = Str(e, "id") + "  " + base::FormatIso8601(e.value("time_ms", int64_t{0})) + "  ";
  if (Str(e, "kind") == "event") {
    line += "event " + Str(e, "event") + " key=" + Str(e, "key_id") + ": " + Str(e, "detail");
  } else if (Str(e, "kind") == "review") {
    line += "review of " + Str(e, "target_id") + ": " + Str(e, "disposition") + " " + Str(e, "note");
    if (e.contains("report_id") && e["report_id"].is_string()) line += " report=" + Str(e, "report_id");
  } else if (Str(e, "kind") == "batch") {
    line += "batch of " + std::to_string(e.value("count", 0ull)) + " " + Str(e, "verdict") + " hash screens, Merkle root " +
            Str(e, "merkle_root");
  } else {
    line += Str(e, "verdict");
    if (e.contains("error")) line += " (" + Str(e, "error") + ")";
    if (e.contains("disposition")) {
      line += e["disposition"].is_string() ? " [" + Str(e, "disposition") + "]"
                                           : (Str(e, "verdict") == "match" ? " [unreviewed]" : "");
    }
    line += "  ref=" + Str(e, "ref");
    if (e.contains("hits") && e["hits"].is_array()) {
      for (const auto& h : e["hits"]) {
        line += "  [" + Str(h, "list_kind") + " list " + std::to_string(h.value("list_id", uint64_t{0})) + " " +
                Str(h, "partner") + "/" + Str(h, "partner_ref") + " " + Str(h, "signal") + " d=" +
                std::to_string(h.value("distance", 0)) + "]";
      }
    }
  }
  if (Str(e, "instance").size() && e.contains("instance_seq")) line += "  (instance " + Str(e, "instance").substr(0, 8) + ")";
  return line;
}

// A filter flag's value as the query parameter of its name (--since X ->
// since=X): times (--since, --until) as ms since the epoch or ISO-8601 UTC,
// sent as ms; the rest as given (the server checks them).
Status PutParam(const std::string& flag, const std::string& value, std::map<std::string, std::string>* params) {
  if (flag == "--since" || flag == "--until") {
    int64_t ms = 0;
    HS_RETURN_IF_ERROR(ParseTime(flag, value, &ms));
    (*params)[flag.substr(2)] = std::to_string(ms);
    return Status::Ok();
  }
  (*params)[flag.substr(2)] = value;
  return Status::Ok();
}

int List(ApiClient& api, const std::vector<std::string>& args) {
  std::map<std::string, std::string> params;
  bool as_json = false;
  uint64_t total = UINT64_MAX;  // all pages
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--json") {
      as_json = true;
      continue;
    }
    static const std::set<std::string> kFlags = {"--verdict",  "--list",  "--partner", "--disposition", "--instance",
                                                 "--since",    "--until", "--order",   "--limit",       "--after"};
    if (!kFlags.contains(flag)) return Usage("audit list: unknown option " + flag);
    std::string value;
    if (!TakeValue(args, &i, &value)) return Usage("audit list: " + flag + " needs a value");
    if (flag == "--limit") {
      if (Status s = base::ParseUint(value, "--limit", 1, UINT64_MAX - 1, &total); !s.ok()) return Usage(s.message());
    } else if (Status s = PutParam(flag, value, &params); !s.ok()) {
      return Usage(s.message());
    }
  }
  uint64_t printed = 0;
  std::string cursor;
  for (;;) {
    std::map<std::string, std::string> page_params = params;
    page_params["limit"] = std::to_string(std::min<uint64_t>(1000, total - printed));
    if (!cursor.empty()) {
      page_params.erase("after");
      page_params["cursor"] = cursor;
    }
    ApiAnswer a;
    if (Status s = api.Get("/v1/audit" + QueryString(page_params), &a); !s.ok()) return Fail(s.message());
    if (a.status != 200) return a.status == 400 ? Usage(a.ErrorMessage()) : Fail(a.ErrorMessage());
    json page = json::parse(a.body, nullptr, false);
    if (page.is_discarded() || !page.contains("entries") || !page["entries"].is_array()) {
      return Fail("the server's answer is not an audit page");
    }
    for (const auto& e : page["entries"]) {
      std::printf("%s\n", as_json ? e.dump().c_str() : EntryLine(e).c_str());
      ++printed;
    }
    if (!page["next"].is_string() || printed >= total) {
      if (page["next"].is_string()) {
        std::fprintf(stderr, "more: --after %s (or a larger --limit)\n", page["next"].get<std::string>().c_str());
      }
      break;
    }
    cursor = page["next"].get<std::string>();
  }
  std::fflush(stdout);
  return 0;
}

int Review(ApiClient& api, const std::vector<std::string>& args) {
  if (args.empty() || args[0].rfind("--", 0) == 0) return Usage("audit review needs an ID first");
  json body;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& flag = args[i];
    std::string value;
    const char* field = flag == "--disposition" ? "disposition" : flag == "--note" ? "note" : flag == "--report-id" ? "report_id" : nullptr;
    if (!field) return Usage("audit review: unknown option " + flag);
    if (!TakeValue(args, &i, &value)) return Usage("audit review: " + flag + " needs a value");
    body[field] = value;
  }
  if (!body.contains("disposition")) {
    return Usage("audit review needs --disposition confirmed|false_positive|escalated|reported");
  }
  ApiAnswer a;
  if (Status s = api.Post("/v1/audit/" + UrlEncode(args[0]) + "/review", body.dump(), "application/json", &a); !s.ok()) {
    return Fail(s.message());
  }
  if (a.status != 201) return Fail(a.ErrorMessage());
  std::printf("recorded review %s\n", Str(json::parse(a.body, nullptr, false), "id").c_str());
  return 0;
}

int Export(ApiClient& api, const std::vector<std::string>& args) {
  std::map<std::string, std::string> params;
  std::string out_path;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    static const std::set<std::string> kFlags = {"--since", "--until", "--format", "--out", "--list", "--partner", "--disposition"};
    if (!kFlags.contains(flag)) return Usage("audit export: unknown option " + flag);
    std::string value;
    if (!TakeValue(args, &i, &value)) return Usage("audit export: " + flag + " needs a value");
    if (flag == "--out") {
      out_path = value;
    } else if (Status s = PutParam(flag, value, &params); !s.ok()) {
      return Usage(s.message());
    }
  }
  if (!params.contains("format")) params["format"] = "csv";
  const bool csv = params["format"] == "csv";
  std::FILE* f = stdout;
  if (!out_path.empty()) {
    f = std::fopen(out_path.c_str(), "wbx");
    if (!f) return Fail("--out " + out_path + ": " + std::strerror(errno) + (errno == EEXIST ? " (it is not overwritten)" : ""));
  }
  // Page by page as the server answers (X-Audit-Next): memory stays bounded.
  // JSON pages are joined into one {"matches": [...]} document.
  int rc = 0;
  uint64_t bytes = 0;
  bool first_match = true;
  auto put = [&](std::string_view text) {
    if (rc == 0 && std::fwrite(text.data(), 1, text.size(), f) != text.size()) rc = Fail("writing the export: " + std::string(std::strerror(errno)));
    bytes += text.size();
  };
  if (!csv) put("{\"matches\":[");
  for (std::string cursor;;) {
    std::map<std::string, std::string> page_params = params;
    if (!cursor.empty()) page_params["cursor"] = cursor;
    ApiAnswer a;
    if (Status s = api.Get("/v1/audit/export" + QueryString(page_params), &a); !s.ok()) {
      rc = Fail(s.message());
      break;
    }
    if (a.status != 200) {
      rc = a.status == 400 ? Usage(a.ErrorMessage()) : Fail(a.ErrorMessage());
      break;
    }
    if (csv) {
      put(a.body);
    } else {
      json page = json::parse(a.body, nullptr, false);
      if (page.is_discarded() || !page.contains("matches") || !page["matches"].is_array()) {
        rc = Fail("the server's answer is not an export page");
        break;
      }
      for (const auto& m : page["matches"]) {
        if (!first_match) put(",");
        first_match = false;
        put(m.dump());
      }
    }
    if (rc != 0 || a.audit_next.empty()) break;
    cursor = a.audit_next;
  }
  if (!csv && rc == 0) put("]}\n");
  const bool closed = f == stdout ? std::fflush(f) == 0 : std::fclose(f) == 0;
  if (rc == 0 && !closed) rc = Fail("writing the export: " + std::string(std::strerror(errno)));
  // A cut-off export is not left behind to be taken for a whole one.
  if (rc != 0 && !out_path.empty()) ::unlink(out_path.c_str());
  if (rc == 0 && !out_path.empty()) std::fprintf(stderr, "wrote %llu bytes to %s\n", static_cast<unsigned long long>(bytes), out_path.c_str());
  return rc;
}

// --checkpoint takes the checkpoint line itself, or a file holding it (the
// first line starting with "audit-checkpoint:"; others, e.g. notes, are skipped).
Status ReadCheckpoint(const std::string& arg, std::string* out) {
  if (arg.rfind(kCheckpointPrefix, 0) == 0) {
    *out = arg;
    return Status::Ok();
  }
  const int fd = ::open(arg.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Status::InvalidArgument("--checkpoint " + arg + ": " + std::strerror(errno));
  struct stat st{};
  std::string text;
  Status s;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    s = Status::InvalidArgument("--checkpoint " + arg + ": not a regular file (nor an audit-checkpoint: line)");
  } else {
    char buf[kMaxCheckpointFile + 1];
    size_t got = 0;
    ssize_t n = 0;
    while (got < sizeof buf && (n = ::read(fd, buf + got, sizeof buf - got)) > 0) got += static_cast<size_t>(n);
    if (n < 0) s = Status::IOError("--checkpoint " + arg + ": " + std::strerror(errno));
    else if (got > kMaxCheckpointFile) s = Status::InvalidArgument("--checkpoint " + arg + ": larger than 4096 bytes");
    else text.assign(buf, got);
  }
  ::close(fd);
  HS_RETURN_IF_ERROR(s);
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (line.rfind(kCheckpointPrefix, 0) == 0) {
      *out = line;
      return Status::Ok();
    }
    start = end + 1;
  }
  return Status::InvalidArgument("--checkpoint " + arg + ": no line starting with audit-checkpoint:");
}

int Verify(ApiClient& api, const std::vector<std::string>& args) {
  std::string query;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--checkpoint" && i + 1 < args.size()) {
      std::string checkpoint;
      if (Status s = ReadCheckpoint(args[++i], &checkpoint); !s.ok()) return Fail(s.message());
      query = "?checkpoint=" + UrlEncode(checkpoint);
    } else {
      return Fail("unknown option " + args[i] + (args[i] == "--checkpoint" ? " (it needs FILE or STRING)" : "") +
                  "; see --help");
    }
  }
  ApiAnswer a;
  if (Status s = api.Get("/v1/audit/verify" + query, &a); !s.ok()) return Fail(s.message());
  if (a.status != 200) return Fail(a.ErrorMessage());
  json v = json::parse(a.body);
  const std::string result = Str(v, "result");
  const auto entries = static_cast<unsigned long long>(v["entries"].get<uint64_t>());
  if (v["ok"].get<bool>()) {
    std::string how = v["head_authenticated"].get<bool>() ? "head authenticated by the HMAC key"
                                                          : "no HMAC key configured: the head is not authenticated";
    if (v.contains("checkpoint")) how += "; holds the checkpoint of entry " + Str(v["checkpoint"], "id");
    if (v.contains("base") && v["base"].is_object() && Str(v["base"], "id") != "0") {
      how += "; starts after entry " + Str(v["base"], "id") + ", the base left by retention";
    }
    std::printf("ok: %llu entries, head %s (%s)\n", entries, Str(v, "head").c_str(), how.c_str());
    // Every chain the log holds: its own and each follower's forwarded one.
    if (v.contains("instances") && v["instances"].is_array()) {
      for (const auto& i : v["instances"]) {
        std::printf("  instance %s (%s): %llu entries, head %s\n", Str(i, "instance").c_str(), Str(i, "role").c_str(),
                    static_cast<unsigned long long>(i.value("entries", uint64_t{0})), Str(i, "head").c_str());
      }
    }
    return 0;
  }
  if (result == "failed" || result.empty()) {
    std::printf("FAILED at entry %s: %s\n", Str(v, "first_bad_id").c_str(), Str(v, "problem").c_str());
    return 1;
  }
  std::printf("NOT VERIFIED (%s): %llu entries, chain intact, but %s\n", result.c_str(), entries,
              Str(v, "problem").c_str());
  return 4;
}

int Checkpoint(ApiClient& api, const std::vector<std::string>& args) {
  bool as_json = false;
  for (const auto& a : args) {
    if (a == "--json") as_json = true;
    else return Fail("unknown option " + a + "; see --help");
  }
  ApiAnswer a;
  if (Status s = api.Get("/v1/audit/checkpoint", &a); !s.ok()) return Fail(s.message());
  if (a.status != 200) return Fail(a.ErrorMessage());
  json j = json::parse(a.body);
  if (as_json) {
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  // stdout: the line to keep; stderr: what it is.
  std::printf("%s\n", Str(j, "checkpoint").c_str());
  std::fprintf(stderr, "checkpoint of audit entry %s, hash %s; %s\n", Str(j, "id").c_str(), Str(j, "hash").c_str(),
               j["mac"].is_string() ? "MAC by the server's audit HMAC key"
                                    : "no audit HMAC key is configured: it carries no MAC");
  std::fprintf(stderr, "store it away from the server; `hashscreen audit verify --checkpoint LINE` proves the log still holds it\n");
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
    if (sub == "review") return Review(api, args);
    if (sub == "export") return Export(api, args);
    if (sub == "verify") return Verify(api, args);
    if (sub == "checkpoint") return Checkpoint(api, args);
    if (sub == "prove") return AuditProve(api, args);
    std::fprintf(stderr, "hashscreen audit: unknown command '%s' (see --help)\n", sub.c_str());
    return 2;
  });
}

}  // namespace client
