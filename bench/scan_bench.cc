// scan_bench: `hashscreen scan` against its baselines, measured in the same
// run on this machine (docs/datasets.md):
//   1. scan (local hashing + batched hash screening against a real
//      hashscreend on loopback) against `hashscreen hash --dihedral` alone on
//      the same files with the same --jobs: target >= 90%.
//   2. POST /v1/screen/hashes/batch throughput (items/s, 8 PDQ variants +
//      MD5 + SHA-256 per item) against in-process HashLists::Screen of the
//      same queries, with a list of N PDQ hashes (default 1,000,000), the
//      same number of threads/clients: target >= 80%.
//   3. Audit bytes per no-match item of those batches (the stored entries,
//      key + value, read back from RocksDB), against one single-item entry.
//
//   build/bench/scan_bench [--images DIR] [--jobs N] [--list N] [--items N] [--batch N]
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <nlohmann/json.hpp>

#include "bench/bench_process.h"
#include "base/coding.h"
#include "base/hex.h"
#include "base/kernel_registry.h"
#include "base/number_parse.h"
#include "base/pdq_hash.h"
#include "index/screening.h"
#include "store/database.h"
#include "store/hash_lists.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Runs argv with stdout to `out_path` ("" = /dev/null); returns the exit status.
int Run(const std::vector<std::string>& argv, const std::string& out_path = "", std::string* captured = nullptr) {
  int p[2] = {-1, -1};
  posix_spawn_file_actions_t a;
  posix_spawn_file_actions_init(&a);
  if (captured) {
    if (pipe(p) != 0) return -1;
    posix_spawn_file_actions_adddup2(&a, p[1], 1);
  } else {
    posix_spawn_file_actions_addopen(&a, 1, out_path.empty() ? "/dev/null" : out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  posix_spawn_file_actions_addopen(&a, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawn(&pid, args[0], &a, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&a);
  if (captured) {
    close(p[1]);
    char buf[4096];
    ssize_t n;
    while (rc == 0 && (n = read(p[0], buf, sizeof buf)) > 0) captured->append(buf, static_cast<size_t>(n));
    close(p[0]);
  }
  if (rc != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string LastLine(const std::string& s) {
  std::string t = s;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t.substr(t.rfind('\n') == std::string::npos ? 0 : t.rfind('\n') + 1);
}

struct Server : bench::ServerProcess {
  bool Start(const fs::path& dir) {
    return Spawn({HASHSCREEND, "serve", "--data", (dir / "data").string(), "--listen", "127.0.0.1:0", "--tls-cert",
                  (dir / "cert.pem").string(), "--tls-key", (dir / "key.pem").string(), "--log-requests=false",
                  "--rate-per-key", "0", "--metrics-listen", "", "--quarantine-enabled=false"},
                 dir / "server.log");
  }
};

std::string Key(const fs::path& dir, const std::string& role, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {HASHSCREEND, "keys", "create", "--create", "--data", (dir / "data").string(), "--role", role};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::string out;
  if (Run(argv, "", &out) != 0) return "";
  return LastLine(out);
}

struct Item {
  std::array<base::PdqHash, 8> pdq;
  std::array<uint8_t, 16> md5;
  std::array<uint8_t, 32> sha;
};

base::PdqHash RandomHash(std::mt19937_64& rng) {
  base::PdqHash h;
  for (auto& b : h.bytes) b = static_cast<uint8_t>(rng());
  return h;
}

// Audit bytes (key + value) of batch entries and their item count, and of
// single screen entries.
struct AuditBytes {
  uint64_t batch_bytes = 0, batch_entries = 0, batch_items = 0, screen_bytes = 0, screen_entries = 0;
};

AuditBytes MeasureAudit(const fs::path& data) {
  AuditBytes r;
  std::unique_ptr<store::Database> db;
  if (!store::Database::Open(data.string(), {}, &db).ok()) return r;
  std::unique_ptr<rocksdb::Iterator> it(db->db()->NewIterator(rocksdb::ReadOptions(), db->family(store::Database::kAudit)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const rocksdb::Slice v = it->value();
    // Canonical: version(1) seq(8) time(8) kind(1) ...
    if (v.size() < 18) continue;
    const uint8_t kind = static_cast<uint8_t>(v[17]);
    const uint64_t bytes = it->key().size() + v.size();
    if (kind == 4) {
      ++r.batch_entries;
      r.batch_bytes += bytes;
      // ... key_id, source, verdict (length-prefixed), then count(8).
      base::ByteReader reader(std::string_view(v.data(), v.size()));
      reader.Bytes(18);
      reader.LengthPrefixed(1 << 20);
      reader.LengthPrefixed(1 << 20);
      reader.LengthPrefixed(1 << 20);
      r.batch_items += reader.U64();
    } else if (kind == 1) {
      ++r.screen_entries;
      r.screen_bytes += bytes;
    }
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (base::Status s = base::InitSimd(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 2;
  }
  fs::path images = "/var/cache/hashscreen/images/photos-2mp";
  uint64_t jobs = std::max(1u, std::thread::hardware_concurrency()), list_size = 1'000'000, items = 20'000, batch = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    base::Status s;
    if (a == "--images") images = v;
    else if (a == "--jobs") s = base::ParseUint(v, "--jobs", 1, 256, &jobs);
    else if (a == "--list") s = base::ParseUint(v, "--list", 1, 100'000'000, &list_size);
    else if (a == "--items") s = base::ParseUint(v, "--items", 1, 10'000'000, &items);
    else if (a == "--batch") s = base::ParseUint(v, "--batch", 1, 10'000, &batch);
    else s = base::Status::InvalidArgument("unknown option " + a);
    if (!s.ok()) {
      std::fprintf(stderr, "scan_bench: %s\n", s.message().c_str());
      return 2;
    }
  }
  char tmpl[] = "/tmp/scan-bench-XXXXXX";
  const fs::path dir = mkdtemp(tmpl);
  if (Run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
           (dir / "key.pem").string(), "-out", (dir / "cert.pem").string(), "-days", "2", "-subj", "/CN=localhost",
           "-addext", "subjectAltName=IP:127.0.0.1"}) != 0) {
    std::fprintf(stderr, "scan_bench: openssl failed\n");
    return 1;
  }
  const std::string ingest = Key(dir, "ingest", {"--hash-queries"}), partner = Key(dir, "partner", {"--partner", "p"});
  const std::string jobs_s = std::to_string(jobs);

  // 1. scan against hash, same files, same jobs; best of 3 each, interleaved.
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(images)) {
    if (e.is_regular_file()) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  Server server;
  if (!server.Start(dir)) {
    std::fprintf(stderr, "scan_bench: hashscreend did not start (see %s/server.log)\n", dir.c_str());
    return 1;
  }
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port);
  double best_hash = 1e30, best_scan = 1e30;
  for (int round = 0; round < 3; ++round) {
    std::vector<std::string> hash = {HASHSCREEN_CLI, "hash", "--dihedral", "--jobs", jobs_s};
    hash.insert(hash.end(), files.begin(), files.end());
    auto t = Clock::now();
    Run(hash);
    best_hash = std::min(best_hash, Since(t));
    const fs::path out = dir / ("scan-" + std::to_string(round) + ".jsonl");
    std::vector<std::string> scan = {HASHSCREEN_CLI, "scan", "--server", url, "--cacert", (dir / "cert.pem").string(),
                                     "--key", ingest, "--jobs", jobs_s, "--out", out.string()};
    scan.insert(scan.end(), files.begin(), files.end());
    t = Clock::now();
    Run(scan);
    best_scan = std::min(best_scan, Since(t));
  }
  const double hash_rate = files.size() / best_hash, scan_rate = files.size() / best_scan;
  std::printf("== scan vs hash: %zu files from %s, --jobs %s, best of 3\n", files.size(), images.c_str(), jobs_s.c_str());
  std::printf("hashscreen hash --dihedral: %.1f files/s\n", hash_rate);
  std::printf("hashscreen scan (hash + batched screening, server on this machine): %.1f files/s\n", scan_rate);
  std::printf("scan / hash: %.0f%% (target >= 90%%)\n", 100 * scan_rate / hash_rate);

  // 2. A list of list_size random PDQ hashes, imported offline.
  httplib::SSLClient c("127.0.0.1", server.port);
  c.set_ca_cert_path((dir / "cert.pem").c_str());
  c.enable_server_certificate_verification(true);
  c.set_read_timeout(600, 0);
  auto created = c.Post("/v1/lists", {{"Authorization", "Bearer " + partner}}, R"({"name":"bench","kind":"block"})",
                        "application/json");
  if (!created || created->status != 201) {
    std::fprintf(stderr, "scan_bench: cannot create the list\n");
    return 1;
  }
  const std::string list_id = std::to_string(json::parse(created->body)["id"].get<uint64_t>());
  server.Stop();
  std::mt19937_64 rng(42);
  {
    std::ofstream f(dir / "list.txt");
    for (uint64_t i = 0; i < list_size; ++i) f << RandomHash(rng).ToHex() << '\n';
  }
  auto ti = Clock::now();
  if (Run({HASHSCREEND, "lists", "import", "--data", (dir / "data").string(), "--list", list_id, "--format", "plain",
           "--type", "pdq", (dir / "list.txt").string()}) != 0) {
    std::fprintf(stderr, "scan_bench: import failed\n");
    return 1;
  }
  std::printf("\n== batch hash screening, list of %llu PDQ hashes (imported in %.1f s), %llu items of 8 PDQ + MD5 + "
              "SHA-256, %s threads/clients\n",
              static_cast<unsigned long long>(list_size), Since(ti), static_cast<unsigned long long>(items), jobs_s.c_str());
  std::vector<Item> queries(items);
  for (auto& q : queries) {
    for (auto& p : q.pdq) p = RandomHash(rng);
    for (auto& b : q.md5) b = static_cast<uint8_t>(rng());
    for (auto& b : q.sha) b = static_cast<uint8_t>(rng());
  }
  // In-process: HashLists::Screen on the same database, the same queries;
  // run before and after the HTTPS run, the better one counts (the machine
  // is shared: the baseline gets every chance).
  auto measure_in_process = [&]() -> double {
    std::unique_ptr<store::Database> db;
    std::unique_ptr<store::HashLists> lists;
    if (!store::Database::Open((dir / "data").string(), {}, &db).ok() || !store::HashLists::Open(db.get(), &lists).ok()) {
      std::fprintf(stderr, "scan_bench: cannot open the database\n");
      return 0.0;
    }
    lists->WaitForIndexMerges();
    std::atomic<size_t> next{0};
    auto t = Clock::now();
    std::vector<std::thread> ts;
    for (uint64_t j = 0; j < jobs; ++j) {
      ts.emplace_back([&] {
        idx::ScreenQuery q;
        for (size_t i; (i = next++) < queries.size();) {
          std::copy(queries[i].pdq.begin(), queries[i].pdq.end(), q.pdq.begin());
          q.num_pdq = 8;
          q.use_pdq = true;
          q.md5 = queries[i].md5;
          q.sha256 = queries[i].sha;
          (void)lists->Screen(q);
        }
      });
    }
    for (auto& th : ts) th.join();
    return queries.size() / Since(t);
  };
  double in_process = measure_in_process();
  if (in_process == 0) return 1;

  // Over HTTPS: the same items in batches, one connection per client.
  if (!server.Start(dir)) {
    std::fprintf(stderr, "scan_bench: hashscreend did not restart\n");
    return 1;
  }
  std::vector<std::string> bodies;
  for (size_t start = 0; start < queries.size(); start += batch) {
    json arr = json::array();
    for (size_t i = start; i < std::min<size_t>(queries.size(), start + batch); ++i) {
      json pdq = json::array();
      for (const auto& p : queries[i].pdq) pdq.push_back(p.ToHex());
      arr.push_back({{"ref", "item-" + std::to_string(i)},
                     {"pdq", pdq},
                     {"quality", 100},
                     {"md5", base::HexEncode(queries[i].md5)},
                     {"sha256", base::HexEncode(queries[i].sha)}});
    }
    bodies.push_back(json{{"items", arr}}.dump());
  }
  std::atomic<size_t> next_body{0};
  std::atomic<uint64_t> failed{0};
  auto t = Clock::now();
  std::vector<std::thread> clients;
  for (uint64_t j = 0; j < jobs; ++j) {
    clients.emplace_back([&] {
      httplib::SSLClient cl("127.0.0.1", server.port);
      cl.set_ca_cert_path((dir / "cert.pem").c_str());
      cl.enable_server_certificate_verification(true);
      cl.set_keep_alive(true);
      cl.set_tcp_nodelay(true);
      cl.set_read_timeout(600, 0);
      for (size_t i; (i = next_body++) < bodies.size();) {
        auto r = cl.Post("/v1/screen/hashes/batch", {{"Authorization", "Bearer " + ingest}}, bodies[i], "application/json");
        if (!r || r->status != 200) ++failed;
      }
    });
  }
  for (auto& th : clients) th.join();
  const double over_http = queries.size() / Since(t);
  // One single-item screen, for the audit comparison.
  {
    httplib::SSLClient one("127.0.0.1", server.port);
    one.set_ca_cert_path((dir / "cert.pem").c_str());
    one.enable_server_certificate_verification(true);
    one.Post("/v1/screen/hashes", {{"Authorization", "Bearer " + ingest}},
             json{{"pdq", queries[0].pdq[0].ToHex()}, {"md5", std::string(32, 'a')}, {"sha256", std::string(64, 'b')}}.dump(),
             "application/json");
  }
  server.Stop();
  in_process = std::max(in_process, measure_in_process());
  std::printf("in-process HashLists::Screen: %.0f queries/s (better of two runs)\n", in_process);
  std::printf("POST /v1/screen/hashes/batch (batches of %llu): %.0f items/s%s\n", static_cast<unsigned long long>(batch),
              over_http, failed ? " (SOME BATCHES FAILED)" : "");
  std::printf("batch / in-process: %.0f%% (target >= 80%%)\n", 100 * over_http / in_process);

  // 3. Audit bytes.
  const AuditBytes ab = MeasureAudit(dir / "data");
  std::printf("\n== audit bytes (stored key + value, before RocksDB compression)\n");
  if (ab.batch_items) {
    std::printf("batch entries: %llu holding %llu no-match items, %.0f bytes each: %.3f bytes per item (target <= 16)\n",
                static_cast<unsigned long long>(ab.batch_entries), static_cast<unsigned long long>(ab.batch_items),
                static_cast<double>(ab.batch_bytes) / ab.batch_entries,
                static_cast<double>(ab.batch_bytes) / ab.batch_items);
  }
  if (ab.screen_entries) {
    std::printf("single screen entries (the scan audit cost before batches, hashes only): %.0f bytes each\n",
                static_cast<double>(ab.screen_bytes) / ab.screen_entries);
  }
  fs::remove_all(dir);
  return failed ? 1 : 0;
}
