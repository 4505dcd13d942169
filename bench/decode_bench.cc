// decode_bench: what hostile inputs cost to screen (tests/hashing/
// hostile_inputs.h: tiny files whose headers claim 100 megapixels, in every
// format), next to a normal photo measured in the same run.
//
//   build/bench/decode_bench [--photo FILE] [--reps N]
//
// FILE defaults to the largest JPEG of the corpus's photos-2mp/
// ($HASHSCREEN_IMAGES or /var/cache/hashscreen/images), else the 1600x1004
// bridge photo of tests/data/pdq. For each input: the answer, the wall time
// of bytes -> hash (median of at least 20, this thread), and the peak
// resident-memory growth of one hash in a fresh process (forked; high-water
// mark reset). Then N rounds, in a fresh process, of the input decoded by 8
// threads at once while this thread screens the normal photo: when the last
// of the 8 finished, the peak memory of all rounds, and the photo's latency
// against its latency alone just before (medians over the rounds, so machine
// drift cancels). Wall times: run on an otherwise idle machine.
#include <fcntl.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/number_parse.h"
#include "hashing/image_hasher.h"
#include "tests/hashing/hostile_inputs.h"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

base::Status Hash(std::span<const uint8_t> bytes) {
  hashing::ImageHashes h;
  return hashing::HashImage(bytes, hashing::HashOptions(), &h);
}

double HashMs(std::span<const uint8_t> bytes) {
  const auto t0 = Clock::now();
  (void)Hash(bytes);
  return Ms(Clock::now() - t0);
}

// The leading number of `s` after spaces (0 if none).
double Number(const std::string& s, size_t from = 0) {
  while (from < s.size() && (s[from] == ' ' || s[from] == '\t')) ++from;
  double v = 0;
  std::from_chars(s.data() + from, s.data() + s.size(), v);
  return v;
}

int64_t StatusKb(const char* field) {
  std::ifstream status("/proc/self/status");
  const size_t n = std::strlen(field);
  for (std::string line; std::getline(status, line);)
    if (line.compare(0, n, field) == 0) return static_cast<int64_t>(Number(line, n));
  return -1;
}

// Runs `work` in a forked child with the resident high-water mark reset;
// returns its peak growth in bytes and the numbers it reports.
struct ChildResult {
  double peak_mb = -1;
  std::vector<double> values;
};
ChildResult InChild(const std::function<std::vector<double>()>& work) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    // Return the parent's freed heap to the system first: glibc keeps it
    // resident, and reusing it would hide this decode's allocations.
    malloc_trim(0);
    const int clear = open("/proc/self/clear_refs", O_WRONLY);
    if (clear >= 0) {
      (void)!write(clear, "5", 1);
      close(clear);
    }
    const int64_t before = StatusKb("VmRSS:");
    std::vector<double> out = work();
    out.insert(out.begin(), (StatusKb("VmHWM:") - before) / 1024.0);
    const uint32_t n = static_cast<uint32_t>(out.size());
    (void)!write(fds[1], &n, sizeof n);
    (void)!write(fds[1], out.data(), n * sizeof(double));
    _exit(0);
  }
  close(fds[1]);
  ChildResult r;
  uint32_t n = 0;
  if (read(fds[0], &n, sizeof n) == sizeof n) {
    std::vector<double> v(n);
    size_t got = 0;
    while (got < n * sizeof(double)) {
      const ssize_t k = read(fds[0], reinterpret_cast<char*>(v.data()) + got, n * sizeof(double) - got);
      if (k <= 0) break;
      got += static_cast<size_t>(k);
    }
    if (got == n * sizeof(double) && n > 0) {
      r.peak_mb = v[0];
      r.values.assign(v.begin() + 1, v.end());
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return r;
}

std::string DefaultPhoto() {
  const char* env = std::getenv("HASHSCREEN_IMAGES");
  const std::string dir = env && *env ? env : "/var/cache/hashscreen/images";
  std::ifstream manifest(dir + "/MANIFEST.tsv");
  std::string line, best;
  double best_mp = 0;
  std::getline(manifest, line);
  while (std::getline(manifest, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, '\t');) f.push_back(c);
    if (f.size() < 8 || f[1] != "photos-2mp" || f[5] != "jpeg") continue;
    const double mp = Number(f[6]) * Number(f[7]) / 1e6;
    if (mp > best_mp) best_mp = mp, best = dir + "/" + f[0];
  }
  if (!best.empty()) return best;
  return std::string(HASHSCREEN_SOURCE_DIR) + "/tests/data/pdq/images/bridge-mods/aaa-orig.jpg";
}

}  // namespace

int main(int argc, char** argv) {
  std::string photo_path;
  int reps = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--photo" && i + 1 < argc) {
      photo_path = argv[++i];
    } else if (a == "--reps" && i + 1 < argc) {
      uint64_t n = 0;
      const base::Status s = base::ParseUint(argv[++i], "--reps", 1, 1000, &n);
      if (!s.ok()) {
        std::fprintf(stderr, "decode_bench: %s\n", s.message().c_str());
        return 2;
      }
      reps = static_cast<int>(n);
    } else {
      std::fprintf(stderr, "decode_bench: unknown argument '%s'\nusage: decode_bench [--photo FILE] [--reps N]\n", a.c_str());
      return 2;
    }
  }
  if (photo_path.empty()) photo_path = DefaultPhoto();
  const std::vector<uint8_t> photo = hostile::ReadFile(photo_path);
  hashing::ImageHashes ph;
  if (!hashing::HashImage(photo, hashing::HashOptions(), &ph).ok()) {
    std::fprintf(stderr, "decode_bench: %s does not hash\n", photo_path.c_str());
    return 1;
  }

  std::vector<double> alone;
  for (int i = 0; i < reps; ++i) alone.push_back(HashMs(photo));
  const double photo_ms = Median(alone);
  const ChildResult photo_peak = InChild([&] { return std::vector<double>{HashMs(photo)}; });
  std::printf("decode_bench: %d reps; normal photo %s (%dx%d, %zu bytes)\n", reps,
              std::filesystem::path(photo_path).filename().c_str(), ph.width, ph.height, photo.size());
  std::printf("normal photo, bytes -> hash: %.1f ms wall (median), peak RSS growth %.1f MB (fresh process)\n\n", photo_ms,
              photo_peak.peak_mb);
  std::printf("%-52s %6s  %-11s %10s %9s | %-22s %9s  %-26s\n", "hostile input", "bytes", "answer", "time", "peak",
              "8 in parallel: wall", "peak", "normal photo meanwhile");

  for (const auto& bomb : hostile::Bombs()) {
    hashing::ImageHashes h;
    const base::Status s = hashing::HashImage(bomb.bytes, hashing::HashOptions(), &h);
    std::string answer = s.ok() ? "ok " + std::to_string(h.width) + "x" + std::to_string(h.height)
                                : std::string(base::Status::CodeName(s.code()));
    std::vector<double> times;
    for (int i = 0; i < std::max(reps, 20); ++i) times.push_back(HashMs(bomb.bytes));
    const ChildResult one = InChild([&] { return std::vector<double>{HashMs(bomb.bytes)}; });
    // 8 at once while this thread screens the normal photo, `reps` rounds in
    // one fresh process; each round also times the photo alone just before,
    // so machine drift cancels out of the ratio. Medians over the rounds.
    const ChildResult eight = InChild([&] {
      std::vector<double> walls, with, ratios;
      for (int r = 0; r < reps; ++r) {
        const double photo_alone = HashMs(photo);
        const auto t0 = Clock::now();
        std::vector<std::thread> threads;
        std::vector<double> ends(8);
        for (int t = 0; t < 8; ++t) threads.emplace_back([&, t] {
          (void)Hash(bomb.bytes);
          ends[t] = Ms(Clock::now() - t0);
        });
        const double photo_meanwhile = HashMs(photo);
        for (auto& t : threads) t.join();
        walls.push_back(*std::max_element(ends.begin(), ends.end()));
        with.push_back(photo_meanwhile);
        ratios.push_back(photo_meanwhile / photo_alone);
      }
      return std::vector<double>{Median(walls), Median(with), Median(ratios)};
    });
    const bool got = eight.values.size() == 3;
    char parallel[64], meanwhile[64];
    std::snprintf(parallel, sizeof parallel, "%.2f ms", got ? eight.values[0] : -1.0);
    std::snprintf(meanwhile, sizeof meanwhile, "%.1f ms (%.2fx alone)", got ? eight.values[1] : -1.0, got ? eight.values[2] : 0.0);
    std::printf("%-52s %6zu  %-11s %7.1f us %6.1f MB | %-22s %6.1f MB  %-26s\n", bomb.name.c_str(), bomb.bytes.size(),
                answer.c_str(), 1000 * Median(times), one.peak_mb, parallel, eight.peak_mb, meanwhile);
  }
  std::printf("\ntime: wall, median of %d hashes in this thread. peak: resident high-water growth of one hash (or of\n"
              "%d rounds of 8 in parallel with the photo) in a fresh process. 8 in parallel: when the last of the 8\n"
              "finished, and the photo's latency meanwhile against the photo alone just before, medians of %d rounds\n",
              std::max(reps, 20), reps, reps);
  return 0;
}
