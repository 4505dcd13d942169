// hash_bench: how fast bytes become a PDQ hash, per SIMD path, on real photos,
// next to libjpeg-turbo's decode alone (the floor) measured in the same run.
//
//   build/bench/hash_bench [--images DIR] [--reps N] [--largest]
//
// DIR is the corpus from scripts/fetch-test-images.sh (default
// $HASHSCREEN_IMAGES or /var/cache/hashscreen/images). Sets: JPEG photos of
// >= 2 MP (photos-2mp/) and of 1-2 MP (photos/), from MANIFEST.tsv. One core
// (this thread); each figure is the median over --reps runs per image, summed
// over the set. Times are this thread's CPU time (ms), not wall time.
// "hash after decode" feeds already-decoded pixels through the
// streaming hasher (luma + filter + DCT + bits), as the decoder would. Peak
// memory is measured in a fresh process (`hash_bench --peak FILE`).
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <jpeglib.h>

#include "hashing/image_decoder.h"
#include "hashing/image_hasher.h"
#include "hashing/pdq.h"
#include "hashing/pdq_stream_hasher.h"

using namespace hashing;

namespace {

struct Photo {
  std::string path;
  int width = 0, height = 0;
  std::vector<uint8_t> bytes;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// CPU time of this thread, so other processes sharing the cores (a busy CI
// or build machine) do not inflate the figures; all work here is on this thread.
double ThreadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double TimeMs(int reps, const std::function<void()>& setup, const std::function<void()>& body) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    setup();
    const double t0 = ThreadCpuMs();
    body();
    t.push_back(ThreadCpuMs() - t0);
  }
  return Median(t);
}

// libjpeg-turbo alone, same settings as our decoder, RGB into a reused row buffer.
void DecodeJpegAlone(const std::vector<uint8_t>& bytes) {
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), bytes.size());
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = cinfo.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  std::vector<uint8_t> rows(static_cast<size_t>(cinfo.output_width) * cinfo.output_components * 16);
  JSAMPROW ptr[16];
  for (int i = 0; i < 16; ++i) ptr[i] = rows.data() + static_cast<size_t>(i) * cinfo.output_width * cinfo.output_components;
  while (cinfo.output_scanline < cinfo.output_height) jpeg_read_scanlines(&cinfo, ptr, 16);
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
}

std::vector<Photo> LoadSet(const std::string& dir, const std::string& category, double min_mp, double max_mp) {
  std::ifstream manifest(dir + "/MANIFEST.tsv");
  std::string line;
  std::getline(manifest, line);
  std::vector<Photo> photos;
  while (std::getline(manifest, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, '\t');) f.push_back(c);
    if (f.size() < 8 || f[1] != category || f[5] != "jpeg") continue;
    Photo p;
    p.path = dir + "/" + f[0];
    p.width = std::atoi(f[6].c_str());
    p.height = std::atoi(f[7].c_str());
    const double mp = static_cast<double>(p.width) * p.height / 1e6;
    if (mp < min_mp || mp >= max_mp) continue;
    std::ifstream in(p.path, std::ios::binary);
    p.bytes.assign(std::istreambuf_iterator<char>(in), {});
    if (!p.bytes.empty()) photos.push_back(std::move(p));
  }
  return photos;
}

long VmHwmBytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6) * 1024;
  return -1;
}

// `hash_bench --peak FILE` (run in a fresh process, so the high-water mark
// is this image's alone): prints the peak RSS growth of hashing FILE.
int PeakMode(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes(std::istreambuf_iterator<char>(in), {});
  ImageHashes warm;
  (void)HashImage(std::vector<uint8_t>{}, HashOptions(), &warm);  // load code pages first
  const long before = VmHwmBytes();
  ImageHashes h;
  if (!HashImage(bytes, HashOptions(), &h).ok()) return 1;
  std::printf("%ld\n", VmHwmBytes() - before);
  return 0;
}

long PeakBytes(const char* self, const Photo& p) {
  const std::string cmd = std::string(self) + " --peak '" + p.path + "'";
  FILE* f = popen(cmd.c_str(), "r");
  long growth = -1;
  if (f && std::fscanf(f, "%ld", &growth) != 1) growth = -1;
  if (f) pclose(f);
  return growth;
}

// Decoded pixels held in memory, so hashing can be timed without decoding.
class PixelBuffer : public PixelSink {
 public:
  Status Start(int w, int h, int c) override {
    w_ = w, h_ = h, c_ = c;
    px_.resize(static_cast<size_t>(w) * h * c);
    return Status::Ok();
  }
  void Rows(int y, int n, const uint8_t* d) override {
    std::memcpy(px_.data() + static_cast<size_t>(y) * w_ * c_, d, static_cast<size_t>(n) * w_ * c_);
  }
  // Feeds the pixels to `sink` 16 rows at a time, as the JPEG decoder does.
  void Replay(PixelSink* sink) const {
    if (!sink->Start(w_, h_, c_).ok()) std::abort();
    for (int y = 0; y < h_; y += 16) sink->Rows(y, std::min(16, h_ - y), px_.data() + static_cast<size_t>(y) * w_ * c_);
  }

 private:
  int w_ = 0, h_ = 0, c_ = 0;
  std::vector<uint8_t> px_;
};

class NullSink : public PixelSink {
 public:
  Status Start(int, int, int) override { return Status::Ok(); }
  void Rows(int, int, const uint8_t*) override {}
};

struct PathTimes {
  double decode = 0, hash = 0, e2e = 0, full = 0;
};

// Bytes to PDQ hash through our decoder, streaming (ms, median of reps).
double EndToEndMs(const Photo& p, const PdqKernels& k, int reps) {
  return TimeMs(reps, [] {}, [&] {
    PdqStreamHasher hasher(k, PdqMode::kFull, false);
    DecodedInfo i;
    (void)DecodeImage(p.bytes, DecodeLimits(), &hasher, &i);
    hasher.Finish();
  });
}

PathTimes TimePath(const Photo& p, const PdqKernels& k, int reps) {
  PathTimes t;
  t.decode = TimeMs(reps, [] {}, [&] {
    NullSink null;
    DecodedInfo info;
    (void)DecodeImage(p.bytes, DecodeLimits(), &null, &info);
  });
  PixelBuffer pixels;
  DecodedInfo info;
  if (!DecodeImage(p.bytes, DecodeLimits(), &pixels, &info).ok()) std::abort();
  t.hash = TimeMs(reps, [] {}, [&] {  // luma + filter + DCT + bits
    PdqStreamHasher hasher(k, PdqMode::kFull, false);
    pixels.Replay(&hasher);
    hasher.Finish();
  });
  t.e2e = EndToEndMs(p, k, reps);
  HashOptions o;
  o.kernels = &k;
  o.dihedral = true;
  ImageHashes h;
  t.full = TimeMs(reps, [] {}, [&] { (void)HashImage(p.bytes, o, &h); });
  return t;
}

void RunSet(const char* name, const std::vector<Photo>& photos, int reps) {
  if (photos.empty()) {
    std::printf("%s: no photos found\n", name);
    return;
  }
  double mp = 0;
  for (const auto& p : photos) mp += p.width * static_cast<double>(p.height) / 1e6;
  std::printf("\n== %s: %zu JPEG photos, %.1f MP in all (mean %.2f MP), median of %d runs each, one core\n", name,
              photos.size(), mp, mp / photos.size(), reps);
  const double n = static_cast<double>(photos.size());
  // The floor is measured twice, before and after the paths (caches, clock
  // ramp-up and background load move it); the ratios use the smaller.
  auto measure_floor = [&] {
    double ms = 0;
    for (const auto& p : photos) ms += TimeMs(reps, [] {}, [&] { DecodeJpegAlone(p.bytes); });
    return ms;
  };
  const double floor_before = measure_floor();
  double floor_ms = floor_before;

  std::vector<std::pair<const char*, PathTimes>> results;  // the scalar reference first
  for (const auto& impl : PdqKernelFamily().all()) {
    if (!impl.Runnable()) {
      std::printf("[%s] not supported by this CPU\n", impl.name);
      continue;
    }
    PathTimes sum;
    for (const auto& p : photos) {
      const PathTimes t = TimePath(p, *impl.table, reps);
      sum.decode += t.decode, sum.hash += t.hash, sum.e2e += t.e2e, sum.full += t.full;
    }
    results.push_back({impl.name, sum});
  }
  const double floor_after = measure_floor();
  floor_ms = std::min(floor_before, floor_after);
  std::printf("%-44s %8.2f ms/image  (measured before: %.2f, after: %.2f)\n", "libjpeg-turbo decode alone (floor)",
              floor_ms / n, floor_before / n, floor_after / n);
  double scalar_hash = 0;
  for (const auto& [name, sum] : results) {
    if (scalar_hash == 0) scalar_hash = sum.hash;
    std::printf("[%s]\n", name);
    std::printf("  %-42s %8.2f ms/image  (%.2fx the floor)\n", "decode (our decoder, pixels discarded)", sum.decode / n,
                sum.decode / floor_ms);
    std::printf("  %-42s %8.2f ms/image  (%.2fx faster than scalar)\n", "hash after decode (luma+filter+DCT+bits)",
                sum.hash / n, scalar_hash / sum.hash);
    std::printf("  %-42s %8.2f ms/image  (%.3fx the floor)  %.1f images/s/core\n", "bytes -> PDQ hash, end to end",
                sum.e2e / n, sum.e2e / floor_ms, 1000.0 * n / sum.e2e);
    std::printf("  %-42s %8.2f ms/image  (%.3fx the floor)  %.1f images/s/core\n", "  + 8 dihedral + MD5 + SHA-256",
                sum.full / n, sum.full / floor_ms, 1000.0 * n / sum.full);
  }
}

// The largest photo alone: the 12 MP case of the targets.
void RunLargest(const char* self, const std::vector<Photo>& photos, int reps) {
  const Photo* p = &photos[0];
  for (const auto& q : photos)
    if (static_cast<long>(q.width) * q.height > static_cast<long>(p->width) * p->height) p = &q;
  const double rgb = 3.0 * p->width * p->height;
  std::printf("\n== largest photo: %dx%d (%.1f MP, %zu bytes of JPEG), median of %d runs\n", p->width, p->height,
              p->width * static_cast<double>(p->height) / 1e6, p->bytes.size(), reps);
  const double floor_ms = TimeMs(reps, [] {}, [&] { DecodeJpegAlone(p->bytes); });
  std::printf("%-44s %8.2f ms\n", "libjpeg-turbo decode alone (floor)", floor_ms);
  // Hash after decode with the paths interleaved, one hash of each per
  // round: on a shared or virtual machine the speed drifts over seconds, and
  // timing each path in its own block would put the drift into the ratios.
  PixelBuffer pixels;
  DecodedInfo info;
  if (!DecodeImage(p->bytes, DecodeLimits(), &pixels, &info).ok()) std::abort();
  std::vector<const base::KernelImpl<PdqKernels>*> impls = PdqKernelFamily().Runnable();  // scalar first
  std::vector<const PdqKernels*> paths;
  for (const auto* impl : impls) paths.push_back(impl->table);
  std::vector<std::vector<double>> hash_ms(paths.size());
  const int rounds = std::max(21, 5 * reps);
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < paths.size(); ++i) {
      const double t0 = ThreadCpuMs();
      PdqStreamHasher hasher(*paths[i], PdqMode::kFull, false);
      pixels.Replay(&hasher);
      hasher.Finish();
      hash_ms[i].push_back(ThreadCpuMs() - t0);
    }
  }
  // The speed-up is the median over rounds of scalar / path within the
  // round (the two timed within ~0.1 s of each other), so slow phases of the
  // machine cancel instead of landing on one side.
  for (size_t i = 0; i < paths.size(); ++i) {
    std::vector<double> ratio;
    for (int round = 0; round < rounds; ++round) ratio.push_back(hash_ms[0][round] / hash_ms[i][round]);
    std::sort(ratio.begin(), ratio.end());
    const double e2e = EndToEndMs(*p, *paths[i], reps);
    std::printf("[%-11s] hash after decode %7.2f ms (%.2fx faster than scalar, quartiles %.2f-%.2f over %d interleaved "
                "rounds)   end to end %7.2f ms (%.3fx the floor)\n",
                impls[i]->name, Median(hash_ms[i]), Median(ratio), ratio[ratio.size() / 4],
                ratio[ratio.size() * 3 / 4], rounds, e2e, e2e / floor_ms);
  }
  const long peak = PeakBytes(self, *p);
  std::printf("%-44s %8.1f MB  (%.2fx the decoded RGB size of %.1f MB)\n", "peak RSS growth while hashing (fresh process)",
              peak / 1e6, peak / rgb, rgb / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  const char* env = std::getenv("HASHSCREEN_IMAGES");
  std::string dir = env && *env ? env : "/var/cache/hashscreen/images";
  int reps = 5;
  bool largest_only = false;
  if (argc == 3 && !std::strcmp(argv[1], "--peak")) return PeakMode(argv[2]);
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--images") && i + 1 < argc) dir = argv[++i];
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--largest")) largest_only = true;
    else {
      std::fprintf(stderr, "usage: hash_bench [--images DIR] [--reps N] [--largest]\n"
                           "DIR: output of scripts/fetch-test-images.sh --small DIR\n"
                           "--largest: only the largest photo (the 12 MP targets)\n");
      return 2;
    }
  }
  if (!std::ifstream(dir + "/MANIFEST.tsv")) {
    std::fprintf(stderr, "no image corpus at %s: run  sudo scripts/fetch-test-images.sh --small %s\n",
                 dir.c_str(), dir.c_str());
    return 1;
  }
  if (base::Status s = base::InitSimd(); !s.ok()) {
    std::fprintf(stderr, "hash_bench: %s\n", s.ToString().c_str());
    return 2;
  }
  std::printf("hash_bench: SIMD %s; PDQ kernels this CPU runs:", base::DescribeSimd().c_str());
  for (const auto* impl : PdqKernelFamily().Runnable()) std::printf(" %s", impl->name);
  std::printf("\n");
  const auto big = LoadSet(dir, "photos-2mp", 2.0, 1e9);
  const auto mid = LoadSet(dir, "photos", 1.0, 2.0);
  if (!largest_only) {
    RunSet(">= 2 MP", big, reps);
    RunSet("1-2 MP", mid, reps);
  }

  if (!big.empty()) RunLargest(argv[0], big, reps);
  return 0;
}
