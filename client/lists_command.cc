// hashscreen lists create|info|push: a partner's (or admin's) view of hash
// lists. push streams a hash file to /v1/lists/{id}/batches; every batch id
// names the file and the byte offset of its first line, so re-running a push
// after a failure replays the batches already applied and continues.
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "client/api_client.h"
#include "client/command.h"
#include "client/progress.h"

namespace client {

namespace {

using nlohmann::json;

constexpr const char* kHelp =
    "usage: hashscreen lists COMMAND [OPTIONS]\n\n"
    "  lists info [ID]                       a list (or every list visible to the key), as JSON\n"
    "  lists create --name NAME [--kind block|allow] [--threshold N] [--owner PARTNER]\n"
    "                                        create a list; prints its id (--owner: admin keys only)\n"
    "  lists push ID FILE [--batch-size N] [--type pdq|md5|sha256]\n"
    "                                        add the hashes in FILE in batches with a progress bar.\n"
    "                                        FILE lines: `type,hash[,ref]`, or one hex hash per line\n"
    "                                        of --type (default pdq); '#' comments and blank lines skipped.\n"
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
    else if (args[i] == "--threshold") body["pdq_threshold"] = std::atoi(args[i + 1].c_str());
    else return Fail("unknown option " + args[i]);
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
  size_t batch_size = 1000;
  std::string default_type = "pdq";
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--batch-size" && i + 1 < args.size()) batch_size = std::strtoull(args[++i].c_str(), nullptr, 10);
    else if (args[i] == "--type" && i + 1 < args.size()) default_type = args[++i];
    else positional.push_back(args[i]);
  }
  if (positional.size() != 2) return Fail("push needs ID FILE (see --help)");
  if (batch_size == 0 || batch_size > 100000) return Fail("--batch-size must be 1..100000");
  const std::string list = positional[0], path = positional[1];
  std::ifstream in(path, std::ios::binary);
  struct stat st{};
  if (!in || stat(path.c_str(), &st) != 0) return Fail(path + ": cannot read");
  // The batch id names the file version (size, mtime) and the batch's start
  // offset: the same file pushed again yields the same ids.
  const std::string id_prefix = "push:" + std::filesystem::path(path).filename().string() + ":" +
                                std::to_string(st.st_size) + ":" + std::to_string(st.st_mtime) + ":";
  ProgressBar bar("pushing", static_cast<uint64_t>(st.st_size));
  uint64_t offset = 0, batch_start = 0, line_no = 0, added = 0, present = 0, replayed = 0, batches = 0;
  json entries = json::array();
  auto flush = [&]() -> int {
    if (entries.empty()) return 0;
    json body{{"batch_id", id_prefix + std::to_string(batch_start)}, {"add", entries}};
    ApiAnswer a;
    Status s = PostWithRetry(api, "/v1/lists/" + list + "/batches", body.dump(), &a);
    if (!s.ok()) return Fail(s.message() + "; re-run the same command to resume");
    if (a.status != 200) return Fail(path + ": batch at byte " + std::to_string(batch_start) + ": " + a.ErrorMessage());
    json r = json::parse(a.body);
    added += r["added"].get<uint64_t>();
    present += r["already_present"].get<uint64_t>();
    replayed += r["replayed"].get<bool>() ? 1 : 0;
    ++batches;
    entries = json::array();
    return 0;
  };
  std::string line;
  while (std::getline(in, line)) {
    uint64_t line_bytes = line.size() + 1;
    ++line_no;
    if (entries.empty()) batch_start = offset;
    offset += line_bytes;
    bar.Advance(line_bytes);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#' || line.rfind("type,", 0) == 0) continue;
    json e;
    size_t c1 = line.find_first_of(",\t");
    if (c1 == std::string::npos) {
      e = {{"type", default_type}, {"hash", line}};
    } else {
      size_t c2 = line.find_first_of(",\t", c1 + 1);
      e = {{"type", line.substr(0, c1)},
           {"hash", line.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1)},
           {"ref", c2 == std::string::npos ? "" : line.substr(c2 + 1)}};
    }
    entries.push_back(std::move(e));
    if (entries.size() == batch_size) {
      if (int rc = flush()) return rc;
    }
  }
  if (int rc = flush()) return rc;
  std::fprintf(stderr, "\r");
  std::printf("pushed %llu lines in %llu batches (%llu already applied): %llu added, %llu already present\n",
              static_cast<unsigned long long>(line_no), static_cast<unsigned long long>(batches),
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
