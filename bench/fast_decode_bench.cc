// fast_decode_bench: what `--fast` (hashing::DecodeScaling, reduced-size
// JPEG decoding) buys and what it costs, against exact hashing measured in
// the same run.
//
//   speed: end-to-end HashImage (decode + PDQ with all 8 variants and
//          border trimming, as the server and `scan` hash) of every JPEG of
//          at least --min-pixels, baseline and progressive apart, exact and
//          fast, one thread, bytes in memory; the ratio is fast / exact.
//   drift: for every JPEG of the corpus that --fast scales, the bit distance
//          of its fast PDQ hash from its exact one (p50, p99, max, per scale),
//          and recall at the threshold: the share whose fast hash still
//          matches the exact hash a list would hold. Images of quality below
//          50 are counted apart: the server screens those by digests only.
//
// usage: fast_decode_bench [--images DIR] [--min-pixels N] [--rounds N] [--threshold T]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "base/number_parse.h"
#include "base/pdq_hash.h"
#include "base/signal.h"
#include "hashing/image_hasher.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr int kMinQuality = 50;  // screening.min_quality's default: below it PDQ is not used

struct Jpeg {
  std::string path;
  std::vector<uint8_t> bytes;
  bool progressive = false;
};

// Walks the markers up to the first start-of-frame: SOF2 (and the other
// progressive SOFs) mean progressive.
bool IsProgressive(const std::vector<uint8_t>& b) {
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (b[i] != 0xFF) return false;
    const uint8_t m = b[i + 1];
    if (m == 0xFF) {
      ++i;
      continue;
    }
    if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) return m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE;
    i += 2 + ((size_t{b[i + 2]} << 8) | b[i + 3]);
  }
  return false;
}

hashing::HashOptions Options(bool fast) {
  hashing::HashOptions o;
  o.dihedral = true;
  o.trim_borders = true;
  if (fast) o.scaling.jpeg_min_side = hashing::kFastJpegMinSide;
  return o;
}

// Images per second over `rounds` passes of `set`.
double Rate(const std::vector<const Jpeg*>& set, bool fast, int rounds) {
  const hashing::HashOptions o = Options(fast);
  hashing::ImageHashes h;
  const auto t0 = Clock::now();
  for (int r = 0; r < rounds; ++r) {
    for (const Jpeg* j : set) (void)hashing::HashImage(j->bytes, o, &h);
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return static_cast<double>(set.size()) * rounds / s;
}

int Percentile(std::vector<int> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

int Usage(const char* why) {
  if (why) std::fprintf(stderr, "fast_decode_bench: %s\n", why);
  std::fprintf(stderr,
               "usage: fast_decode_bench [--images DIR] [--min-pixels N] [--rounds N] [--threshold T]\n"
               "  --images DIR     the benign corpus (default $HASHSCREEN_IMAGES or /var/cache/hashscreen/images)\n"
               "  --min-pixels N   JPEGs timed for speed: at least N pixels (default 8000000)\n"
               "  --rounds N       timing passes over them (default 3)\n"
               "  --threshold T    the match threshold for recall (default 31)\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const char* env = std::getenv("HASHSCREEN_IMAGES");
  std::string dir = env && *env ? env : "/var/cache/hashscreen/images";
  uint64_t min_pixels = 8'000'000, rounds = 3, threshold = base::kDefaultPdqThreshold;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") return Usage(nullptr), 0;
    if (i + 1 >= argc) return Usage(("unknown or incomplete option " + a).c_str());
    base::Status s;
    if (a == "--images") dir = argv[++i];
    else if (a == "--min-pixels") s = base::ParseUint(argv[++i], "--min-pixels", 1, 1ull << 40, &min_pixels);
    else if (a == "--rounds") s = base::ParseUint(argv[++i], "--rounds", 1, 1000, &rounds);
    else if (a == "--threshold") s = base::ParseUint(argv[++i], "--threshold", 0, 256, &threshold);
    else return Usage(("unknown option " + a).c_str());
    if (!s.ok()) return Usage(s.message().c_str());
  }

  std::vector<Jpeg> jpegs;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext != ".jpg" && ext != ".jpeg") continue;
    if (it->path().string().find("/malformed/") != std::string::npos) continue;
    Jpeg j;
    j.path = it->path().string();
    std::ifstream in(j.path, std::ios::binary);
    j.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    j.progressive = IsProgressive(j.bytes);
    jpegs.push_back(std::move(j));
  }
  if (ec || jpegs.empty()) {
    std::fprintf(stderr, "fast_decode_bench: no JPEGs under %s%s%s\n", dir.c_str(), ec ? ": " : "", ec ? ec.message().c_str() : "");
    return 1;
  }
  std::sort(jpegs.begin(), jpegs.end(), [](const Jpeg& a, const Jpeg& b) { return a.path < b.path; });

  // Drift: every JPEG, exact and fast.
  std::map<int, std::vector<int>> by_scale;  // scale -> distances
  std::vector<std::string> far;              // the images that drift past half the threshold
  std::vector<const Jpeg*> big_baseline, big_progressive;
  size_t decoded = 0, low_quality = 0;
  for (const Jpeg& j : jpegs) {
    hashing::ImageHashes exact, fast;
    if (!hashing::HashImage(j.bytes, Options(false), &exact).ok()) continue;
    if (!hashing::HashImage(j.bytes, Options(true), &fast).ok()) {
      std::fprintf(stderr, "fast_decode_bench: %s decodes exactly but not fast\n", j.path.c_str());
      return 1;
    }
    ++decoded;
    if (fast.decode_scale > 1 && exact.quality < kMinQuality) {
      ++low_quality;  // screened by digests only, as the server does: the drift does not matter
    } else if (fast.decode_scale > 1) {
      const int d = base::Distance(exact.pdq[hashing::kOrig], fast.pdq[hashing::kOrig]);
      by_scale[fast.decode_scale].push_back(d);
      if (static_cast<uint64_t>(d) * 2 > threshold) {
        far.push_back("  " + std::to_string(d) + " bits at 1/" + std::to_string(fast.decode_scale) + ", quality " +
                      std::to_string(exact.quality) + " exact / " + std::to_string(fast.quality) + " fast: " + j.path);
      }
    }
    if (uint64_t{static_cast<uint64_t>(exact.width)} * static_cast<uint64_t>(exact.height) >= min_pixels) {
      (j.progressive ? big_progressive : big_baseline).push_back(&j);
    }
  }
  std::printf("corpus %s: %zu JPEGs decode; --fast scales %zu of PDQ quality >= %d (and %zu below it, screened by digests only)\n",
              dir.c_str(), decoded, [&] { size_t n = 0; for (auto& [s, d] : by_scale) n += d.size(); return n; }(), kMinQuality,
              low_quality);
  std::printf("\ndrift of the fast PDQ hash from the exact one (bits), and recall at %llu:\n",
              static_cast<unsigned long long>(threshold));
  std::printf("  scale   images   p50   p99   max   recall\n");
  std::vector<int> all;
  for (auto& [scale, d] : by_scale) {
    const size_t within = static_cast<size_t>(std::count_if(d.begin(), d.end(), [&](int x) { return static_cast<uint64_t>(x) <= threshold; }));
    std::printf("  1/%d   %7zu  %4d  %4d  %4d   %6.2f%%\n", scale, d.size(), Percentile(d, 0.5), Percentile(d, 0.99),
                *std::max_element(d.begin(), d.end()), 100.0 * static_cast<double>(within) / static_cast<double>(d.size()));
    all.insert(all.end(), d.begin(), d.end());
  }
  if (!all.empty()) {
    const size_t within = static_cast<size_t>(std::count_if(all.begin(), all.end(), [&](int x) { return static_cast<uint64_t>(x) <= threshold; }));
    std::printf("  all     %7zu  %4d  %4d  %4d   %6.2f%%\n", all.size(), Percentile(all, 0.5), Percentile(all, 0.99),
                *std::max_element(all.begin(), all.end()), 100.0 * static_cast<double>(within) / static_cast<double>(all.size()));
  }

  if (!far.empty()) std::printf("\nimages that drift past half the threshold:\n");
  for (const std::string& line : far) std::printf("%s\n", line.c_str());

  std::printf("\nend-to-end hashing (8 variants, trimming), one thread, JPEGs of >= %llu pixels, %llu rounds:\n",
              static_cast<unsigned long long>(min_pixels), static_cast<unsigned long long>(rounds));
  std::printf("  kind          images   exact img/s   fast img/s   fast/exact\n");
  for (auto [name, set] : {std::pair<const char*, const std::vector<const Jpeg*>*>{"baseline", &big_baseline},
                           {"progressive", &big_progressive}}) {
    if (set->empty()) {
      std::printf("  %-12s  none\n", name);
      continue;
    }
    (void)Rate(*set, false, 1);  // warm caches and the kernel registry
    const double exact = Rate(*set, false, static_cast<int>(rounds));
    const double fast = Rate(*set, true, static_cast<int>(rounds));
    std::printf("  %-12s  %6zu   %11.2f   %10.2f   %9.2fx\n", name, set->size(), exact, fast, fast / exact);
  }
  return 0;
}
