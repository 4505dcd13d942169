// index_bench: the PDQ match index at list sizes of millions. For each size:
//   - a realistic list: clusters of near-duplicates around real PDQ hashes
//     (--real FILE, lines "HEX[,...]" as printed by `hashscreen hash`) and
//     around synthetic centres, plus far (uniform) hashes;
//   - queries of 8 variants at radius 31, half with a planted near match;
//   - queries/s on one core for the multi-index and the linear scan, measured
//     in the same run on the same hashes, and the answers compared (exact);
//   - RAM bytes per PDQ hash of the index structures;
//   - import from a file into RocksDB (hashes/s), then open + index load
//     (--data DIR keeps the databases: generated once, reused by later runs).
// One line per figure with its unit. Not a test.
//
// Usage: index_bench [--sizes 1000000,10000000] [--data DIR] [--real FILE]
//                    [--queries N] [--linear-queries N] [--radius R]
//                    [--batch N] [--ingest-from N] [--import-only]
// --import-only: generate the list and time only the import (into a fresh
// DATA/db-N), e.g. to profile it; --batch: signals per import batch;
// --ingest-from: batches from this many changes are committed by SST
// ingestion (HashLists::Options::ingest_from_changes; huge = never).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "base/cpu_features.h"
#include "store/database.h"
#include "store/hash_lists.h"
#include "index/index_segment.h"
#include "store/list_import.h"

namespace {

using Clock = std::chrono::steady_clock;
using base::PdqHash;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

PdqHash Random(std::mt19937_64& rng) {
  PdqHash h;
  for (int i = 0; i < 4; ++i) {
    uint64_t v = rng();
    std::memcpy(h.bytes.data() + 8 * i, &v, 8);
  }
  return h;
}

PdqHash Flip(PdqHash h, int bits, std::mt19937_64& rng) {
  for (int i = 0; i < bits; ++i) {
    int k = static_cast<int>(rng() % 256);
    h.bytes[k / 8] ^= static_cast<uint8_t>(1u << (k % 8));
  }
  return h;
}

std::vector<PdqHash> ReadReal(const std::string& path) {
  std::vector<PdqHash> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    PdqHash h;
    if (line.size() >= 64 && PdqHash::FromHex(std::string_view(line).substr(0, 64), &h).ok() && !h.IsZero()) {
      out.push_back(h);
    }
  }
  return out;
}

// Half the list in clusters (1..200 members, 0..40 bit flips from the centre;
// centres are real hashes when given, else random), half far/uniform.
std::vector<PdqHash> MakeList(size_t n, const std::vector<PdqHash>& real, std::mt19937_64& rng) {
  std::vector<PdqHash> out;
  out.reserve(n);
  size_t real_next = 0;
  while (out.size() < n / 2) {
    PdqHash centre = real_next < real.size() ? real[real_next++] : Random(rng);
    size_t members = 1 + rng() % 200;
    for (size_t m = 0; m < members && out.size() < n / 2; ++m) {
      out.push_back(m == 0 ? centre : Flip(centre, static_cast<int>(rng() % 41), rng));
    }
  }
  // Distinct, as a list holds each hash once; far hashes fill up to n.
  auto distinct = [&] {
    std::sort(out.begin(), out.end(), [](const PdqHash& a, const PdqHash& b) { return a.bytes < b.bytes; });
    out.erase(std::unique(out.begin(), out.end()), out.end());
  };
  distinct();
  while (out.size() < n) {
    while (out.size() < n) out.push_back(Random(rng));
    distinct();
  }
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

struct Query {
  PdqHash v[8];
};

std::vector<Query> MakeQueries(const std::vector<PdqHash>& list, size_t count, std::mt19937_64& rng) {
  std::vector<Query> out(count);
  for (size_t i = 0; i < count; ++i) {
    for (auto& v : out[i].v) v = Random(rng);
    // Half: the original (variant 0) is a near-duplicate of a list hash.
    if (i % 2 == 0) out[i].v[0] = Flip(list[rng() % list.size()], static_cast<int>(rng() % 25), rng);
  }
  return out;
}

using Answer = std::set<std::tuple<uint32_t, int, int>>;

Answer Dedup(const std::vector<idx::PdqMatch>& v) {
  Answer a;
  for (const auto& m : v) a.insert({m.index, m.needle, m.distance});
  return a;
}

double CpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

long MaxRssKb() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

struct Args {
  std::vector<size_t> sizes = {1000000, 10000000};
  std::string data;
  std::string real;
  size_t queries = 2000;
  size_t linear_queries = 0;  // 0: chosen by size
  int radius = 31;
  bool import_only = false;  // only (re)generate the file and time the import
  size_t batch = 0;          // 0: ImportOptions' default
  size_t ingest_from = 0;    // 0: HashLists::Options' default
};

// Imports the list from a file into a new database at DATA/db-N (unless one
// is there, or always with --import-only) and prints the throughput. False if
// there is nothing to open afterwards.
bool RunImport(const Args& args, size_t n, const std::vector<PdqHash>& list) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(args.data) / ("db-" + std::to_string(n));
  const fs::path file = fs::path(args.data) / ("hashes-" + std::to_string(n) + ".txt");
  if (fs::exists(dir / "done") && !args.import_only) {
    std::printf("import: skipped, reusing %s (remove it to measure import again)\n", dir.c_str());
    return true;
  }
  fs::remove_all(dir);
  fs::create_directories(args.data);
  {
    std::ofstream f(file);
    for (const PdqHash& h : list) f << h.ToHex() << '\n';
  }
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::HashLists> lists;
  store::HashLists::Options list_options;
  if (args.ingest_from) list_options.ingest_from_changes = args.ingest_from;
  if (!store::Database::Open(dir.string(), {}, &db).ok() ||
      !store::HashLists::Open(db.get(), list_options, &lists).ok()) {
    std::printf("cannot create %s\n", dir.c_str());
    return false;
  }
  store::ListInfo info;
  (void)lists->CreateList({"bench", "bench", base::ListKind::kBlock, args.radius}, &info);
  store::ImportOptions options;
  options.codec.format = codec::ListFormat::kPlain;
  if (args.batch) options.batch_size = args.batch;
  store::ImportResult result;
  auto ti = Clock::now();
  double cpu0 = CpuSeconds();
  base::Status s = store::ImportFile(lists.get(), info.id, file.string(), options, nullptr, &result);
  double import_s = Seconds(ti, Clock::now());
  double import_cpu = CpuSeconds() - cpu0;
  if (!s.ok()) {
    std::printf("import failed: %s\n", s.ToString().c_str());
    return false;
  }
  std::printf("import: %.0f hashes/s (%llu hashes from a %.0f MB file in %.2f s wall, %.2f s CPU incl. RocksDB "
              "background threads; batches of %zu, synced)\n",
              result.added / import_s, static_cast<unsigned long long>(result.added), result.bytes / 1e6, import_s,
              import_cpu, options.batch_size);
  // Every hash is durable and screenable when ImportFile returns; the index
  // may still be merging segments in the background (queries are exact, only
  // slower, meanwhile). Shown so the number hides nothing.
  lists->WaitForIndexMerges();
  const double merged_s = Seconds(ti, Clock::now());
  std::printf("import incl. background index merges: %.0f hashes/s (%.2f s wall)\n", result.added / merged_s,
              merged_s);
  std::ofstream(dir / "done") << "ok\n";
  return true;
}

void RunSize(const Args& args, size_t n, const std::vector<PdqHash>& real) {
  std::mt19937_64 rng(n);
  auto t0 = Clock::now();
  std::vector<PdqHash> list = MakeList(n, real, rng);
  n = list.size();
  std::printf("\n== %zu PDQ hashes (%zu real centres), radius %d, 8 variants per query, kernels %s\n", n,
              std::min(real.size(), n), args.radius, idx::PdqScanKernelFamily().Active().name);
  std::printf("generate list: %.2f s\n", Seconds(t0, Clock::now()));
  if (args.import_only) {
    RunImport(args, n, list);
    return;
  }

  auto tb = Clock::now();
  idx::SignalSet set;
  set.pdq.assign(list.begin(), list.end());
  idx::IndexSegment seg(1, std::move(set), idx::PdqStrategy::kMultiIndex);
  double build = Seconds(tb, Clock::now());
  std::printf("multi-index build: %.2f s\n", build);
  std::printf("index RAM: %.1f bytes per PDQ hash (hashes 32 + multi-index ids 64 + exact table + %.1f MiB offsets)\n",
              static_cast<double>(seg.MemoryBytes()) / n, 16.0 * 65537 * 4 / (1 << 20));
  idx::LinearPdqSearch linear(seg.pdq(), seg.pdq_count());

  std::vector<Query> queries = MakeQueries(list, args.queries, rng);
  size_t lq = args.linear_queries ? args.linear_queries : std::max<size_t>(20, 200000000 / n);
  lq = std::min(lq, queries.size());

  std::vector<idx::PdqMatch> out;
  size_t found = 0;
  auto tm = Clock::now();
  for (const Query& q : queries) {
    out.clear();
    seg.SearchPdq(q.v, 8, args.radius, &out);
    found += !out.empty();
  }
  double mih_s = Seconds(tm, Clock::now());
  double mih_qps = queries.size() / mih_s;

  auto tl = Clock::now();
  for (size_t i = 0; i < lq; ++i) {
    out.clear();
    linear.Search(queries[i].v, 8, args.radius, &out);
  }
  double lin_qps = lq / Seconds(tl, Clock::now());

  // Exactness: the two strategies agree pair for pair on the queries both ran.
  size_t mismatches = 0;
  for (size_t i = 0; i < lq; ++i) {
    std::vector<idx::PdqMatch> a, b;
    linear.Search(queries[i].v, 8, args.radius, &a);
    seg.SearchPdq(queries[i].v, 8, args.radius, &b);
    mismatches += Dedup(a) != Dedup(b);
  }
  std::printf("multi-index: %.0f queries/s/core (%zu queries, %zu with a hit)\n", mih_qps, queries.size(), found);
  std::printf("linear scan: %.1f queries/s/core (%zu queries)\n", lin_qps, lq);
  std::printf("multi-index / linear scan: %.1fx\n", mih_qps / lin_qps);
  std::printf("exact: %s (%zu of %zu queries differ)\n", mismatches == 0 ? "yes" : "NO", mismatches, lq);

  if (args.data.empty()) return;
  if (!RunImport(args, n, list)) return;
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(args.data) / ("db-" + std::to_string(n));
  long rss_before = MaxRssKb();
  auto to = Clock::now();
  double cpu0 = CpuSeconds();
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::HashLists> lists;
  base::Status s = store::Database::Open(dir.string(), {}, &db);
  if (s.ok()) s = store::HashLists::Open(db.get(), &lists);
  if (!s.ok()) {
    std::printf("open failed: %s\n", s.ToString().c_str());
    return;
  }
  double open_s = Seconds(to, Clock::now());
  std::printf("open + index load from RocksDB: %.2f s wall, %.2f s CPU (%zu PDQ hashes, index %.1f bytes/hash, "
              "max RSS %+ld MiB)\n",
              open_s, CpuSeconds() - cpu0, lists->IndexedPdqHashes(),
              static_cast<double>(lists->IndexMemoryBytes()) / n, (MaxRssKb() - rss_before) / 1024);
  idx::ScreenQuery sq;
  sq.use_pdq = true;
  sq.num_pdq = 8;
  size_t matches = 0;
  auto ts = Clock::now();
  for (const Query& q : queries) {
    std::copy(q.v, q.v + 8, sq.pdq.begin());
    matches += !lists->Screen(sq).block_hits.empty();
  }
  std::printf("HashLists::Screen after load: %.0f queries/s/core (%zu of %zu matched)\n",
              queries.size() / Seconds(ts, Clock::now()), matches, queries.size());
}

}  // namespace

int main(int argc, char** argv) {
  base::Status env = base::InitSimd();
  if (!env.ok()) {
    std::fprintf(stderr, "index_bench: %s\n", env.ToString().c_str());
    return 2;
  }
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--sizes") {
      args.sizes.clear();
      std::string v = value();
      for (size_t p = 0; p < v.size();) {
        size_t c = v.find(',', p);
        args.sizes.push_back(std::stoull(v.substr(p, c - p)));
        p = c == std::string::npos ? v.size() : c + 1;
      }
    } else if (a == "--data") {
      args.data = value();
    } else if (a == "--real") {
      args.real = value();
    } else if (a == "--queries") {
      args.queries = std::stoull(value());
    } else if (a == "--linear-queries") {
      args.linear_queries = std::stoull(value());
    } else if (a == "--import-only") {
      args.import_only = true;
    } else if (a == "--batch") {
      args.batch = std::stoull(value());
    } else if (a == "--ingest-from") {
      args.ingest_from = std::stoull(value());
    } else if (a == "--radius") {
      args.radius = std::stoi(value());
    } else {
      std::fprintf(stderr,
                   "usage: index_bench [--sizes N,N] [--data DIR] [--real FILE] [--queries N] "
                   "[--linear-queries N] [--radius R] [--batch N] [--ingest-from N] [--import-only]\n");
      return 2;
    }
  }
  std::vector<PdqHash> real;
  if (!args.real.empty()) {
    real = ReadReal(args.real);
    std::printf("real PDQ hashes from %s: %zu\n", args.real.c_str(), real.size());
  }
  for (size_t n : args.sizes) RunSize(args, n, real);
  return 0;
}
