// probing_bench: the probing defences of a real hashscreend (default
// configuration: per-key rate limit and probing detector on), measured.
//
//   1. A block list holds the PDQ hashes of every Nth decodable corpus image
//      (--sample-every, default 20), so the corpus has real matches and
//      near-duplicates of listed images.
//   2. Attack: the boundary walk of issue 9 (tests/server/boundary_walk.h)
//      from 10 bits off a listed hash, over the hash-only route, --walks
//      times with a fresh ingest key each: after how many queries it is
//      blocked and how many bits of the list hash it had learned. The same
//      walk with a key exempt from the detector is the baseline: it recovers
//      the hash. Then one key hammering the hash route: the rate it gets.
//   3. Legitimate workload, one ingest key (own rate, detector on): every
//      corpus image (photos-2mp, photos, testimages, art, variants, formats)
//      through POST /v1/screen (all 8 dihedral variants), each image's 8
//      variant hashes through POST /v1/screen/hashes, then --random unrelated
//      random hashes through the hash route. It must never be blocked; the
//      near-threshold screens it made (computed here from the same hashes)
//      are printed against the budgets.
//
//   build/bench/probing_bench [--images DIR] [--sample-every N] [--walks N] [--random N] [--clients N]
// --clients: keep-alive connections of the legitimate hash-route phases
// (default 32: every screen's audit entry is fsynced, concurrent screens
// share an fsync, so throughput grows with them).
//
// Not a test: it prints figures (and exits 1 if the legitimate key was
// blocked or a walk recovered a hash).
#include <fcntl.h>
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
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "bench/bench_process.h"
#include "base/number_parse.h"
#include "hashing/image_hasher.h"
#include "tests/server/boundary_walk.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

// The server's defaults the figures are measured against (server/config.h).
constexpr int kThreshold = 31, kBand = 2, kBudget = 32, kHashBudget = 8;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int Run(const std::vector<std::string>& argv, std::string* out) { return bench::RunProgram(argv, out); }

// A hashscreend with the default configuration (plus quiet request logs).
struct Server : bench::ServerProcess {
  fs::path dir;
  bool Start() {
    return Spawn({HASHSCREEND, "serve", "--data", (dir / "data").string(), "--listen", "127.0.0.1:0", "--tls-cert",
                  (dir / "cert.pem").string(), "--tls-key", (dir / "key.pem").string(), "--log-requests=false",
                  "--quarantine-enabled=false"},  // a listed image screened over and over is a flood
                 dir / "server.log");
  }
  std::unique_ptr<httplib::SSLClient> Client() const {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port);
    c->set_ca_cert_path((dir / "cert.pem").c_str());
    c->enable_server_certificate_verification(true);
    c->set_keep_alive(true);
    c->set_read_timeout(120, 0);
    return c;
  }
};

httplib::Headers Bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

// GET, retried once on a connection the server closed while idle.
httplib::Result Get(httplib::SSLClient& c, const std::string& path, const httplib::Headers& headers = {}) {
  auto r = c.Get(path.c_str(), headers);
  return r ? std::move(r) : c.Get(path.c_str(), headers);
}

// POST with a JSON body; waits out 429s, and retries once on a connection
// the server closed while idle. Returns the answer (status 0: no answer).
std::pair<int, json> PostJson(httplib::SSLClient& c, const std::string& key, const std::string& path, const json& body,
                              uint64_t* rate_limited = nullptr) {
  for (int broken = 0;;) {
    auto r = c.Post(path.c_str(), Bearer(key), body.dump(), "application/json");
    if (!r && ++broken < 2) continue;
    if (!r) return {0, json()};
    if (r->status == 429) {
      if (rate_limited) ++*rate_limited;
      std::this_thread::sleep_for(std::chrono::seconds(std::max(1, std::atoi(r->get_header_value("Retry-After").c_str()))));
      continue;
    }
    return {r->status, json::parse(r->body, nullptr, false)};
  }
}

struct CorpusImage {
  fs::path path;
  bool decoded = false;
  int quality = 0;
  std::array<base::PdqHash, 8> pdq{};
};

std::vector<CorpusImage> HashCorpus(const fs::path& images) {
  std::vector<fs::path> paths;
  for (const char* category : {"photos-2mp", "photos", "testimages", "art", "variants", "formats"}) {
    if (!fs::exists(images / category)) continue;
    for (const auto& e : fs::recursive_directory_iterator(images / category)) {
      if (e.is_regular_file()) paths.push_back(e.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::vector<CorpusImage> corpus(paths.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> ts;
  for (unsigned t = 0; t < std::max(1u, std::thread::hardware_concurrency()); ++t) {
    ts.emplace_back([&] {
      hashing::HashOptions o;
      o.dihedral = true;
      for (size_t i; (i = next++) < paths.size();) {
        std::ifstream in(paths[i], std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), {});
        hashing::ImageHashes h;
        corpus[i].path = paths[i];
        if (!hashing::HashImage(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), o, &h)
                 .ok()) {
          continue;
        }
        corpus[i].decoded = true;
        corpus[i].quality = h.quality;
        corpus[i].pdq = h.pdq;
      }
    });
  }
  for (auto& t : ts) t.join();
  return corpus;
}

// The closest list hash to `q`: (distance, index).
std::pair<int, size_t> Closest(const base::PdqHash& q, const std::vector<base::PdqHash>& list) {
  std::pair<int, size_t> best{1 << 20, 0};
  for (size_t i = 0; i < list.size(); ++i) best = std::min(best, {base::Distance(q, list[i]), i});
  return best;
}

bool Near(int d) { return d > 0 && d <= kThreshold && d > kThreshold - kBand; }

std::string Percentiles(std::vector<int> v) {
  if (v.empty()) return "-";
  std::sort(v.begin(), v.end());
  char buf[96];
  std::snprintf(buf, sizeof buf, "min %d, median %d, max %d", v.front(), v[v.size() / 2], v.back());
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, nullptr, _IOLBF, 0);  // one line per figure, as it is measured
  const char* images_env = std::getenv("HASHSCREEN_IMAGES");
  fs::path images = images_env && *images_env ? images_env : "/var/cache/hashscreen/images";
  uint64_t sample_every = 20, walks = 10, random_hashes = 1000000, clients = 32;
  for (int i = 1; i < argc; i += 2) {
    const std::string a = argv[i];
    base::Status s;
    if (i + 1 >= argc) s = base::Status::InvalidArgument(a + " needs a value");
    else if (a == "--images") images = argv[i + 1];
    else if (a == "--sample-every") s = base::ParseUint(argv[i + 1], "--sample-every", 1, 1000000, &sample_every);
    else if (a == "--walks") s = base::ParseUint(argv[i + 1], "--walks", 1, 1000, &walks);
    else if (a == "--random") s = base::ParseUint(argv[i + 1], "--random", 0, 100000000, &random_hashes);
    else if (a == "--clients") s = base::ParseUint(argv[i + 1], "--clients", 1, 256, &clients);
    else s = base::Status::InvalidArgument("unknown option " + a);
    if (!s.ok()) {
      std::fprintf(stderr,
                   "probing_bench: %s\nusage: probing_bench [--images DIR] [--sample-every N] [--walks N] [--random N] "
                   "[--clients N]\n",
                   s.message().c_str());
      return 2;
    }
  }
  if (!fs::exists(images / "photos")) {
    std::fprintf(stderr, "probing_bench: no corpus at %s (scripts/fetch-test-images.sh)\n", images.c_str());
    return 2;
  }

  auto t0 = Clock::now();
  std::vector<CorpusImage> corpus = HashCorpus(images);
  std::vector<base::PdqHash> list;
  size_t decodable = 0;
  for (const auto& img : corpus) {
    if (!img.decoded) continue;
    if (img.quality >= 50 && decodable % sample_every == 0) list.push_back(img.pdq[0]);
    ++decodable;
  }
  std::printf("corpus: %zu files under %s, %zu decodable, hashed in %.0f s; block list: %zu PDQ hashes (every %llu-th)\n",
              corpus.size(), images.c_str(), decodable, Since(t0), list.size(),
              static_cast<unsigned long long>(sample_every));

  // The legitimate workload's near-threshold screens, from the same hashes
  // the server will compute (image route: best of 8 variants, PDQ used at
  // quality >= 50; hash route: each variant alone).
  std::map<size_t, int> near_per_hash;
  int near_image = 0, near_hashes = 0, matches = 0;
  for (const auto& img : corpus) {
    if (!img.decoded) continue;
    std::pair<int, size_t> best{1 << 20, 0};
    for (const auto& v : img.pdq) {
      auto c = Closest(v, list);
      best = std::min(best, c);
      if (Near(c.first)) ++near_hashes, ++near_per_hash[c.second];
    }
    if (img.quality >= 50 && best.first <= kThreshold) ++matches;
    if (img.quality >= 50 && Near(best.first)) ++near_image, ++near_per_hash[best.second];
  }
  int max_per_hash = 0;
  for (const auto& [h, n] : near_per_hash) max_per_hash = std::max(max_per_hash, n);
  std::printf("legitimate workload (computed): %d image matches; near-threshold screens %d (image route) + %d (hash route) "
              "= %d, at most %d on one list hash; budgets %d and %d per key per window\n",
              matches, near_image, near_hashes, near_image + near_hashes, max_per_hash, kBudget, kHashBudget);

  Server server;
  server.dir = fs::temp_directory_path() / ("hashscreen-probing-bench-" + std::to_string(getpid()));
  fs::create_directories(server.dir);
  std::string out;
  if (Run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", (server.dir / "key.pem").string(), "-out", (server.dir / "cert.pem").string(), "-days", "1",
           "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"},
          &out) != 0 ||
      Run({HASHSCREEND, "keys", "create", "--create", "--data", (server.dir / "data").string(), "--role", "admin"},
          &out) != 0) {
    std::fprintf(stderr, "probing_bench: setup failed\n");
    return 1;
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  const std::string admin = out.substr(out.rfind('\n') + 1);
  if (!server.Start()) {
    std::fprintf(stderr, "probing_bench: hashscreend did not start (%s)\n", (server.dir / "server.log").c_str());
    return 1;
  }
  int rc = 0;
  auto c = server.Client();
  auto new_key = [&](const json& spec) {
    auto [status, j] = PostJson(*c, admin, "/v1/keys", spec);
    if (status != 201) {
      std::fprintf(stderr, "probing_bench: key creation failed: %d %s\n", status, j.dump().c_str());
      server.Stop();
      std::exit(1);
    }
    return std::make_pair(j["id"].get<std::string>(), j["secret"].get<std::string>());
  };
  const std::string partner = new_key({{"role", "partner"}, {"partner", "bench"}}).second;
  auto [list_status, list_json] = PostJson(*c, partner, "/v1/lists", {{"name", "sample"}, {"kind", "block"}});
  const std::string list_path = "/v1/lists/" + std::to_string(list_json["id"].get<uint64_t>()) + "/batches";
  for (size_t i = 0; i < list.size(); i += 1000) {
    json add = json::array();
    for (size_t j = i; j < std::min(list.size(), i + 1000); ++j) add.push_back({{"type", "pdq"}, {"hash", list[j].ToHex()}});
    if (PostJson(*c, partner, list_path, {{"batch_id", std::to_string(i)}, {"add", add}}).first != 200) {
      std::fprintf(stderr, "probing_bench: list push failed\n");
      server.Stop();
      return 1;
    }
  }

  // 2. The attack.
  auto walk_with = [&](const std::string& key, size_t target, uint64_t seed) {
    base::PdqHash start = list[target];
    std::mt19937_64 rng(seed);
    std::vector<int> bits(256);
    std::iota(bits.begin(), bits.end(), 0);
    std::shuffle(bits.begin(), bits.end(), rng);
    for (int i = 0; i < 10; ++i) start.bytes[31 - bits[i] / 8] ^= static_cast<uint8_t>(1u << (bits[i] % 8));
    auto wc = server.Client();
    return testing_support::BoundaryWalk(start, seed + 1, [&](const base::PdqHash& q) {
      auto [status, j] = PostJson(*wc, key, "/v1/screen/hashes", {{"pdq", q.ToHex()}});
      if (status == 200) return j["match"].get<bool>() ? 1 : 0;
      return -1;  // 403 probing_suspected (or anything else: the walk cannot go on)
    });
  };
  {
    auto [id, key] = new_key({{"role", "ingest"}, {"hash_queries", true}, {"probing_exempt", true}, {"rate_per_s", 1e6}});
    auto t = Clock::now();
    auto w = walk_with(key, 0, 1000);
    std::printf("baseline, key exempt from the detector: the walk %s the list hash in %d queries (%.1f s)\n",
                w.recovered && w.hash == list[0] ? "recovers" : "does NOT recover", w.queries, Since(t));
  }
  std::vector<int> queries, learned;
  int recovered = 0, blocked = 0;
  double walk_seconds = 0;
  for (uint64_t i = 0; i < walks; ++i) {
    auto [id, key] = new_key({{"role", "ingest"}, {"hash_queries", true}});  // the server's default rate
    auto t = Clock::now();
    auto w = walk_with(key, (i * 7919) % list.size(), 2000 + 2 * i);
    walk_seconds += Since(t);
    queries.push_back(w.queries);
    learned.push_back(w.bits_learned);
    recovered += w.recovered;
    blocked += w.blocked;
  }
  std::printf("attack, %llu boundary walks from 10 bits off a listed hash, default key (rate limit + detector): "
              "%d blocked, %d recovered the hash; blocked after queries: %s; bits learned: %s of 256; %.1f s per walk\n",
              static_cast<unsigned long long>(walks), blocked, recovered, Percentiles(queries).c_str(),
              Percentiles(learned).c_str(), walk_seconds / walks);
  if (recovered) rc = 1;
  {
    // One key hammering the hash route from several connections for 5 s.
    auto [id, key] = new_key({{"role", "ingest"}, {"hash_queries", true}});
    std::atomic<uint64_t> ok{0}, limited{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> ts;
    auto t = Clock::now();
    for (int k = 0; k < 4; ++k) {
      ts.emplace_back([&, key = key] {
        auto hc = server.Client();
        while (!stop) {
          auto r = hc->Post("/v1/screen/hashes", Bearer(key), R"({"md5":"00000000000000000000000000000000"})",
                            "application/json");
          if (r && r->status == 200) ++ok;
          if (r && r->status == 429) ++limited;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::seconds(10));
    stop = true;
    for (auto& th : ts) th.join();
    const double s = Since(t);
    // After the bucket's burst (limits.rate_burst, 100) only the sustained rate remains.
    const double sustained = (static_cast<double>(ok) - 100) / s;
    std::printf("one key hammering the hash route from 4 connections for %.1f s: %llu answered (%.0f/s sustained after "
                "the burst of 100), %.0f refused (429)/s; at that rate 10,000 queries take %.0f s\n",
                s, static_cast<unsigned long long>(ok.load()), sustained, limited / s, (10000 - 100) / sustained);
  }

  // 3. The legitimate workload, one key.
  auto [pipeline_id, pipeline] = new_key({{"role", "ingest"}, {"hash_queries", true}, {"rate_per_s", 1e6}});
  std::atomic<uint64_t> refused{0}, failed{0}, answered{0}, matched{0};
  auto count = [&](int status, const json& j) {
    if (status == 403) ++refused;
    else if (status == 0 || status >= 500) ++failed;
    else ++answered;
    if (status == 200 && j.is_object() && j.value("match", false)) ++matched;
  };
  auto parallel = [&](size_t n, uint64_t threads, const std::function<void(httplib::SSLClient&, size_t)>& one) {
    std::atomic<size_t> next{0};
    std::vector<std::thread> ts;
    for (uint64_t k = 0; k < threads; ++k) {
      ts.emplace_back([&] {
        auto pc = server.Client();
        for (size_t i; (i = next++) < n;) one(*pc, i);
      });
    }
    for (auto& th : ts) th.join();
  };
  auto phase = [&](const char* what, size_t n, double seconds) {
    std::printf("legitimate, %-44s %8zu requests in %6.0f s (%6.0f/s): %llu answered, %llu matches, %llu refused 403, "
                "%llu failed\n",
                what, n, seconds, n / seconds, static_cast<unsigned long long>(answered.load()),
                static_cast<unsigned long long>(matched.load()), static_cast<unsigned long long>(refused.load()),
                static_cast<unsigned long long>(failed.load()));
    if (refused) rc = 1;
    answered = matched = failed = 0;
  };
  auto t = Clock::now();
  parallel(corpus.size(), 2, [&](httplib::SSLClient& pc, size_t i) {
    std::ifstream in(corpus[i].path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    for (;;) {
      auto r = pc.Post("/v1/screen", Bearer(pipeline), bytes, "application/octet-stream");
      if (r && r->status == 503) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      count(r ? r->status : 0, r ? json::parse(r->body, nullptr, false) : json());
      return;
    }
  });
  phase("every corpus image, POST /v1/screen:", corpus.size(), Since(t));
  std::vector<base::PdqHash> variants;
  for (const auto& img : corpus) {
    if (img.decoded) variants.insert(variants.end(), img.pdq.begin(), img.pdq.end());
  }
  t = Clock::now();
  parallel(variants.size(), clients, [&](httplib::SSLClient& pc, size_t i) {
    auto [status, j] = PostJson(pc, pipeline, "/v1/screen/hashes", {{"pdq", variants[i].ToHex()}});
    count(status, j);
  });
  phase("their 8 variant hashes, /v1/screen/hashes:", variants.size(), Since(t));
  t = Clock::now();
  parallel(random_hashes, clients, [&](httplib::SSLClient& pc, size_t i) {
    std::mt19937_64 rng(i);
    base::PdqHash h;
    for (auto& b : h.bytes) b = static_cast<uint8_t>(rng());
    auto [status, j] = PostJson(pc, pipeline, "/v1/screen/hashes", {{"pdq", h.ToHex()}});
    count(status, j);
  });
  phase("unrelated random hashes, /v1/screen/hashes:", random_hashes, Since(t));

  auto shown = Get(*c, "/v1/keys/" + pipeline_id, Bearer(admin));
  const bool pipeline_blocked = !shown || json::parse(shown->body, nullptr, false).value("blocked", true);
  auto metrics = Get(*c, "/metrics");
  const std::string needle = "hashscreen_events_total{event=\"probing_suspected\"} ";
  const size_t at = metrics ? metrics->body.find(needle) : std::string::npos;
  const std::string blocks =
      at == std::string::npos ? "0" : metrics->body.substr(at + needle.size(), metrics->body.find('\n', at) - at - needle.size());
  std::printf("legitimate key blocked: %s; keys blocked in all (the attack's walks): %s\n", pipeline_blocked ? "YES" : "no",
              blocks.c_str());
  if (pipeline_blocked) rc = 1;
  server.Stop();
  fs::remove_all(server.dir);
  return rc;
}
