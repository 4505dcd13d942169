// robustness: how often a transformed re-upload still matches its original,
// and how often distinct pictures match each other, for the upload path
// exactly as hashscreend screens it.
//
//   build/bench/robustness [--images DIR] [--pools LIST] [--limit N] [--threads N]
//                          [--transforms LIST] [--threshold T] [--min-quality Q]
//                          [--trim-tolerance T] [--no-captions] [--markdown FILE] [--show-fp N]
//                          [--after SETS] [--tsv FILE] [--dump DIR] [--list]
//                          [--throughput ROUNDS [--trim-copy-mb MB]] [--breakdown ROUNDS]
//
// For every image of the pools (default photos-2mp,photos,testimages,art of
// the corpus from scripts/fetch-test-images.sh; variants/ holds true
// near-duplicates and is never used): the list hash is the PDQ of its bytes
// (variant 0, as a partner would have hashed it). Each transform of the
// catalogue (bench/robustness/transforms.h) makes the bytes an uploader would
// send; those are hashed by hashing::HashImage with the server's options (all
// 8 dihedral variants, and the picture inside borders), and matched against
// the list hash with the server's rules: a set of PDQ hashes counts only if
// its quality is >= the minimum, and matches at distance <= threshold.
//
// Two columns per transform, from the same hashes (trimming never changes
// the untrimmed bits): "before" screens the 8 dihedral hashes only (what the
// server did before issue 14), "after" adds the trimmed picture's 8.
// Recall is over images whose original has quality >= the minimum (a list
// hash below it is unreliable and the server would not use such a query).
//
// False positives: every ordered pair (upload j, list hash i) of distinct
// images, i != j, skipping pairs with the same MD5 (exact duplicates,
// counted apart): the untransformed uploads, and each transform's uploads.
//
// --throughput R instead measures the upload path's speed with the extra
// queries off and on (HashImage with all 8 dihedral variants, trim_borders
// false / true, as the server hashes), on the pool's originals as uploaded
// and on the same pictures given a 10% black border (every one trimmed: the
// worst case), over R rounds, and trimming by a second decode in the same
// run; --trim-copy-mb sets HashOptions::trim_copy_max_bytes (default the
// library's); see RunThroughput.
//
// --limit N takes N images evenly spread over the sorted pool list (quick
// iterations); --threads N hashes N images at once (default 1: the machine
// is shared). Results go to stdout (and --markdown FILE: the tables alone).
// --dump DIR writes the first image's uploads to DIR (to look at them);
// --list prints the catalogue.
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <ctime>
#include <vector>

#include "base/cpu_features.h"
#include "base/number_parse.h"
#include "base/pdq_hash.h"
#include "base/query_variant.h"
#include "base/signal.h"
#include "bench/robustness/transforms.h"
#include "hashing/border_detector.h"
#include "hashing/decode_budget.h"
#include "hashing/image_decoder.h"
#include "hashing/image_hasher.h"
#include "hashing/pdq_stream_hasher.h"
#include "hashing/sink_adapters.h"

namespace {

using base::PdqHash;
using base::Status;

// A hash the server would query, with the set it belongs to.
// The sets of 8 a query can hold: the reference's dihedral variants of the
// image (what the server queried before issue 14), the aligned variants
// (hashing::PdqResult::aligned), and the same two of the trimmed picture.
enum Set : uint8_t { kDihedralSet = 0, kAlignedSet, kTrimmedSet, kTrimmedAlignedSet, kNumSets };
constexpr const char* kSetNames[kNumSets] = {"dihedral", "aligned", "trimmed", "trimmed-aligned"};

struct Needle {
  PdqHash hash;
  uint8_t set;
  uint8_t variant;  // 0..7, hashing::Dihedral
};

// One upload as the server screens it.
struct Query {
  bool ok = false;
  std::vector<Needle> needles;  // only the sets whose quality passed
  bool trimmed = false;         // a trimmed set was computed (whatever its quality)
  int quality = 0, trimmed_quality = 0;
};

struct Picture {
  std::string path;  // relative to the corpus
  bool ok = false;
  std::string error;
  PdqHash list;  // the original's hash, variant 0
  int list_quality = 0;
  int width = 0, height = 0;
  std::array<uint8_t, 16> md5{};
  Query self;                  // the original uploaded as is
  std::vector<Query> uploads;  // per selected transform
};

struct Config {
  std::string dir;
  std::vector<std::string> pools = {"photos-2mp", "photos", "testimages", "art"};
  size_t limit = 0;
  int threads = 1;
  std::vector<const robustness::Transform*> transforms;
  int threshold = base::kDefaultPdqThreshold;
  int min_quality = 50;
  hashing::BorderTrimOptions trim;
  uint64_t trim_copy_max_bytes = hashing::HashOptions().trim_copy_max_bytes;
  std::string markdown;
  int show_fp = 20;
  unsigned after = 1u << kAlignedSet | 1u << kTrimmedAlignedSet;  // --after: the server's query
  std::string tsv;        // --tsv FILE: every distance, for analysis
  std::string dump;       // --dump DIR: write the uploads of one image there
  std::string dump_path;  // that image (the first of the pool)
  bool fast = false;      // --fast: the transformed uploads hashed with fast JPEG decoding, the lists exact
};

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, sep);) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// The upload path's hash options as the server sets them (all 8 dihedral
// variants), border trimming on or off.
hashing::HashOptions UploadOptions(const Config& cfg, bool trim) {
  hashing::HashOptions o;
  o.dihedral = true;
  o.trim = cfg.trim;
  o.trim_borders = trim;
  o.trim_copy_max_bytes = cfg.trim_copy_max_bytes;
  return o;
}

Query Screen(std::span<const uint8_t> bytes, const Config& cfg, bool upload, hashing::ImageHashes* out) {
  hashing::HashOptions o = UploadOptions(cfg, true);
  if (upload && cfg.fast) o.scaling.jpeg_min_side = hashing::kFastJpegMinSide;
  Query q;
  if (!hashing::HashImage(bytes, o, out).ok()) return q;
  q.ok = true;
  q.quality = out->quality;
  if (out->quality >= cfg.min_quality) {
    for (int v = 0; v < 8; ++v) q.needles.push_back({out->pdq[v], kDihedralSet, static_cast<uint8_t>(v)});
    for (int v = 0; v < 8; ++v) q.needles.push_back({out->aligned[v], kAlignedSet, static_cast<uint8_t>(v)});
  }
  q.trimmed = out->trimmed.present;
  q.trimmed_quality = out->trimmed.quality;
  if (out->trimmed.present && out->trimmed.quality >= cfg.min_quality) {
    for (int v = 0; v < 8; ++v) q.needles.push_back({out->trimmed.pdq[v], kTrimmedSet, static_cast<uint8_t>(v)});
    for (int v = 0; v < 8; ++v) {
      q.needles.push_back({out->trimmed.aligned[v], kTrimmedAlignedSet, static_cast<uint8_t>(v)});
    }
  }
  return q;
}

// Smallest distance from the query's needles of the sets in `sets` (bit
// mask) to `list`; 257 if none is usable. *which = the server's audit code
// (base/query_variant.h: 0..7, trimmed 8..15).
int Distance(const Query& q, const PdqHash& list, unsigned sets, int* which = nullptr) {
  int best = 257;
  for (const Needle& n : q.needles) {
    if (!(sets >> n.set & 1)) continue;
    const int d = base::Distance(n.hash, list);
    if (d < best) {
      best = d;
      if (which) *which = (n.set >= kTrimmedSet ? 8 : 0) + n.variant;
    }
  }
  return best;
}

// The server's audit names (base/query_variant.h): set * 8 + variant is the code.
std::string VariantName(int which) { return base::QueryVariantName(which); }

void HashPicture(const Config& cfg, Picture* p) {
  std::ifstream in(cfg.dir + "/" + p->path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  hashing::ImageHashes h;
  p->self = Screen(bytes, cfg, /*upload=*/false, &h);
  if (!p->self.ok) {
    p->error = "does not decode";
    return;
  }
  p->list = h.pdq[0];
  p->list_quality = h.quality;
  p->width = h.width, p->height = h.height;
  p->md5 = h.md5;
  robustness::Image image;
  if (Status s = robustness::DecodeToRgb(bytes, &image); !s.ok()) {
    p->error = s.ToString();
    return;
  }
  const uint64_t seed = Fnv1a(p->path);
  for (const robustness::Transform* t : cfg.transforms) {
    std::vector<uint8_t> out;
    Query q;
    if (t->apply(image, seed, &out).ok()) q = Screen(out, cfg, /*upload=*/true, &h);
    if (!cfg.dump.empty() && p->path == cfg.dump_path) {
      const bool jpeg = out.size() > 2 && out[0] == 0xFF && out[1] == 0xD8;
      std::ofstream(cfg.dump + "/" + t->name + (jpeg ? ".jpg" : ".png"), std::ios::binary)
          .write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
    }
    p->uploads.push_back(std::move(q));
  }
  p->ok = true;
}

std::vector<std::string> LoadPool(const Config& cfg) {
  std::ifstream in(cfg.dir + "/MANIFEST.tsv");
  std::vector<std::string> paths;
  std::string line;
  std::getline(in, line);
  const std::set<std::string> pools(cfg.pools.begin(), cfg.pools.end());
  while (std::getline(in, line)) {
    const auto cols = Split(line, '\t');
    if (cols.size() >= 2 && pools.count(cols[1])) paths.push_back(cols[0]);
  }
  std::sort(paths.begin(), paths.end());
  if (cfg.limit && cfg.limit < paths.size()) {
    std::vector<std::string> some;
    for (size_t k = 0; k < cfg.limit; ++k) some.push_back(paths[k * paths.size() / cfg.limit]);
    paths.swap(some);
  }
  return paths;
}

// The breakdown columns: the pool (first path component) and a size class
// by the shorter side (PDQ's filter window is side / 128, so small images
// behave differently).
std::string PoolOf(const Picture& p) { return p.path.substr(0, p.path.find('/')); }
std::string SizeClassOf(const Picture& p) {
  const int side = std::min(p.width, p.height);
  return side < 256 ? "side < 256" : side < 1024 ? "side 256-1023" : "side >= 1024";
}

double Median(std::vector<int> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2.0;
}

std::string Pct(size_t k, size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", n ? 100.0 * k / n : 0.0);
  return buf;
}

struct PairStats {
  size_t pairs = 0, usable = 0, matches = 0;
  double sum = 0, sum2 = 0;
  int min = 257;
  std::vector<std::string> shown;
};

// Every (upload j, list i), i != j, distinct MD5. `upload(j)` is the query.
template <typename UploadOf>
PairStats Pairs(const std::vector<Picture>& pics, unsigned sets, const Config& cfg, UploadOf upload, size_t* dups) {
  PairStats s;
  if (dups) *dups = 0;
  for (size_t j = 0; j < pics.size(); ++j) {
    if (!pics[j].ok) continue;
    const Query& q = upload(j);
    if (!q.ok) continue;
    for (size_t i = 0; i < pics.size(); ++i) {
      if (i == j || !pics[i].ok) continue;
      if (pics[i].md5 == pics[j].md5) {
        if (dups) ++*dups;
        continue;
      }
      ++s.pairs;
      int which = 0;
      const int d = Distance(q, pics[i].list, sets, &which);
      if (d > 256) continue;
      ++s.usable;
      s.sum += d, s.sum2 += double(d) * d;
      s.min = std::min(s.min, d);
      if (d <= cfg.threshold) {
        ++s.matches;
        if (static_cast<int>(s.shown.size()) < cfg.show_fp) {
          s.shown.push_back("d=" + std::to_string(d) + " as " + VariantName(which) + ": upload " + pics[j].path +
                            "  list " + pics[i].path);
        }
      }
    }
  }
  return s;
}

std::string DistStats(const PairStats& s) {
  if (!s.usable) return "no usable pair";
  const double mean = s.sum / s.usable, sd = std::sqrt(std::max(0.0, s.sum2 / s.usable - mean * mean));
  char buf[96];
  std::snprintf(buf, sizeof buf, "mean %.1f, sd %.1f, min %d over %zu pairs", mean, sd, s.min, s.usable);
  return buf;
}

double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// The upload path's rate with trimming on against off, measured in one run:
// per image, the two are timed back to back (this thread's CPU time, so other
// load on a shared machine does not count), summed over the pool per round;
// the ratio reported is the median over rounds of (time off / time on), i.e.
// the rate with the extra queries as a share of the rate without.
int RunThroughput(const Config& cfg, int rounds) {
  const std::vector<std::string> paths = LoadPool(cfg);
  const robustness::Transform* border = robustness::FindTransform("border-10-black");
  std::vector<std::vector<uint8_t>> plain, bordered;
  for (const auto& path : paths) {
    std::ifstream in(cfg.dir + "/" + path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    robustness::Image image;
    std::vector<uint8_t> framed;
    if (!robustness::DecodeToRgb(bytes, &image).ok() || !border->apply(image, 0, &framed).ok()) continue;
    plain.push_back(std::move(bytes));
    bordered.push_back(std::move(framed));
  }
  std::printf("throughput: %zu images, %d rounds, one thread (CPU time), pixels kept up to %llu MiB\n", plain.size(),
              rounds, static_cast<unsigned long long>(cfg.trim_copy_max_bytes >> 20));
  const hashing::HashOptions off = UploadOptions(cfg, false), on = UploadOptions(cfg, true);
  // Trimming as before the kept copy (hashing/sink_adapters.h CopySink):
  // every trimmed upload decoded twice.
  hashing::HashOptions twice = on;
  twice.trim_copy_max_bytes = 0;
  hashing::ImageHashes h;
  for (const auto* set : {&plain, &bordered}) {
    std::vector<double> ratios, ratios_twice;
    double sum_off = 0, sum_on = 0, sum_twice = 0;
    size_t trimmed = 0;
    for (int r = 0; r < rounds; ++r) {
      double t_off = 0, t_on = 0, t_twice = 0;
      trimmed = 0;
      for (const auto& bytes : *set) {
        const double t0 = ThreadCpuMs();
        (void)hashing::HashImage(bytes, off, &h);
        const double t1 = ThreadCpuMs();
        (void)hashing::HashImage(bytes, on, &h);
        const double t2 = ThreadCpuMs();
        trimmed += h.trimmed.present;
        (void)hashing::HashImage(bytes, twice, &h);
        const double t3 = ThreadCpuMs();
        t_off += t1 - t0, t_on += t2 - t1, t_twice += t3 - t2;
      }
      ratios.push_back(t_off / t_on);
      ratios_twice.push_back(t_off / t_twice);
      sum_off += t_off, sum_on += t_on, sum_twice += t_twice;
    }
    std::sort(ratios.begin(), ratios.end());
    std::sort(ratios_twice.begin(), ratios_twice.end());
    const double n = static_cast<double>(set->size()) * rounds;
    std::printf("%-34s trim off %7.2f ms/image, on %7.2f ms/image (%zu of %zu trimmed): rate with trimming = %.3f of "
                "without (median of %d rounds; range %.3f-%.3f)\n",
                set == &plain ? "originals as uploaded" : "originals with a 10% black border", sum_off / n,
                sum_on / n, trimmed, set->size(), ratios[ratios.size() / 2], rounds, ratios.front(), ratios.back());
    std::printf("%-34s   decoding twice instead of keeping the pixels: %7.2f ms/image, rate %.3f (range %.3f-%.3f)\n",
                "", sum_twice / n, ratios_twice[ratios_twice.size() / 2], ratios_twice.front(), ratios_twice.back());
  }
  return 0;
}

// Consumes rows and does nothing: the decoder's own cost.
class NullSink : public hashing::PixelSink {
 public:
  Status Start(int, int, int) override { return Status::Ok(); }
  void Rows(int, int, const uint8_t*) override {}
};

// --breakdown R: where trimming's cost goes, per image, from the public
// parts HashImage is made of (each timed alone, this thread's CPU time, the
// minimum over R rounds): the decode alone, decode + PDQ (8 variants),
// decode + PDQ + border detector, the same + the kept copy (uncapped), and
// for a picture with borders the trimmed picture's second pass (decode
// cropped to the rectangle + PDQ) and its PDQ alone from a kept copy.
int RunBreakdown(const Config& cfg, int rounds) {
  const std::vector<std::string> paths = LoadPool(cfg);
  const robustness::Transform* border = robustness::FindTransform("border-10-black");
  const robustness::Transform* border_jpeg = robustness::FindTransform("border-10-black+jpeg-50");
  struct Item {
    std::string name;
    std::vector<uint8_t> bytes;
  };
  std::vector<Item> items;
  for (const auto& path : paths) {
    std::ifstream in(cfg.dir + "/" + path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    robustness::Image image;
    std::vector<uint8_t> framed, framed_jpeg;
    if (!robustness::DecodeToRgb(bytes, &image).ok() || !border->apply(image, 0, &framed).ok() ||
        !border_jpeg->apply(image, 0, &framed_jpeg).ok()) {
      continue;
    }
    items.push_back({path, std::move(bytes)});
    items.push_back({path + " [border png]", std::move(framed)});
    items.push_back({path + " [border jpeg-50]", std::move(framed_jpeg)});
  }
  const hashing::PdqKernels& kernels = hashing::ActivePdqKernels();
  const hashing::HashOptions off = UploadOptions(cfg, false), on = UploadOptions(cfg, true);
  constexpr int kCols = 8;
  const char* cols[kCols] = {"decode", "+pdq", "+detect", "+copy", "2nd-pass", "trim-pdq", "HashImage-off", "HashImage-on"};
  std::printf("breakdown: %zu uploads, min of %d rounds, ms of this thread's CPU\n%-60s %6s %4s", items.size(), rounds,
              "image", "MP", "trim");
  for (const char* c : cols) std::printf(" %9s", c);
  std::printf("\n");
  double totals[2][kCols] = {};
  int counts[2] = {};
  for (const auto& item : items) {
    double best[kCols];
    std::fill(std::begin(best), std::end(best), 1e300);
    std::optional<hashing::TrimRect> rect;
    int width = 0, height = 0;
    for (int r = 0; r < rounds; ++r) {
      double t[kCols] = {};
      auto timed = [&](int col, auto&& fn) {
        const double t0 = ThreadCpuMs();
        fn();
        t[col] = ThreadCpuMs() - t0;
      };
      hashing::DecodedInfo info;
      timed(0, [&] {
        NullSink sink;
        hashing::DecodeBudget budget(off.limits);
        (void)hashing::DecodeImage(item.bytes, off.limits, &budget, &sink, &info);
      });
      width = info.width, height = info.height;
      timed(1, [&] {
        hashing::PdqStreamHasher hasher(kernels, off.mode, true);
        hashing::DecodeBudget budget(off.limits);
        (void)hashing::DecodeImage(item.bytes, off.limits, &budget, &hasher, &info);
        (void)hasher.Finish();
      });
      timed(2, [&] {
        hashing::PdqStreamHasher hasher(kernels, off.mode, true);
        hashing::BorderDetector detector(on.trim);
        hashing::TeeSink tee(&hasher, &detector);
        hashing::DecodeBudget budget(off.limits);
        (void)hashing::DecodeImage(item.bytes, off.limits, &budget, &tee, &info);
        (void)hasher.Finish();
        rect = detector.Result();
      });
      std::optional<hashing::CopySink> copy;
      hashing::DecodeBudget copy_budget(off.limits);
      timed(3, [&] {
        hashing::PdqStreamHasher hasher(kernels, off.mode, true);
        hashing::BorderDetector detector(on.trim);
        copy.emplace(&copy_budget, ~uint64_t{0});
        hashing::TeeSink look(&detector, &*copy);
        hashing::TeeSink tee(&hasher, &look);
        (void)hashing::DecodeImage(item.bytes, off.limits, &copy_budget, &tee, &info);
        (void)hasher.Finish();
      });
      if (rect) {
        timed(4, [&] {
          hashing::PdqStreamHasher hasher(kernels, off.mode, true);
          hashing::CropSink crop(&hasher, *rect);
          hashing::DecodeBudget budget(off.limits);
          (void)hashing::DecodeImage(item.bytes, off.limits, &budget, &crop, &info);
          (void)hasher.Finish();
        });
        timed(5, [&] {
          hashing::PdqStreamHasher hasher(kernels, off.mode, true);
          if (copy->complete()) (void)copy->Replay(*rect, &hasher);
          (void)hasher.Finish();
        });
      }
      copy.reset();
      hashing::ImageHashes h;
      timed(6, [&] { (void)hashing::HashImage(item.bytes, off, &h); });
      timed(7, [&] { (void)hashing::HashImage(item.bytes, on, &h); });
      for (int c = 0; c < kCols; ++c) best[c] = std::min(best[c], t[c]);
    }
    const int k = rect ? 1 : 0;
    ++counts[k];
    std::printf("%-60.60s %6.2f %4s", item.name.c_str(), width * static_cast<double>(height) / 1e6, rect ? "yes" : "-");
    for (int c = 0; c < kCols; ++c) {
      std::printf(" %9.2f", best[c]);
      totals[k][c] += best[c];
    }
    std::printf("\n");
  }
  for (int k = 0; k < 2; ++k) {
    if (!counts[k]) continue;
    std::printf("%-60s %6d %4s", k ? "mean, trimmed" : "mean, not trimmed", counts[k], "");
    for (int c = 0; c < kCols; ++c) std::printf(" %9.2f", totals[k][c] / counts[k]);
    std::printf("\n");
  }
  return 0;
}

constexpr const char kUsage[] =
    "usage: robustness [OPTIONS]\n"
    "\n"
    "Applies each transform of the catalogue to every image of a folder and reports, per\n"
    "transform, the share of transformed copies that still match their original at the\n"
    "threshold (the upload path exactly as hashscreend screens it), before and after the\n"
    "extra queries (border trimming), plus false positives between distinct images.\n"
    "\n"
    "options:\n"
    "  --images DIR          the corpus (default $HASHSCREEN_IMAGES or /var/cache/hashscreen/images)\n"
    "  --pools a,b           only these top-level folders of the corpus\n"
    "  --limit N             at most N images\n"
    "  --threads N           worker threads (default: the cores)\n"
    "  --transforms a,b      only these transforms (names: --list)\n"
    "  --list                print the transform catalogue and exit\n"
    "  --threshold T         PDQ match threshold, 0..256 (default 31)\n"
    "  --min-quality Q       hashes below quality Q count as no hash (default 50, as the server)\n"
    "  --trim-tolerance T    border detector's luma tolerance, 0..255\n"
    "  --no-captions         trim uniform bars only, not caption bars (text in a bar)\n"
    "  --after SETS          the query sets of the 'after' column: dihedral, aligned, trimmed,\n"
    "                        trimmed-aligned (default aligned,trimmed-aligned)\n"
    "  --fast                hash the copies with fast (scaled) JPEG decoding, originals exact\n"
    "  --markdown FILE       also write the tables as Markdown\n"
    "  --tsv FILE            one row per image and transform (distances, trimmed, quality)\n"
    "  --show-fp N           print up to N false-positive pairs\n"
    "  --dump DIR            write the first image's transformed copies to DIR (to look at them)\n"
    "  --throughput ROUNDS   instead: time the upload path with trimming off and on, ROUNDS rounds\n"
    "  --breakdown ROUNDS    instead: per image, the cost of each part of trimming (min of ROUNDS)\n"
    "  --trim-copy-mb MB     with --throughput: the kept copy's cap, 0..1024 (default: the server's, 256)\n"
    "  -h, --help            this text\n"
    "\n"
    "examples (docs/robustness.md has the tables they produce):\n"
    "  robustness --images /var/cache/hashscreen/images --limit 200\n"
    "  robustness --pools photos-2mp --limit 20 --throughput 3\n";

int Usage(const char* why) {
  if (why) std::fprintf(stderr, "robustness: %s\n", why);
  std::fputs(kUsage, stderr);
  return 2;
}

Status ParseInt(const char* text, const char* what, int64_t lo, int64_t hi, int* out) {
  int64_t v = 0;
  HS_RETURN_IF_ERROR(base::ParseInt(text, what, lo, hi, &v));
  *out = static_cast<int>(v);
  return Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  const char* env = std::getenv("HASHSCREEN_IMAGES");
  cfg.dir = env && *env ? env : "/var/cache/hashscreen/images";
  std::vector<std::string> names;
  int throughput_rounds = 0, breakdown_rounds = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has = i + 1 < argc;
    Status s;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--list") {
      for (const auto& t : robustness::Catalogue()) std::printf("%-28s %-9s %s\n", t.name.c_str(), t.group.c_str(), t.what.c_str());
      return 0;
    } else if (a == "--fast") {
      cfg.fast = true;
    } else if (a == "--images" && has) {
      cfg.dir = argv[++i];
    } else if (a == "--pools" && has) {
      cfg.pools = Split(argv[++i], ',');
    } else if (a == "--limit" && has) {
      int v = 0;
      s = ParseInt(argv[++i], "--limit", 1, 1 << 30, &v);
      cfg.limit = static_cast<size_t>(v);
    } else if (a == "--threads" && has) {
      s = ParseInt(argv[++i], "--threads", 1, 256, &cfg.threads);
    } else if (a == "--transforms" && has) {
      names = Split(argv[++i], ',');
    } else if (a == "--threshold" && has) {
      s = ParseInt(argv[++i], "--threshold", 0, 256, &cfg.threshold);
    } else if (a == "--min-quality" && has) {
      s = ParseInt(argv[++i], "--min-quality", 0, 100, &cfg.min_quality);
    } else if (a == "--trim-copy-mb" && has) {
      int mb = 0;
      s = ParseInt(argv[++i], "--trim-copy-mb", 0, 1024, &mb);
      cfg.trim_copy_max_bytes = static_cast<uint64_t>(mb) << 20;
    } else if (a == "--no-captions") {
      cfg.trim.captions = false;
    } else if (a == "--trim-tolerance" && has) {
      s = ParseInt(argv[++i], "--trim-tolerance", 0, 255, &cfg.trim.tolerance);
    } else if (a == "--show-fp" && has) {
      s = ParseInt(argv[++i], "--show-fp", 0, 1 << 20, &cfg.show_fp);
    } else if (a == "--after" && has) {
      cfg.after = 0;
      for (const auto& n : Split(argv[++i], ',')) {
        const auto* it = std::find_if(std::begin(kSetNames), std::end(kSetNames), [&](const char* x) { return n == x; });
        if (it == std::end(kSetNames)) return Usage(("unknown set " + n + " (dihedral, aligned, trimmed, trimmed-aligned)").c_str());
        cfg.after |= 1u << (it - std::begin(kSetNames));
      }
    } else if (a == "--tsv" && has) {
      cfg.tsv = argv[++i];
    } else if (a == "--dump" && has) {
      cfg.dump = argv[++i];
    } else if (a == "--throughput" && has) {
      s = ParseInt(argv[++i], "--throughput", 1, 1000, &throughput_rounds);
    } else if (a == "--breakdown" && has) {
      s = ParseInt(argv[++i], "--breakdown", 1, 1000, &breakdown_rounds);
    } else if (a == "--markdown" && has) {
      cfg.markdown = argv[++i];
    } else {
      return Usage(("unknown or incomplete option " + a).c_str());
    }
    if (!s.ok()) return Usage(s.message().c_str());
  }
  if (names.empty()) {
    for (const auto& t : robustness::Catalogue()) cfg.transforms.push_back(&t);
  } else {
    for (const auto& n : names) {
      const robustness::Transform* t = robustness::FindTransform(n);
      if (!t) return Usage(("unknown transform " + n + " (see --list)").c_str());
      cfg.transforms.push_back(t);
    }
  }
  if (!std::ifstream(cfg.dir + "/MANIFEST.tsv")) {
    std::fprintf(stderr, "robustness: no image corpus at %s: run  sudo scripts/fetch-test-images.sh\n", cfg.dir.c_str());
    return 1;
  }
  if (Status s = base::InitSimd(); !s.ok()) {
    std::fprintf(stderr, "robustness: %s\n", s.ToString().c_str());
    return 2;
  }
  if (throughput_rounds) return RunThroughput(cfg, throughput_rounds);
  if (breakdown_rounds) return RunBreakdown(cfg, breakdown_rounds);

  const std::vector<std::string> paths = LoadPool(cfg);
  if (!paths.empty()) cfg.dump_path = paths[0];
  std::vector<Picture> pics(paths.size());
  for (size_t k = 0; k < paths.size(); ++k) pics[k].path = paths[k];
  std::fprintf(stderr, "robustness: %zu images, %zu transforms, %d thread(s)\n", pics.size(), cfg.transforms.size(),
               cfg.threads);
  std::atomic<size_t> next{0}, done{0};
  std::mutex print_mu;
  auto worker = [&] {
    for (size_t k; (k = next++) < pics.size();) {
      HashPicture(cfg, &pics[k]);
      const size_t d = ++done;
      if (d % 50 == 0 || d == pics.size()) {
        std::lock_guard<std::mutex> lock(print_mu);
        std::fprintf(stderr, "  %zu/%zu\n", d, pics.size());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < cfg.threads; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();

  if (!cfg.tsv.empty()) {
    std::ofstream tsv(cfg.tsv);
    tsv << "path\twidth\theight\tlist_quality\ttransform\tquality\ttrimmed\ttrimmed_quality";
    for (const char* n : kSetNames) tsv << "\td_" << n;
    tsv << "\n";
    for (const auto& p : pics) {
      if (!p.ok) continue;
      for (size_t t = 0; t < cfg.transforms.size(); ++t) {
        const Query& q = p.uploads[t];
        tsv << p.path << "\t" << p.width << "\t" << p.height << "\t" << p.list_quality << "\t"
            << cfg.transforms[t]->name << "\t" << q.quality << "\t" << q.trimmed << "\t" << q.trimmed_quality;
        for (int set = 0; set < kNumSets; ++set) tsv << "\t" << Distance(q, p.list, 1u << set);
        tsv << "\n";
      }
    }
  }

  // Recall per transform.
  size_t ok = 0, eligible = 0, self_trimmed = 0;
  for (const auto& p : pics) {
    if (!p.ok) continue;
    ++ok;
    if (p.list_quality >= cfg.min_quality) ++eligible;
    if (p.self.trimmed) ++self_trimmed;
  }
  std::ostringstream md;
  char line[512];
  std::snprintf(line, sizeof line,
                "%zu images (%zu decoded; %zu with quality >= %d, the recall denominator), threshold %d, "
                "trim tolerance %d, min trim %.0f%%, min keep %.0f%%, caption bars %s\n\n",
                pics.size(), ok, eligible, cfg.min_quality, cfg.threshold, cfg.trim.tolerance, cfg.trim.min_trim * 100,
                cfg.trim.min_keep * 100, cfg.trim.captions ? "on" : "off");
  md << line;
  md << "| transform | group | before | after | median d before / after | trimmed | matched as (after) | "
        "FP pairs before / after |\n|---|---|---|---|---|---|---|---|\n";
  const unsigned kBefore = 1u << kDihedralSet, kAfter = cfg.after;
  struct GroupMin {
    double before = 101, after = 101;
  };
  std::map<std::string, GroupMin> groups;
  for (size_t t = 0; t < cfg.transforms.size(); ++t) {
    size_t n = 0, before = 0, after = 0, trimmed = 0;
    std::vector<int> db, da;
    std::map<int, size_t> as;
    for (const auto& p : pics) {
      if (!p.ok || p.list_quality < cfg.min_quality) continue;
      const Query& q = p.uploads[t];
      ++n;
      if (q.trimmed) ++trimmed;
      int which = 0;
      const int b = Distance(q, p.list, kBefore), a = Distance(q, p.list, kAfter, &which);
      db.push_back(b), da.push_back(a);
      if (b <= cfg.threshold) ++before;
      if (a <= cfg.threshold) {
        ++after;
        ++as[which];
      }
    }
    std::string matched;
    if (!as.empty()) {
      auto top = std::max_element(as.begin(), as.end(), [](auto& x, auto& y) { return x.second < y.second; });
      matched = VariantName(top->first) + " " + Pct(top->second, after);
    }
    const PairStats fb = Pairs(pics, kBefore, cfg, [&](size_t j) -> const Query& { return pics[j].uploads[t]; }, nullptr);
    const PairStats fa = Pairs(pics, kAfter, cfg, [&](size_t j) -> const Query& { return pics[j].uploads[t]; }, nullptr);
    const auto& tr = *cfg.transforms[t];
    std::snprintf(line, sizeof line, "| %s | %s | %s | %s | %.0f / %.0f | %s | %s | %zu / %zu |\n", tr.name.c_str(),
                  tr.group.c_str(), Pct(before, n).c_str(), Pct(after, n).c_str(), Median(db), Median(da),
                  Pct(trimmed, n).c_str(), matched.c_str(), fb.matches, fa.matches);
    md << line;
    auto& g = groups[tr.group];
    g.before = std::min(g.before, n ? 100.0 * before / n : 0.0);
    g.after = std::min(g.after, n ? 100.0 * after / n : 0.0);
    std::fprintf(stderr, "%s", line);
    for (const auto& s : fa.shown) std::fprintf(stderr, "    FP %s\n", s.c_str());
  }
  // Breakdown: before / after per pool and size class.
  std::vector<std::string> classes;
  std::map<std::string, size_t> class_n;
  for (const auto& p : pics) {
    if (!p.ok || p.list_quality < cfg.min_quality) continue;
    for (const std::string& c : {PoolOf(p), SizeClassOf(p)}) {
      if (!class_n[c]++) classes.push_back(c);
    }
  }
  std::sort(classes.begin(), classes.end());
  md << "\nRecall before / after by pool and by the image's shorter side (images in each):\n\n| transform |";
  for (const auto& c : classes) md << " " << c << " (" << class_n[c] << ") |";
  md << "\n|---|";
  for (size_t k = 0; k < classes.size(); ++k) md << "---|";
  md << "\n";
  for (size_t t = 0; t < cfg.transforms.size(); ++t) {
    std::map<std::string, std::array<size_t, 3>> count;  // n, before, after
    for (const auto& p : pics) {
      if (!p.ok || p.list_quality < cfg.min_quality) continue;
      const Query& q = p.uploads[t];
      const bool b = Distance(q, p.list, kBefore) <= cfg.threshold, a = Distance(q, p.list, kAfter) <= cfg.threshold;
      for (const std::string& c : {PoolOf(p), SizeClassOf(p)}) {
        auto& k = count[c];
        ++k[0], k[1] += b, k[2] += a;
      }
    }
    md << "| " << cfg.transforms[t]->name << " |";
    for (const auto& c : classes) {
      const auto& k = count[c];
      std::snprintf(line, sizeof line, " %.0f / %.0f |", k[0] ? 100.0 * k[1] / k[0] : 0.0, k[0] ? 100.0 * k[2] / k[0] : 0.0);
      md << line;
    }
    md << "\n";
  }

  md << "\nLowest recall per group (before / after): ";
  for (const auto& [name, g] : groups) {
    std::snprintf(line, sizeof line, "%s %.1f%% / %.1f%%; ", name.c_str(), g.before, g.after);
    md << line;
  }
  md << "\n\n";

  // False positives between distinct originals.
  size_t dups = 0;
  const PairStats b = Pairs(pics, kBefore, cfg, [&](size_t j) -> const Query& { return pics[j].self; }, &dups);
  const PairStats a = Pairs(pics, kAfter, cfg, [&](size_t j) -> const Query& { return pics[j].self; }, nullptr);
  std::snprintf(line, sizeof line,
                "False positives among the untransformed originals: %zu ordered pairs of distinct images "
                "(%zu pairs of exact duplicates, same MD5, left out); %zu of %zu images have a trimmed set.\n\n"
                "| queries | matches at <= %d | distance of the closest query hash to the list hash |\n"
                "|---|---|---|\n| 8 dihedral | %zu | %s |\n| 8 dihedral + 8 trimmed | %zu | %s |\n",
                b.pairs, dups, self_trimmed, ok, cfg.threshold, b.matches, DistStats(b).c_str(), a.matches,
                DistStats(a).c_str());
  md << line;
  if (!a.shown.empty()) {
    md << "\nMatching pairs of distinct files:\n\n";
    for (const auto& s : a.shown) md << "- " << s << "\n";
  }
  std::printf("%s", md.str().c_str());
  if (!cfg.markdown.empty()) std::ofstream(cfg.markdown) << md.str();
  return 0;
}
