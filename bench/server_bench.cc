// server_bench: screening throughput of a real hashscreend over HTTPS with
// keep-alive clients POSTing real photos, next to the in-process hashing
// throughput on the same files with the same number of cores, measured in
// the same run. Then the same load with the audit's group commit off, and
// with no audit fsync at all, to price durability; and keep-alive GET
// /healthz, which prices the HTTP front alone (TLS, parsing, the loop and the
// worker hand-off) with no hashing and no audit.
//
// With --baseline-hashscreend PATH (e.g. a build of main) the default screen
// workload and the /healthz workload also run against that binary in the
// same run, and the ratios are printed: the way to compare two HTTP fronts.
//
//   build/bench/server_bench [--images DIR] [--seconds N] [--clients N] [--max-files N]
//                            [--baseline-hashscreend PATH]
//
// One line per workload: images/s (or requests/s), and p50/p99 latency.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "bench/bench_process.h"
#include "hashing/image_hasher.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::vector<std::string> LoadFiles(const fs::path& dir, size_t max_files) {
  std::vector<fs::path> paths;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (e.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".webp")) paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    hashing::ImageHashes h;
    hashing::HashOptions o;
    if (!hashing::HashImage(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), o, &h).ok()) {
      continue;  // only images the server would accept
    }
    files.push_back(std::move(bytes));
    if (files.size() == max_files) break;
  }
  return files;
}

int Run(const std::vector<std::string>& argv, std::string* out) { return bench::RunProgram(argv, out); }

struct Server : bench::ServerProcess {
  // `binary` other than HASHSCREEND is a baseline build, which may predate
  // the metrics listener (so no --metrics-listen for it).
  bool Start(const fs::path& dir, const std::vector<std::string>& extra, const std::string& binary = HASHSCREEND) {
    std::vector<std::string> argv = {binary, "serve", "--data", (dir / "data").string(), "--listen", "127.0.0.1:0",
                                     "--tls-cert", (dir / "cert.pem").string(), "--tls-key", (dir / "key.pem").string(),
                                     "--log-requests=false", "--rate-per-key", "0",  // raw throughput: no per-key limit
                                     "--quarantine-enabled=false"};  // nor flood quarantine of the repeated matches
    if (binary == HASHSCREEND) argv.insert(argv.end(), {"--metrics-listen", "127.0.0.1:0"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Spawn(argv, dir / "server.log");
  }
};

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

double InProcess(const std::vector<std::string>& files, int threads, double seconds) {
  std::atomic<uint64_t> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> ts;
  hashing::HashOptions o;
  o.dihedral = true;  // what the server computes per screen
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (size_t i = t; !stop; i += threads) {
        const std::string& f = files[i % files.size()];
        hashing::ImageHashes h;
        (void)hashing::HashImage(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(f.data()), f.size()), o, &h);
        ++done;
      }
    });
  }
  auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : ts) t.join();
  return done / std::chrono::duration<double>(Clock::now() - start).count();
}

struct HttpResult {
  double images_per_s = 0, p50_ms = 0, p99_ms = 0;
  uint64_t failed = 0;
  long rss_start_kb = 0, rss_end_kb = 0;  // server RSS after the first and the last second
};

long RssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

// `health`: GET /healthz instead of POST /v1/screen (rates are then requests/s).
HttpResult Load(const Server& server, const fs::path& cert, const std::string& key, const std::vector<std::string>& files,
                int clients, double seconds, bool health = false) {
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<double> latencies;
  std::atomic<uint64_t> failed{0};
  std::vector<std::thread> ts;
  auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    ts.emplace_back([&, c] {
      httplib::SSLClient cli("127.0.0.1", server.port);
      cli.set_ca_cert_path(cert.c_str());
      cli.enable_server_certificate_verification(true);
      cli.set_keep_alive(true);
      cli.set_read_timeout(60, 0);
      httplib::Headers h{{"Authorization", "Bearer " + key}};
      std::vector<double> mine;
      for (size_t i = c; !stop; i += clients) {
        const std::string& f = files[i % files.size()];
        auto t0 = Clock::now();
        auto r = health ? cli.Get("/healthz") : cli.Post("/v1/screen", h, f, "application/octet-stream");
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (!r || r->status != 200) {
          ++failed;
          continue;
        }
        mine.push_back(ms);
      }
      std::lock_guard<std::mutex> lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  HttpResult r;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  r.rss_start_kb = RssKb(server.pid);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds - 1));
  r.rss_end_kb = RssKb(server.pid);
  stop = true;
  for (auto& t : ts) t.join();
  r.images_per_s = latencies.size() / std::chrono::duration<double>(Clock::now() - start).count();
  r.p50_ms = Percentile(latencies, 0.50);
  r.p99_ms = Percentile(latencies, 0.99);
  r.failed = failed;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  const char* images_env = std::getenv("HASHSCREEN_IMAGES");
  fs::path images = fs::path(images_env && *images_env ? images_env : "/var/cache/hashscreen/images") / "photos-2mp";
  double seconds = 10;  // per workload; >= 2
  int clients = 8;
  size_t max_files = 200;
  std::string baseline;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--images") images = argv[i + 1];
    else if (a == "--baseline-hashscreend") baseline = argv[i + 1];
    else if (a == "--seconds") seconds = std::max(2.0, std::atof(argv[i + 1]));
    else if (a == "--clients") clients = std::atoi(argv[i + 1]);
    else if (a == "--max-files") max_files = std::strtoull(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr,
                   "usage: server_bench [--images DIR] [--seconds N] [--clients N] [--max-files N] "
                   "[--baseline-hashscreend PATH]\n");
      return 2;
    }
  }
  if (!fs::exists(images)) images = fs::path(HASHSCREEN_SOURCE_DIR) / "tests" / "data" / "pdq" / "images";
  std::vector<std::string> files = LoadFiles(images, max_files);
  if (files.empty()) {
    std::fprintf(stderr, "server_bench: no decodable images under %s\n", images.c_str());
    return 1;
  }
  uint64_t total = 0;
  for (const auto& f : files) total += f.size();
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::printf("files: %zu from %s, mean %.0f KB; cores %d; %d keep-alive HTTPS clients; %.0f s per workload\n",
              files.size(), images.c_str(), total / 1024.0 / files.size(), cores, clients, seconds);

  fs::path dir = fs::temp_directory_path() / ("hashscreen-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string out;
  if (Run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
           (dir / "key.pem").string(), "-out", (dir / "cert.pem").string(), "-days", "1", "-subj", "/CN=localhost", "-addext",
           "subjectAltName=IP:127.0.0.1"},
          &out) != 0) {
    std::fprintf(stderr, "server_bench: openssl failed\n");
    return 1;
  }

  double in_process = InProcess(files, cores, seconds);
  std::printf("in-process HashImage (dihedral), %d threads: %8.1f images/s (baseline)\n", cores, in_process);

  struct Workload {
    std::string name;
    std::vector<std::string> flags;
    std::string binary = HASHSCREEND;
    bool health = false;
  };
  std::vector<Workload> workloads = {
      {"HTTPS screen, audit fsync + group commit (default)", {}},
      {"HTTPS screen, audit fsync, no group commit", {"--group-commit=false"}},
      {"HTTPS screen, audit without fsync", {"--audit-sync=false"}},
      {"HTTPS keep-alive GET /healthz (the front alone)", {}, HASHSCREEND, true},
  };
  if (!baseline.empty()) {
    workloads.push_back({"baseline: HTTPS screen (default)", {}, baseline});
    workloads.push_back({"baseline: HTTPS keep-alive GET /healthz", {}, baseline, true});
  }
  double durable = 0, unsynced = 0, health = 0, base_screen = 0, base_health = 0;
  double p50[2] = {0, 0}, base_p50[2] = {0, 0};
  for (auto& w : workloads) {
    fs::remove_all(dir / "data");
    out.clear();
    if (Run({HASHSCREEND, "keys", "create", "--create", "--data", (dir / "data").string(), "--role", "ingest"}, &out) != 0) {
      return 1;
    }
    while (!out.empty() && out.back() == '\n') out.pop_back();
    std::string key = out.substr(out.rfind('\n') + 1);
    Server server;
    if (!server.Start(dir, w.flags, w.binary)) {
      std::fprintf(stderr, "server_bench: hashscreend did not start (see %s)\n", (dir / "server.log").c_str());
      return 1;
    }
    HttpResult r = Load(server, dir / "cert.pem", key, files, clients, seconds, w.health);
    server.Stop();
    if (w.health) {
      std::printf("%-52s %8.1f requests/s                    p50 %6.2f ms  p99 %6.2f ms  failed %llu  RSS %ld -> %ld MB\n",
                  w.name.c_str(), r.images_per_s, r.p50_ms, r.p99_ms, static_cast<unsigned long long>(r.failed),
                  r.rss_start_kb / 1024, r.rss_end_kb / 1024);
    } else {
      std::printf("%-52s %8.1f images/s (%5.1f%% of in-process)  p50 %6.1f ms  p99 %6.1f ms  failed %llu  RSS %ld -> %ld MB\n",
                  w.name.c_str(), r.images_per_s, 100 * r.images_per_s / in_process, r.p50_ms, r.p99_ms,
                  static_cast<unsigned long long>(r.failed), r.rss_start_kb / 1024, r.rss_end_kb / 1024);
    }
    const bool base = w.binary != HASHSCREEND;
    if (!base && w.flags.empty() && !w.health) durable = r.images_per_s, p50[0] = r.p50_ms;
    if (!base && w.health) health = r.images_per_s, p50[1] = r.p50_ms;
    if (base && !w.health) base_screen = r.images_per_s, base_p50[0] = r.p50_ms;
    if (base && w.health) base_health = r.images_per_s, base_p50[1] = r.p50_ms;
    if (!w.flags.empty() && w.flags[0] == "--audit-sync=false") unsynced = r.images_per_s;
  }
  std::printf("durable audit cost (group commit vs no fsync): %.1f%% throughput\n",
              unsynced > 0 ? 100 * (1 - durable / unsynced) : 0.0);
  if (base_screen > 0 && base_health > 0) {
    std::printf("this build vs baseline: screens %.3fx throughput (p50 %.1f vs %.1f ms), /healthz %.3fx (p50 %.2f vs %.2f ms)\n",
                durable / base_screen, p50[0], base_p50[0], health / base_health, p50[1], base_p50[1]);
  }
  fs::remove_all(dir);
  return 0;
}
