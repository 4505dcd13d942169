// hashscreen lists create|info|push: a partner's (or admin's) view of hash
// lists. push streams a hash file to /v1/lists/{id}/batches; every batch id
// names the file version (size, modification time), the byte offset of the
// batch's first line and a digest of the batch's content, so re-running a
// push after a failure replays the batches already applied and continues,
// while a file changed in place (even to the same size and time) or pushed
// with another --batch-size gets new ids instead of being taken for a replay.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/hex.h"
#include "base/number_parse.h"
#include "base/signal.h"
#include "client/api_client.h"
#include "client/command.h"
#include "client/progress.h"
#include "codec/hash_list_codec.h"
#include "codec/line_reader.h"

namespace client {

namespace {

using nlohmann::json;

constexpr const char* kHelp =
    "usage: hashscreen lists COMMAND [OPTIONS]\n\n"
    "  lists info [ID]                       a list (or every list visible to the key), as JSON\n"
    "  lists create --name NAME [--kind block|allow] [--threshold N] [--owner PARTNER]\n"
    "                                        create a list; prints its id (--owner: admin keys only)\n"
    "  lists push ID FILE [--batch-size N] [--format F] [--type pdq|md5|sha256]\n"
    "                                        add the hashes in FILE in batches with a progress bar.\n"
    "                                        Formats (--format, default auto: told by the first line):\n"
    "                                          csv     type,hash[,ref]\n"
    "                                          plain   one hex hash per line, of --type (default pdq)\n"
    "                                          hasher  `hashscreen hash` / pdq-photo-hasher output\n"
    "                                                  (PDQ,QUALITY,FILE; FILE becomes the ref)\n"
    "                                          jsonl   `hashscreen hash --json` lines\n"
    "                                          te-csv  a CSV with a header naming its columns\n"
    "                                                  (ThreatExchange's download: td_raw_indicator, ...)\n"
    "                                        '#' comments and blank lines are skipped; any other line\n"
    "                                        that cannot be read stops the push, naming FILE:LINE.\n"
    "                                        Re-running after a failure resumes: batches already\n"
    "                                        applied are recognised by their id and not repeated.\n\n"
    "options:\n%s";

int Fail(const std::string& what) {
  std::fprintf(stderr, "hashscreen lists: %s\n", what.c_str());
  return 1;
}

// Sends with a few retries on transport failures, 503 and 429 (a batch id
// makes a retried batch harmless).
Status PostWithRetry(ApiClient& api, const std::string& path, const std::string& body, ApiAnswer* a) {
  Status s;
  for (int attempt = 0; attempt < 6; ++attempt) {
    s = api.Post(path, body, "application/json", a);
    if (s.ok() && a->status != 503 && a->status != 429) return s;
    std::this_thread::sleep_for(std::chrono::seconds(1 << std::min(attempt, 4)));
  }
  return s;
}

int Create(ApiClient& api, std::vector<std::string> args) {
  json body{{"kind", "block"}};
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    if (args[i] == "--name") body["name"] = args[i + 1];
    else if (args[i] == "--kind") body["kind"] = args[i + 1];
    else if (args[i] == "--owner") body["owner"] = args[i + 1];
    else if (args[i] == "--threshold") {
      int64_t t = 0;
      if (Status s = base::ParseInt(args[i + 1], "--threshold", 0, base::kMaxPdqThreshold, &t); !s.ok()) {
        return Fail(s.message());
      }
      body["pdq_threshold"] = t;
    } else {
      return Fail("unknown option " + args[i] + " (see --help)");
    }
  }
  if (args.size() % 2 || !body.contains("name")) return Fail("create needs --name NAME (see --help)");
  ApiAnswer a;
  if (Status s = api.Post("/v1/lists", body.dump(), "application/json", &a); !s.ok()) return Fail(s.message());
  if (a.status != 201) return Fail(a.ErrorMessage());
  std::printf("%s\n", std::to_string(json::parse(a.body)["id"].get<uint64_t>()).c_str());
  return 0;
}

int Info(ApiClient& api, const std::vector<std::string>& args) {
  ApiAnswer a;
  std::string path = args.empty() ? "/v1/lists" : "/v1/lists/" + args[0];
  if (Status s = api.Get(path, &a); !s.ok()) return Fail(s.message());
  if (a.status != 200) return Fail(a.ErrorMessage());
  std::printf("%s\n", json::parse(a.body).dump(2).c_str());
  return 0;
}

int Push(ApiClient& api, std::vector<std::string> args) {
  uint64_t batch_size = 1000;
  codec::ListCodecOptions codec_options;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    Status s;
    if (a == "--batch-size" && has_value) {
      s = base::ParseUint(args[++i], "--batch-size", 1, 100000, &batch_size);
    } else if (a == "--type" && has_value) {
      s = base::ParseSignalType(args[++i], &codec_options.type).WithContext("--type");
    } else if (a == "--format" && has_value) {
      s = codec::ParseListFormat(args[++i], &codec_options.format).WithContext("--format");
    } else if (a.rfind("--", 0) == 0) {
      return Fail("unknown option " + a + (has_value ? "" : " (or its value is missing)") + "; see --help");
    } else {
      positional.push_back(a);
    }
    if (!s.ok()) return Fail(s.message());
  }
  if (positional.size() != 2) return Fail("push needs ID FILE (see --help)");
  const std::string list = positional[0], path = positional[1];
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  struct stat st{};
  if (!file || fstat(fileno(file.get()), &st) != 0) return Fail(path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Fail(path + ": not a regular file");
  // The batch id names the file version (size, mtime), the batch's start
  // offset and its content (below): the same file pushed again yields the
  // same ids. Not the file name: ids are at most 128 bytes.
  const std::string id_prefix = "push:" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtime) + ":";
  ProgressBar bar("pushing", static_cast<uint64_t>(st.st_size));
  uint64_t batch_start = 0, line_no = 0, lines = 0, added = 0, present = 0, replayed = 0, batches = 0;
  std::vector<base::SignalEntry> entries;
  size_t used = 0;
  auto flush = [&]() -> int {
    if (used == 0) return 0;
    json add = json::array();
    for (size_t i = 0; i < used; ++i) {
      const auto& e = entries[i];
      add.push_back({{"type", base::SignalTypeName(e.type)}, {"hash", base::HexEncode(std::string_view(e.hash))}, {"ref", e.ref}});
    }
    const std::string entries_json = add.dump(-1, ' ', false, json::error_handler_t::replace);
    const auto digest = base::Sha256(entries_json);
    const std::string batch_id = id_prefix + std::to_string(batch_start) + ":" +
                                 base::HexEncode(std::span<const uint8_t>(digest.data(), 16));
    json body{{"batch_id", batch_id}, {"add", std::move(add)}};
    ApiAnswer a;
    Status s = PostWithRetry(api, "/v1/lists/" + list + "/batches", body.dump(-1, ' ', false, json::error_handler_t::replace), &a);
    if (!s.ok()) return Fail(s.message() + "; re-run the same command to resume");
    if (a.status == 409) {
      return Fail(path + ": batch at byte " + std::to_string(batch_start) + ": the list already holds batch id " + batch_id +
                  " with other content, so nothing of this batch was applied (" + a.ErrorMessage() + ")");
    }
    if (a.status != 200) return Fail(path + ": batch at byte " + std::to_string(batch_start) + ": " + a.ErrorMessage());
    json r = json::parse(a.body);
    added += r["added"].get<uint64_t>();
    present += r["already_present"].get<uint64_t>();
    replayed += r["replayed"].get<bool>() ? 1 : 0;
    ++batches;
    used = 0;
    return 0;
  };
  codec::LineReader reader(file.get());
  codec::HashListParser parser(codec_options);
  std::string_view line;
  uint64_t offset = 0, done = 0;
  while (reader.Next(&line, &offset)) {
    ++line_no;
    bar.Advance(reader.consumed() - done);
    done = reader.consumed();
    const size_t before = used;
    if (Status s = parser.ParseLine(line, &entries, &used); !s.ok()) {
      return Fail(path + ":" + std::to_string(line_no) + ": " + s.message());
    }
    if (used == before) continue;
    if (before == 0) batch_start = offset;
    ++lines;
    if (used >= batch_size) {
      if (int rc = flush()) return rc;
    }
  }
  if (reader.error()) return Fail(path + ": " + reader.error_message());
  if (int rc = flush()) return rc;
  std::fprintf(stderr, "\r");
  std::printf("pushed %llu entries in %llu batches (%llu already applied): %llu added, %llu already present\n",
              static_cast<unsigned long long>(lines), static_cast<unsigned long long>(batches),
              static_cast<unsigned long long>(replayed), static_cast<unsigned long long>(added),
              static_cast<unsigned long long>(present));
  return 0;
}

}  // namespace

int RunLists(const std::vector<std::string>& argv) {
  return RunServerCommand("lists", argv, kHelp, [](ApiClient& api, const std::string& sub, std::vector<std::string>& args) {
    if (sub == "create") return Create(api, args);
    if (sub == "info") return Info(api, args);
    if (sub == "push") return Push(api, args);
    std::fprintf(stderr, "hashscreen lists: unknown command '%s' (see --help)\n", sub.c_str());
    return 2;
  });
}

}  // namespace client
