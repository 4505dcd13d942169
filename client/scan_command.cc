// hashscreen scan: screens datasets (files, directories, tar/WebDataset
// shards, path lists) with verdicts in input order and resume
// (docs/datasets.md). Images are hashed here on all cores and their hashes
// screened in batches (POST /v1/screen/hashes/batch); with --upload the
// bytes are sent instead (POST /v1/screen).
//
// Pipeline: workers read, sniff and hash (or upload) sources ahead of the
// writer, at most a window ahead of it; the writer (this thread) takes
// results in input order, groups them, screens a group's hashes in one
// request, and appends the group's lines to the output (ScanOutput) only
// once the server has answered for all of it. So the file never holds a
// verdict the server did not give, and what is not in the file is screened
// again by the next run.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "base/merkle.h"
#include "base/number_parse.h"
#include "client/api_client.h"
#include "client/command.h"
#include "client/progress.h"
#include "client/scan_output.h"
#include "client/scan_sources.h"
#include "hashing/image_format.h"

namespace client {

namespace {

using nlohmann::json;

constexpr const char* kHelp =
    "usage: hashscreen scan [OPTIONS] INPUT...\n\n"
    "Screens a dataset against the server's hash lists and writes one verdict line per\n"
    "image, in input order. By default images never leave this machine: they are\n"
    "hashed here on all cores (PDQ with its 8 rotations/mirrorings, MD5, SHA-256) and\n"
    "only the hashes are screened, in batches. The key needs hash queries\n"
    "(hashscreen keys create --role ingest --hash-queries).\n\n"
    "INPUT is\n"
    "  FILE             one image\n"
    "  DIR              every file below it, recursively, in path order\n"
    "  SHARD.tar        a tar or WebDataset shard, read in place: each member is one\n"
    "                   source, named SHARD:MEMBER (recognised by content, any name)\n"
    "  @LIST            the paths in LIST, one per line (each a file, dir or shard)\n"
    "  -                the same, read from standard input\n\n"
    "options:\n"
    "  --out FILE       write the verdicts to FILE (default: standard output). The run\n"
    "                   is then resumable: after Ctrl-C or a crash, run the same\n"
    "                   command again and it skips every source already in FILE, so\n"
    "                   each appears exactly once. FILE.merkle.jsonl keeps what\n"
    "                   `hashscreen audit prove` needs for the no-match items\n"
    "  --format F       jsonl (default): {\"source\",\"match\",\"audit_id\"} or\n"
    "                   {\"source\",\"error\":{\"code\",\"message\"}}; csv: the columns\n"
    "                   source,match,audit_id,error_code,error_message\n"
    "  --jobs N         hashing (or upload) threads (default: the number of cores)\n"
    "  --batch N        hashes per request, 1..10000 (default 1000)\n"
    "  --upload         send the image bytes (POST /v1/screen) instead of hashes\n"
    "  --fast           decode JPEGs of 1024 pixels and more on each side at 1/2, 1/4 or\n"
    "                   1/8 of their size (at least 512 per side): 1.7x on baseline\n"
    "                   photos of 8 MP and more; the PDQ hash drifts by a few bits, so a\n"
    "                   copy near the threshold can be missed (docs/datasets.md)\n"
    "  --max-bytes N    skip larger files as errors (default 268435456)\n"
    "%s\n"
    "Files that are not images (licences, captions, .json sidecars) are recognised\n"
    "by their first bytes, counted as skipped, never sent and get no line. Images\n"
    "that fail to decode get an error line and are not sent either.\n\n"
    "A summary goes to stderr at the end (and on Ctrl-C); on a terminal a progress\n"
    "line shows the rate and the time left.\n\n"
    "examples:\n"
    "  export HASHSCREEN_KEY=... HASHSCREEN_CACERT=ca.pem\n"
    "  hashscreen scan --server https://screen.example:8443 --out verdicts.jsonl shards/\n"
    "  find /data -name '*.tar' | hashscreen scan --out v.csv --format csv -\n"
    "  jq -r 'select(.match) | .source' verdicts.jsonl      # the matches\n\n"
    "exit status: 0 no match, 3 at least one match, 1 errors and no match (or the\n"
    "             server failed: rerun to continue), 2 usage, 130 interrupted\n";

std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted.store(true); }

struct Options {
  ServerOptions server;
  std::string out;
  ScanOutput::Format format = ScanOutput::Format::kJsonl;
  unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  size_t batch = 1000;
  bool upload = false;
  bool fast = false;
  uint64_t max_bytes = 256ull << 20;
  std::vector<std::string> inputs;
};

struct Item {
  // kFailed: the server could not be asked (unreachable, 5xx, the key
  // refused): the run stops there, nothing of it is written.
  enum class State { kWaiting, kRunning, kSkipped, kDone, kHashed, kFailed };
  State state = State::kWaiting;
  size_t index = SIZE_MAX;  // the source this ring slot holds
  ScanLine line;  // kDone: the verdict or the error
  // kHashed: what is screened.
  std::string ref;
  SourceHashes hashes;
};

std::string CodeOf(const base::Status& s) { return std::string(base::Status::CodeName(s.code())); }

void Fail(Item* item, const std::string& code, const std::string& message) {
  item->line.ok = false;
  item->line.error_code = code;
  item->line.error_message = message;
  item->state = Item::State::kDone;
}

// Reads, sniffs and hashes (or uploads) one source into `item`.
void Process(const Options& o, const Source& src, ApiClient* api, Item* item) {
  item->line.source = src.name;
  std::vector<uint8_t> bytes;
  base::Status s = ReadSource(src, o.max_bytes, /*head_only=*/true, &bytes);
  if (!s.ok()) return Fail(item, CodeOf(s), s.message());
  if (hashing::SniffFormat(bytes) == hashing::ImageFormat::kUnknown) {
    item->state = Item::State::kSkipped;
    return;
  }
  s = ReadSource(src, o.max_bytes, /*head_only=*/false, &bytes);
  if (!s.ok()) return Fail(item, CodeOf(s), s.message());
  item->ref = ScanRef(src.name);
  if (o.upload) {
    ApiAnswer a;
    s = api->PostRetrying("/v1/screen?ref=" + UrlEncode(item->ref),
                          std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                          "application/octet-stream", &a);
    if (!s.ok() || a.status >= 500 || a.status == 401 || a.status == 403) {
      item->state = Item::State::kFailed;
      item->line.error_message = s.ok() ? a.ErrorMessage() + " (HTTP " + std::to_string(a.status) + ")" : s.message();
      return;
    }
    auto j = json::parse(a.body, nullptr, false);
    if (a.status != 200 || !j.is_object() || !j.contains("match") || !j["match"].is_boolean()) {
      std::string code = "http_" + std::to_string(a.status);
      if (j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("code") &&
          j["error"]["code"].is_string()) {
        code = j["error"]["code"].get<std::string>();
      }
      return Fail(item, code, a.ErrorMessage());
    }
    item->line.ok = true;
    item->line.match = j["match"].get<bool>();
    if (j.contains("audit_id") && j["audit_id"].is_string()) item->line.audit_id = j["audit_id"].get<std::string>();
    item->state = Item::State::kDone;
    return;
  }
  s = HashSource(bytes, o.max_bytes, o.fast, &item->hashes);
  if (!s.ok()) return Fail(item, CodeOf(s), s.message());
  item->state = Item::State::kHashed;
}

// Screens the hashed items among `group` in one request and fills their
// lines; on success, the side-file line for the pooled no-match entry, if
// any, is in *proof. A failed request fails the whole group (nothing of it
// is written; the next run screens it again).
base::Status ScreenGroup(ApiClient& api, std::vector<Item*>& group, std::string* proof) {
  proof->clear();
  json items = json::array();
  std::vector<Item*> hashed;
  for (Item* it : group) {
    if (it->state != Item::State::kHashed) continue;
    json pdq = json::array();
    for (const auto& p : it->hashes.pdq) pdq.push_back(p.ToHex());
    items.push_back({{"ref", it->ref},
                     {"pdq", std::move(pdq)},
                     {"quality", it->hashes.quality},
                     {"md5", base::HexEncode(it->hashes.md5)},
                     {"sha256", base::HexEncode(it->hashes.sha256)}});
    hashed.push_back(it);
  }
  if (hashed.empty()) return base::Status::Ok();
  ApiAnswer a;
  HS_RETURN_IF_ERROR(api.PostRetrying("/v1/screen/hashes/batch",
                                      json{{"items", std::move(items)}}.dump(-1, ' ', false, json::error_handler_t::replace),
                                      "application/json", &a));
  if (a.status != 200) {
    return base::Status::Unavailable("the server refused a batch: " + a.ErrorMessage() + " (HTTP " +
                                     std::to_string(a.status) + ")");
  }
  auto j = json::parse(a.body, nullptr, false);
  if (!j.is_object() || !j.contains("results") || !j["results"].is_array() || j["results"].size() != hashed.size()) {
    return base::Status::Unavailable("unexpected answer from the server to a batch");
  }
  std::string pooled_id;
  if (j.contains("no_match_audit") && j["no_match_audit"].is_object()) pooled_id = j["no_match_audit"].value("audit_id", "");
  std::vector<base::Sha256Digest> leaves;
  for (size_t i = 0; i < hashed.size(); ++i) {
    const json& r = j["results"][i];
    Item* it = hashed[i];
    if (!r.is_object()) return base::Status::Unavailable("unexpected answer from the server to a batch");
    if (r.contains("error") && r["error"].is_object()) {
      Fail(it, r["error"].value("code", "error"), r["error"].value("message", ""));
      continue;
    }
    if (!r.contains("match") || !r["match"].is_boolean() || !r.contains("audit_id") || !r["audit_id"].is_string()) {
      return base::Status::Unavailable("unexpected answer from the server to a batch");
    }
    it->line.ok = true;
    it->line.match = r["match"].get<bool>();
    it->line.audit_id = r["audit_id"].get<std::string>();
    it->state = Item::State::kDone;
    if (!pooled_id.empty() && it->line.audit_id == pooled_id && !it->line.match) {
      leaves.push_back(base::BatchLeafHash(LeafOf(it->ref, it->hashes)));
    }
  }
  if (!leaves.empty()) {
    base::Sha256Digest root{};
    HS_RETURN_IF_ERROR(base::MerkleRoot(leaves, &root));
    const json& pooled = j["no_match_audit"];
    if (pooled.value("merkle_root", "") != base::HexEncode(root) || pooled.value("count", 0ull) != leaves.size()) {
      return base::Status::Corruption("the server's Merkle root for audit entry " + pooled_id +
                                      " is not the one of the items sent: not written, rerun or report it");
    }
    json hex = json::array();
    for (const auto& l : leaves) hex.push_back(base::HexEncode(l));
    *proof = json{{"audit_id", pooled_id}, {"count", leaves.size()}, {"merkle_root", base::HexEncode(root)}, {"leaves", hex}}
                 .dump();
  }
  return base::Status::Ok();
}

// Parses the command line; returns an exit code to stop with, or -1.
int ParseArgs(const std::vector<std::string>& argv, Options* o) {
  std::vector<std::string> args = argv;
  if (base::Status s = TakeServerOptions(&args, &o->server); !s.ok()) {
    std::fprintf(stderr, "hashscreen scan: %s\n", s.message().c_str());
    return 2;
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string* {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "hashscreen scan: %s needs a value\n", a.c_str());
        return nullptr;
      }
      return &args[++i];
    };
    auto number = [&](uint64_t min, uint64_t max, uint64_t* out) {
      const std::string* v = value();
      if (!v) return false;
      if (base::Status s = base::ParseUint(*v, a.c_str(), min, max, out); !s.ok()) {
        std::fprintf(stderr, "hashscreen scan: %s\n", s.message().c_str());
        return false;
      }
      return true;
    };
    uint64_t n = 0;
    if (a == "--help" || a == "-h") {
      std::printf(kHelp, ServerOptionsHelp());
      return 0;
    } else if (a == "--out") {
      const std::string* v = value();
      if (!v) return 2;
      o->out = *v;
    } else if (a == "--format") {
      const std::string* v = value();
      if (!v) return 2;
      if (*v == "jsonl") o->format = ScanOutput::Format::kJsonl;
      else if (*v == "csv") o->format = ScanOutput::Format::kCsv;
      else {
        std::fprintf(stderr, "hashscreen scan: --format is jsonl or csv, not '%s'\n", v->c_str());
        return 2;
      }
    } else if (a == "--jobs") {
      if (!number(1, 256, &n)) return 2;
      o->jobs = static_cast<unsigned>(n);
    } else if (a == "--batch") {
      if (!number(1, 10000, &n)) return 2;
      o->batch = n;
    } else if (a == "--max-bytes") {
      if (!number(1, 1ull << 40, &o->max_bytes)) return 2;
    } else if (a == "--upload") {
      o->upload = true;
    } else if (a == "--fast") {
      o->fast = true;
    } else if (a.size() > 1 && a[0] == '-' && a != "-") {
      std::fprintf(stderr, "hashscreen scan: unknown option '%s' (see --help)\n", a.c_str());
      return 2;
    } else {
      o->inputs.push_back(a);
    }
  }
  if (o->fast && o->upload) {
    std::fprintf(stderr, "hashscreen scan: --fast hashes here, --upload sends the bytes (the server's "
                         "screening.fast_jpeg decides there): give one of them\n");
    return 2;
  }
  if (o->inputs.empty()) {
    std::fprintf(stderr, "hashscreen scan: no inputs given (see --help)\n");
    return 2;
  }
  if (o->server.key.empty()) {
    std::fprintf(stderr, "hashscreen scan: no API key (set HASHSCREEN_KEY or pass --key)\n");
    return 2;
  }
  return -1;
}

}  // namespace

int RunScan(const std::vector<std::string>& argv) {
  Options o;
  if (int code = ParseArgs(argv, &o); code >= 0) return code;

  std::vector<Source> all;
  if (base::Status s = ExpandInputs(o.inputs, std::cin, &all); !s.ok()) {
    std::fprintf(stderr, "hashscreen scan: %s\n", s.message().c_str());
    return 2;
  }
  std::unique_ptr<ScanOutput> out;
  if (base::Status s = ScanOutput::Open(o.out, o.format, &out); !s.ok()) {
    std::fprintf(stderr, "hashscreen scan: %s\n", s.message().c_str());
    return 1;
  }
  // Sources already in the file are not scanned again; nor is a source
  // named twice in the inputs (each appears once).
  std::vector<Source> todo;
  std::unordered_set<std::string> seen = out->done();
  const size_t already = seen.size();
  for (auto& s : all) {
    if (seen.insert(s.name).second) todo.push_back(std::move(s));
  }

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the process at once (lines written are whole)
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  // Results live in a ring of `window` slots: workers run at most that far
  // ahead of the last written line, so memory does not grow with the dataset.
  const size_t window = std::max<size_t>(o.batch * 2, o.jobs * 8);
  std::vector<Item> ring(window);
  std::mutex mu;
  std::condition_variable changed;
  size_t next = 0, written = 0;
  bool stop = false;
  auto work = [&] {
    std::unique_ptr<ApiClient> api;
    if (o.upload) api = std::make_unique<ApiClient>(o.server);
    for (;;) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mu);
        changed.wait(lock, [&] { return stop || g_interrupted || next == todo.size() || next < written + window; });
        if (stop || g_interrupted || next == todo.size()) return;
        i = next++;
        ring[i % window] = Item();
        ring[i % window].index = i;
        ring[i % window].state = Item::State::kRunning;
      }
      Item done;
      Process(o, todo[i], api.get(), &done);
      done.index = i;
      {
        std::lock_guard<std::mutex> lock(mu);
        ring[i % window] = std::move(done);
      }
      changed.notify_all();
    }
  };
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < std::min<size_t>(o.jobs, todo.size()); ++t) workers.emplace_back(work);

  ProgressBar bar("scanning", todo.size());
  ApiClient api(o.server);
  const auto start = std::chrono::steady_clock::now();
  uint64_t matched = 0, errors = 0, skipped = 0, screened = 0;
  base::Status failure;
  std::vector<Item*> group;
  size_t group_hashed = 0;
  auto group_start = std::chrono::steady_clock::now();
  auto flush = [&]() -> bool {
    std::string proof;
    failure = ScreenGroup(api, group, &proof);
    if (!failure.ok()) return false;
    if (!proof.empty()) failure = out->AppendProof(proof);
    std::vector<ScanLine> lines;
    for (Item* it : group) {
      if (it->state == Item::State::kSkipped) continue;
      lines.push_back(it->line);
      if (it->line.ok && it->line.match) ++matched;
      if (!it->line.ok) ++errors;
      ++screened;
    }
    if (failure.ok()) failure = out->Append(lines);
    if (!failure.ok()) return false;
    {
      std::lock_guard<std::mutex> lock(mu);
      written += group.size();
    }
    changed.notify_all();
    bar.Advance(group.size(), matched ? std::to_string(matched) + " match" : "");
    group.clear();
    group_hashed = 0;
    return true;
  };
  base::Status halted;  // an upload that could not be answered: what came before it is still written
  for (size_t i = 0; i < todo.size();) {
    Item* it = &ring[i % window];
    bool ready = false, abandoned = false;
    {
      std::unique_lock<std::mutex> lock(mu);
      auto is_ready = [&] {
        return it->index == i && it->state != Item::State::kWaiting && it->state != Item::State::kRunning;
      };
      // A group is sent when full, or once it is 5 s old and its next item
      // is not ready: slow sources still stream verdicts, fast ones fill
      // batches (and so share audit entries).
      changed.wait_for(lock, std::chrono::seconds(1), [&] { return is_ready() || (g_interrupted && next <= i); });
      ready = is_ready();
      abandoned = !ready && g_interrupted && next <= i;  // interrupted: nothing from here on was started
    }
    if (abandoned) break;
    if (!ready) {
      if (!group.empty() && std::chrono::steady_clock::now() - group_start >= std::chrono::seconds(5) && !flush()) break;
      continue;
    }
    if (it->state == Item::State::kFailed) {
      halted = base::Status::Unavailable(it->line.error_message);
      break;
    }
    ++i;
    if (group.empty()) group_start = std::chrono::steady_clock::now();
    if (it->state == Item::State::kSkipped) ++skipped;
    if (it->state == Item::State::kHashed) ++group_hashed;
    group.push_back(it);
    // The group also goes once it holds the whole ring: workers cannot start
    // the next source until lines are written, so waiting for more hashed
    // items (a run of sidecars, or of sources answered before a resume)
    // would only wait for the timer.
    if ((group_hashed >= o.batch || group.size() >= window) && !flush()) break;
  }
  if (failure.ok() && !group.empty()) flush();
  if (failure.ok()) failure = halted;
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  changed.notify_all();
  for (auto& t : workers) t.join();
  base::Status synced = out->Sync();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  bar.Clear();
  const bool interrupted = g_interrupted.load();
  std::fprintf(stderr,
               "%s %llu of %zu sources in %.1fs (%.0f/s): %llu matched, %llu errors, %llu skipped (not images)%s\n",
               interrupted ? "interrupted after" : "scanned", static_cast<unsigned long long>(screened + skipped),
               todo.size(), secs, secs > 0 ? static_cast<double>(screened + skipped) / secs : 0.0,
               static_cast<unsigned long long>(matched), static_cast<unsigned long long>(errors),
               static_cast<unsigned long long>(skipped),
               already ? (", " + std::to_string(already) + " already in " + o.out + " (" +
                          std::to_string(out->done_matches()) + " matched, " + std::to_string(out->done_errors()) +
                          " errors)")
                             .c_str()
                       : "");
  if (!failure.ok() || !synced.ok()) {
    std::fprintf(stderr, "hashscreen scan: stopped: %s\n%s", (failure.ok() ? synced : failure).message().c_str(),
                 o.out.empty() ? "" : "rerun the same command to continue where it stopped\n");
    return 1;
  }
  if (interrupted) {
    if (!o.out.empty()) std::fprintf(stderr, "rerun the same command to continue where it stopped\n");
    return 130;
  }
  // The status of the whole file: a resumed run ends as the uninterrupted one would.
  if (matched + out->done_matches() > 0) return 3;
  return errors + out->done_errors() > 0 ? 1 : 0;
}

}  // namespace client
