// hashscreen screen: uploads files (directories recursively) to
// POST /v1/screen from parallel keep-alive connections and reports matches.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/number_parse.h"
#include "client/api_client.h"
#include "client/command.h"
#include "client/progress.h"

namespace client {

namespace {

namespace fs = std::filesystem;

constexpr const char* kHelp =
    "usage: hashscreen screen [OPTIONS] PATH...\n\n"
    "Screens image files, and directories recursively, against the server's hash lists.\n"
    "Prints one line per match and per error, then a summary on stderr; a progress bar\n"
    "is shown when stderr is a terminal.\n\n"
    "options:\n"
    "  --jobs N         parallel uploads (default 4)\n"
    "  --json           one JSON object per file on stdout: {file, match, audit_id} or {file, error}\n"
    "%s\n"
    "exit status: 0 no match, 3 at least one match (even if some files failed),\n"
    "             1 errors and no match, 2 usage\n";

struct Outcome {
  bool ok = false, match = false;
  std::string audit_id, error;
};

Status CollectFiles(const std::vector<std::string>& paths, std::vector<fs::path>* files) {
  for (const auto& p : paths) {
    std::error_code ec;
    fs::file_status st = fs::status(p, ec);
    if (ec || !fs::exists(st)) return Status::NotFound(p + ": no such file or directory");
    if (fs::is_directory(st)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec)) found.push_back(it->path());
      }
      if (ec) return Status::IOError(p + ": " + ec.message());
      std::sort(found.begin(), found.end());
      files->insert(files->end(), found.begin(), found.end());
    } else {
      files->push_back(p);
    }
  }
  return Status::Ok();
}

Outcome ScreenOne(ApiClient& api, const fs::path& file) {
  Outcome o;
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    o.error = "cannot read the file";
    return o;
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::string ref = file.string();
  if (ref.size() > 256) ref = ref.substr(ref.size() - 256);
  ApiAnswer a;
  Status s = api.PostRetrying("/v1/screen?ref=" + UrlEncode(ref), bytes, "application/octet-stream", &a);
  if (!s.ok()) {
    o.error = s.message();
    return o;
  }
  if (a.status != 200) {
    o.error = a.ErrorMessage() + " (HTTP " + std::to_string(a.status) + ")";
    return o;
  }
  auto j = nlohmann::json::parse(a.body, nullptr, false);
  if (!j.is_object() || !j.contains("match") || !j["match"].is_boolean()) {
    o.error = "unexpected answer from the server";
    return o;
  }
  o.ok = true;
  o.match = j["match"].get<bool>();
  if (j.contains("audit_id") && j["audit_id"].is_string()) o.audit_id = j["audit_id"].get<std::string>();
  return o;
}

}  // namespace

int RunScreen(const std::vector<std::string>& argv) {
  std::vector<std::string> args = argv;
  ServerOptions server;
  if (Status s = TakeServerOptions(&args, &server); !s.ok()) {
    std::fprintf(stderr, "hashscreen screen: %s\n", s.message().c_str());
    return 2;
  }
  bool json = false;
  int jobs = 4;
  std::vector<std::string> paths;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::printf(kHelp, ServerOptionsHelp());
      return 0;
    } else if (args[i] == "--json") {
      json = true;
    } else if (args[i] == "--jobs" && i + 1 < args.size()) {
      uint64_t n = 0;
      if (Status s = base::ParseUint(args[++i], "--jobs", 1, 256, &n); !s.ok()) {
        std::fprintf(stderr, "hashscreen screen: %s\n", s.message().c_str());
        return 2;
      }
      jobs = static_cast<int>(n);
    } else if (args[i].rfind("--", 0) == 0) {
      std::fprintf(stderr, "hashscreen screen: unknown option %s (see --help)\n", args[i].c_str());
      return 2;
    } else {
      paths.push_back(args[i]);
    }
  }
  if (paths.empty()) {
    std::fprintf(stderr, "hashscreen screen: no files given (see --help)\n");
    return 2;
  }
  if (server.key.empty()) {
    std::fprintf(stderr, "hashscreen screen: no API key (set HASHSCREEN_KEY or pass --key)\n");
    return 2;
  }
  std::vector<fs::path> files;
  if (Status s = CollectFiles(paths, &files); !s.ok()) {
    std::fprintf(stderr, "hashscreen screen: %s\n", s.message().c_str());
    return 1;
  }

  ProgressBar bar("screening", files.size());
  std::atomic<size_t> next{0};
  std::atomic<int> matches{0}, errors{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < std::min<int>(jobs, static_cast<int>(files.size())); ++w) {
    workers.emplace_back([&] {
      ApiClient api(server);
      for (size_t i; (i = next++) < files.size();) {
        Outcome o = ScreenOne(api, files[i]);
        const std::string name = files[i].string();
        if (json) {
          nlohmann::json j{{"file", name}};
          if (o.ok) {
            j["match"] = o.match;
            j["audit_id"] = o.audit_id;
          } else {
            j["error"] = o.error;
          }
          bar.Print(stdout, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        } else if (o.ok && o.match) {
          bar.Print(stdout, "MATCH " + name + " audit_id=" + o.audit_id);
        } else if (!o.ok) {
          bar.Print(stderr, name + ": " + o.error);
        }
        if (o.ok && o.match) ++matches;
        if (!o.ok) ++errors;
        bar.Advance(1, matches ? std::to_string(matches.load()) + " match" : "");
      }
    });
  }
  for (auto& t : workers) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "screened %zu files in %.1fs: %d match%s, %d error%s\n", files.size(), secs, matches.load(),
               matches == 1 ? "" : "es", errors.load(), errors == 1 ? "" : "s");
  if (matches > 0) return 3;
  return errors > 0 ? 1 : 0;
}

}  // namespace client
