// hashscreen audit list|show|review|verify|checkpoint: the reviewer's and
// admin's view of the audit log.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <nlohmann/json.hpp>

#include "client/api_client.h"
#include "client/audit_prove.h"
#include "client/command.h"

namespace client {

namespace {

using nlohmann::json;

constexpr const char* kHelp =
    "usage: hashscreen audit COMMAND [OPTIONS]\n\n"
    "  audit list [--after ID] [--limit N] [--verdict match|no_match|error|review|event|batch]\n"
    "             [--list ID] [--since MS] [--until MS] [--json]\n"
    "                          entries, one line each (reviewer key); --json prints the page as JSON\n"
    "  audit show ID           one entry with its reviews, as JSON (reviewer key)\n"
    "  audit review ID --disposition confirmed|false_positive|escalated [--note TEXT]\n"
    "                          record a review (reviewer key)\n"
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
    } else if (Str(e, "kind") == "batch") {
      line += "batch of " + std::to_string(e.value("count", 0ull)) + " " + Str(e, "verdict") + " hash screens, Merkle root " +
              Str(e, "merkle_root");
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
    if (sub == "verify") return Verify(api, args);
    if (sub == "checkpoint") return Checkpoint(api, args);
    if (sub == "prove") return AuditProve(api, args);
    std::fprintf(stderr, "hashscreen audit: unknown command '%s' (see --help)\n", sub.c_str());
    return 2;
  });
}

}  // namespace client
