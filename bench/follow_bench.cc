// follow_bench: bootstrap of a follower, and the primary's cost of serving
// followers, with real hashscreend processes on loopback over HTTPS.
//
//   1. A primary database holding N random PDQ hashes in one list (built
//      in-process with HashLists::ApplyBatch, 100,000 per batch; kept in
//      --data DIR for later runs).
//   2. Baseline, same run: the time the primary takes to load that database
//      from its own RocksDB (Database::Open + HashLists::Open in-process, and
//      a hashscreend serve start until "listening on").
//   3. A fresh follower of that primary: time from spawn to /readyz 200, and
//      its ratio to the baseline.
//   4. The primary's CPU (utime + stime of its process) while a writer pushes
//      `--rate` changes/s (10 batches/s), without followers and then with two
//      caught-up followers long-polling; the difference is the cost of
//      serving them, in % of one core.
//
// Usage: follow_bench [--hashes N] [--data DIR] [--seconds S] [--rate R]
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "bench/bench_process.h"
#include "base/number_parse.h"
#include "store/database.h"
#include "store/feed.h"
#include "store/hash_lists.h"
#include "sync/feed_codec.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int Run(const std::vector<std::string>& argv, std::string* out) { return bench::RunProgram(argv, out); }

std::string CreateKey(const fs::path& data, const std::string& role, const std::string& partner = "") {
  std::vector<std::string> argv = {HASHSCREEND, "keys", "create", "--create", "--data", data.string(), "--role", role};
  if (!partner.empty()) argv.insert(argv.end(), {"--partner", partner});
  std::string out;
  if (Run(argv, &out) != 0) return "";
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out.substr(out.rfind('\n') + 1);
}

struct Server : bench::ServerProcess {
  bool Start(const fs::path& data, const fs::path& certs, const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {HASHSCREEND, "serve", "--data", data.string(), "--listen", "127.0.0.1:0",
                                     "--tls-cert", (certs / "cert.pem").string(), "--tls-key", (certs / "key.pem").string(),
                                     "--log-requests=false", "--metrics-listen", ""};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Spawn(argv, data.string() + ".log");
  }
  std::unique_ptr<httplib::SSLClient> Client(const fs::path& certs) const {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port);
    c->set_ca_cert_path((certs / "cert.pem").c_str());
    c->enable_server_certificate_verification(true);
    c->set_read_timeout(60, 0);
    return c;
  }
  // CPU seconds (user + system) the process used so far.
  double CpuSeconds() const {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; rest >> field; ++i) {
      if (i == 14 || i == 15) ticks += std::stod(field);
      if (i == 15) break;
    }
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
};

std::string RandomHash(std::mt19937_64& rng) {
  std::string h(32, '\0');
  for (size_t i = 0; i < 32; i += 8) {
    const uint64_t v = rng();
    std::memcpy(h.data() + i, &v, 8);
  }
  return h;
}

bool BuildPrimary(const fs::path& data, uint64_t n) {
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::HashLists> lists;
  if (!store::Database::Open(data.string(), {}, &db).ok() || !store::HashLists::Open(db.get(), &lists).ok()) return false;
  store::ListInfo info;
  if (!lists->CreateList({"bench", "acme", base::ListKind::kBlock, 31}, &info).ok()) return false;
  std::mt19937_64 rng(42);
  const auto t = Clock::now();
  for (uint64_t done = 0; done < n;) {
    store::BatchRequest b;
    b.batch_id = std::string("b").append(std::to_string(done));
    for (uint64_t i = 0; i < 100000 && done < n; ++i, ++done) b.add.push_back({base::SignalType::kPdq, RandomHash(rng), ""});
    store::BatchResult r;
    if (base::Status s = lists->ApplyBatch(info.id, b, &r); !s.ok()) {
      std::fprintf(stderr, "follow_bench: %s\n", s.ToString().c_str());
      return false;
    }
  }
  std::printf("built the primary: %llu hashes in %.1f s\n", static_cast<unsigned long long>(n), Since(t));
  return true;
}

// The first three fields of /proc/loadavg: how busy the shared machine was.
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

bool WaitReady(const Server& s, const fs::path& certs, double timeout_s) {
  const auto t = Clock::now();
  auto c = s.Client(certs);
  c->set_read_timeout(5, 0);
  while (Since(t) < timeout_s) {
    auto r = c->Get("/readyz");
    if (r && r->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// Pushes `rate` changes/s to list 1 for `seconds` (10 batches/s); returns the
// primary's CPU seconds over the window.
double PrimaryCpuUnderWrites(const Server& primary, const fs::path& certs, const std::string& partner_key, int rate,
                             double seconds, std::mt19937_64& rng) {
  auto c = primary.Client(certs);
  const httplib::Headers auth = {{"Authorization", "Bearer " + partner_key}};
  const int per_batch = std::max(1, rate / 10);
  const double cpu0 = primary.CpuSeconds();
  const auto t = Clock::now();
  int batches = 0;
  static int run = 0;
  ++run;
  while (Since(t) < seconds) {
    // The process id too: a primary kept in --data already holds the batch
    // ids of earlier runs (a reused id with other content is refused).
    std::string id = std::to_string(getpid());
    id.push_back('-');
    id.append(std::to_string(run));
    id.push_back('-');
    id.append(std::to_string(batches));
    nlohmann::json b{{"batch_id", id}, {"add", nlohmann::json::array()}};
    for (int i = 0; i < per_batch; ++i) {
      static const char* kHex = "0123456789abcdef";
      std::string h(64, '0');
      for (auto& ch : h) ch = kHex[rng() & 15];
      b["add"].push_back({{"type", "pdq"}, {"hash", h}});
    }
    auto r = c->Post("/v1/lists/1/batches", auth, b.dump(), "application/json");
    if (!r || r->status != 200) {
      std::fprintf(stderr, "follow_bench: a batch failed\n");
      return -1;
    }
    ++batches;
    const auto next = t + std::chrono::microseconds(static_cast<int64_t>(batches * 100000));
    std::this_thread::sleep_until(next);
  }
  return primary.CpuSeconds() - cpu0;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 10'000'000, rate = 100, seconds = 20;
  std::string data_arg;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "follow_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    base::Status s;
    if (a == "--hashes") s = base::ParseUint(value(), "--hashes", 1, 1'000'000'000, &n);
    else if (a == "--rate") s = base::ParseUint(value(), "--rate", 10, 100000, &rate);
    else if (a == "--seconds") s = base::ParseUint(value(), "--seconds", 1, 3600, &seconds);
    else if (a == "--data") data_arg = value();
    else {
      std::fprintf(stderr, "follow_bench: unknown option %s\nusage: follow_bench [--hashes N] [--data DIR] [--seconds S] [--rate R]\n",
                   a.c_str());
      return 2;
    }
    if (!s.ok()) {
      std::fprintf(stderr, "follow_bench: %s\n", s.ToString().c_str());
      return 2;
    }
  }
  const bool keep = !data_arg.empty();
  const fs::path dir = keep ? fs::path(data_arg) : fs::temp_directory_path() / ("hashscreen-follow-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string out;
  if (!fs::exists(dir / "cert.pem") &&
      Run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
           (dir / "key.pem").string(), "-out", (dir / "cert.pem").string(), "-days", "30", "-subj", "/CN=localhost",
           "-addext", "subjectAltName=IP:127.0.0.1"},
          &out) != 0) {
    std::fprintf(stderr, "follow_bench: openssl failed\n");
    return 1;
  }
  const fs::path primary_data = dir / ("primary-" + std::to_string(n));
  const fs::path keys = dir / ("keys-" + std::to_string(n));
  if (!fs::exists(primary_data)) {
    if (!BuildPrimary(primary_data, n)) return 1;
    fs::create_directories(keys);
    std::ofstream(keys / "replica") << CreateKey(primary_data, "replica") << "\n";
    std::ofstream(keys / "partner") << CreateKey(primary_data, "partner", "acme") << "\n";
  }
  std::string partner_key;
  std::ifstream(keys / "partner") >> partner_key;

  // Baseline: the primary loading the same data from its own RocksDB.
  double load_s;
  uint64_t primary_count = 0;
  {
    const auto t = Clock::now();
    std::unique_ptr<store::Database> db;
    std::unique_ptr<store::HashLists> lists;
    if (!store::Database::Open(primary_data.string(), {}, &db).ok() || !store::HashLists::Open(db.get(), &lists).ok()) {
      std::fprintf(stderr, "follow_bench: cannot open %s\n", primary_data.c_str());
      return 1;
    }
    load_s = Since(t);
    for (const auto& l : lists->Lists()) primary_count += l.signal_count;
    std::printf("hashes: %llu; cores: %u\n", static_cast<unsigned long long>(lists->IndexedPdqHashes()),
                std::thread::hardware_concurrency());
    // The pipeline in-process, stage by stage (no HTTP): where bootstrap time goes.
    const fs::path copy = dir / "in-process-follower";
    fs::remove_all(copy);
    std::unique_ptr<store::Database> fdb;
    std::unique_ptr<store::HashLists> flists;
    if (!store::Database::Open(copy.string(), {}, &fdb).ok() || !store::HashLists::Open(fdb.get(), &flists).ok()) return 1;
    double read_s = 0, encode_s = 0, decode_s = 0, apply_s = 0;
    store::FeedCursor at;
    std::string bytes, id;
    for (;;) {
      store::FeedPage page, decoded;
      auto t0 = Clock::now();
      if (!lists->ReadFeed(at, 1'000'000, 32 << 20, &page).ok()) return 1;
      read_s += Since(t0);
      if (page.items.empty()) break;
      t0 = Clock::now();
      hsync::EncodeFeedPage(page, "x", &bytes);
      encode_s += Since(t0);
      t0 = Clock::now();
      if (!hsync::DecodeFeedPage(bytes, &decoded, &id).ok()) return 1;
      decode_s += Since(t0);
      t0 = Clock::now();
      // As a bootstrapping follower: pages without the index, one build at the end.
      if (base::Status st = flists->ApplyFeedPage(at, decoded, "cursor", "x", store::HashLists::IndexUpdate::kDeferred);
          !st.ok()) {
        std::fprintf(stderr, "follow_bench: %s\n", st.ToString().c_str());
        return 1;
      }
      apply_s += Since(t0);
      at = decoded.next;
    }
    const auto t0 = Clock::now();
    if (base::Status st = flists->RebuildIndex(); !st.ok()) {
      std::fprintf(stderr, "follow_bench: %s\n", st.ToString().c_str());
      return 1;
    }
    const double rebuild_s = Since(t0);
    std::printf("in-process pipeline: ReadFeed %.2f s, encode %.2f s, decode %.2f s, ApplyFeedPage (deferred) %.2f s, "
                "RebuildIndex %.2f s\n",
                read_s, encode_s, decode_s, apply_s, rebuild_s);
    flists.reset();
    fdb.reset();
    fs::remove_all(copy);
  }
  Server primary;
  if (!primary.Start(primary_data, dir, {})) {
    std::fprintf(stderr, "follow_bench: the primary did not start (%s.log)\n", primary_data.c_str());
    return 1;
  }
  std::printf("load average at start: %s\n", LoadAverage().c_str());
  std::printf("baseline: primary loads its own RocksDB in-process:   %6.2f s\n", load_s);
  std::printf("baseline: primary process start to listening:         %6.2f s\n", primary.start_s);

  const std::vector<std::string> follow = {"--follow", "https://127.0.0.1:" + std::to_string(primary.port),
                                           "--follow-key-file", (keys / "replica").string(), "--follow-cacert",
                                           (dir / "cert.pem").string()};
  const fs::path f1 = dir / "follower-1", f2 = dir / "follower-2";
  fs::remove_all(f1);
  fs::remove_all(f2);
  fs::remove(f1.string() + ".log");
  double bootstrap_s;
  {
    const std::string admin = CreateKey(f1, "admin");
    const double primary_cpu0 = primary.CpuSeconds();
    Server follower;
    const auto t = Clock::now();
    if (!follower.Start(f1, dir, follow) || !WaitReady(follower, dir, 1800)) {
      std::fprintf(stderr, "follow_bench: the follower did not become ready (%s.log)\n", f1.c_str());
      return 1;
    }
    bootstrap_s = Since(t);
    const double follower_cpu = follower.CpuSeconds(), primary_cpu = primary.CpuSeconds() - primary_cpu0;
    auto r = follower.Client(dir)->Get("/v1/lists", {{"Authorization", "Bearer " + admin}});
    const auto lists = nlohmann::json::parse(r ? r->body : "", nullptr, false);
    const uint64_t count = lists.is_object() && !lists["lists"].empty() ? lists["lists"][0]["signal_count"].get<uint64_t>() : 0;
    if (count != primary_count) {
      std::fprintf(stderr, "follow_bench: the follower holds %llu hashes, the primary %llu\n",
                   static_cast<unsigned long long>(count), static_cast<unsigned long long>(primary_count));
      return 1;
    }
    std::printf("follower bootstrap, spawn to /readyz 200:             %6.2f s  (%.0f hashes/s; %.2fx the in-process load, "
                "%.2fx the primary's start; target < 60 s)\n",
                bootstrap_s, static_cast<double>(primary_count) / bootstrap_s, bootstrap_s / load_s, bootstrap_s / primary.start_s);
    std::printf("bootstrap CPU: follower %.1f s, primary %.1f s; load average now %s\n", follower_cpu, primary_cpu,
                LoadAverage().c_str());
    follower.Stop();
  }
  // The second follower starts from a copy of the first (both caught up).
  fs::remove_all(f2);
  fs::copy(f1, f2, fs::copy_options::recursive);

  std::mt19937_64 rng(7);
  const double alone = PrimaryCpuUnderWrites(primary, dir, partner_key, static_cast<int>(rate), static_cast<double>(seconds), rng);
  Server a, b;
  if (!a.Start(f1, dir, follow) || !b.Start(f2, dir, follow) || !WaitReady(a, dir, 600) || !WaitReady(b, dir, 600)) {
    std::fprintf(stderr, "follow_bench: the followers did not come back\n");
    return 1;
  }
  const double with = PrimaryCpuUnderWrites(primary, dir, partner_key, static_cast<int>(rate), static_cast<double>(seconds), rng);
  if (alone < 0 || with < 0) return 1;
  const double s = static_cast<double>(seconds);
  std::printf("primary CPU at %llu changes/s, no followers:             %5.1f%% of a core (baseline)\n",
              static_cast<unsigned long long>(rate), 100 * alone / s);
  std::printf("primary CPU at %llu changes/s, two followers:            %5.1f%% of a core\n",
              static_cast<unsigned long long>(rate), 100 * with / s);
  std::printf("cost of serving two followers:                         %5.1f%% of a core (target <= 5%%)\n",
              100 * (with - alone) / s);
  a.Stop();
  b.Stop();
  primary.Stop();
  if (!keep) fs::remove_all(dir);
  return 0;
}
