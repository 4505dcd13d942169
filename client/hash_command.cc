// `hashscreen hash`: hashes image files locally, in parallel, printing one
// line per file in input order (DESIGN.md section 6). The default line is
// Meta's pdq-photo-hasher format, so existing tooling can read it.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/number_parse.h"

#include "client/command.h"
#include "base/hex.h"
#include "hashing/image_hasher.h"

namespace client {

namespace {

constexpr const char* kHelp = R"(usage: hashscreen hash [OPTIONS] FILE...

Hashes image files locally (nothing is sent anywhere) and prints one line per
file, in the order given:

  PDQ_HEX,QUALITY,FILE                       default (Meta's pdq-photo-hasher format)
  H0,H1,H2,H3,H4,H5,H6,H7,QUALITY,FILE       with --dihedral: orig, rot90, rot180,
                                             rot270, flipx, flipy, flipplus1, flipminus1
  {"file":..,"pdq":..,"quality":..,"md5":..,"sha256":..,"width":..,"height":..,"format":..}
                                             with --json (one object per line)

A file that cannot be hashed prints "FILE: reason" on stderr; the others go on
and the exit status is 1. Quality below 50 means the PDQ hash is unreliable
(flat or featureless image). "-" reads the image from standard input.

options:
  --mode full|cli512   full: full resolution, what partner lists (HMA, ThreatExchange,
                       StopNCII) hold (default). cli512: squash to 512x512 first, as
                       Meta's C++ pdq-photo-hasher does.
  --dihedral           print all 8 rotations/mirrorings of the hash
  --fast               decode JPEGs of 1024 pixels and more on each side at 1/2, 1/4
                       or 1/8 of their size (at least 512 on each side): 1.7x on
                       baseline photos of 8 MP and more, but the hash drifts from the exact
                       one by a few bits (docs/datasets.md "Fast decoding"); with
                       --json, "decode_scale" says which JPEGs were scaled
  --json               JSON lines, with MD5, SHA-256, size and format
  --jobs N             files hashed in parallel (default: number of cores)
  --max-pixels N       refuse images over N pixels (default 100000000)
  --max-bytes N        refuse files over N bytes (default 268435456)
  -h, --help           this text

environment:
  HASHSCREEN_SIMD=scalar|avx2|avx512   force a kernel path (default: the best the CPU has)

examples:
  hashscreen hash photo.jpg
  hashscreen hash --json --dihedral *.png > hashes.jsonl
)";

struct Options {
  hashing::HashOptions hash;
  bool json = false;
  unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::string> files;
};

bool ParseNumber(const std::string& s, uint64_t* out) { return base::ParseUint(s, "", 0, UINT64_MAX, out).ok(); }

// Returns an exit status when parsing ends the command (help, errors).
std::optional<int> ParseArgs(const std::vector<std::string>& args, Options* o) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* flag) -> const std::string* {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "hashscreen hash: %s needs a value\n", flag);
        return nullptr;
      }
      return &args[++i];
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (a == "--dihedral") {
      o->hash.dihedral = true;
    } else if (a == "--json") {
      o->json = true;
    } else if (a == "--fast") {
      o->hash.scaling.jpeg_min_side = hashing::kFastJpegMinSide;
    } else if (a == "--mode") {
      const std::string* v = value("--mode");
      if (!v) return 2;
      if (*v == "full") o->hash.mode = hashing::PdqMode::kFull;
      else if (*v == "cli512") o->hash.mode = hashing::PdqMode::kCli512;
      else {
        std::fprintf(stderr, "hashscreen hash: --mode is full or cli512, not '%s'\n", v->c_str());
        return 2;
      }
    } else if (a == "--jobs" || a == "--max-pixels" || a == "--max-bytes") {
      const std::string* v = value(a.c_str());
      uint64_t n = 0;
      if (!v) return 2;
      if (!ParseNumber(*v, &n) || n == 0) {
        std::fprintf(stderr, "hashscreen hash: %s takes a positive whole number, not '%s'\n", a.c_str(), v->c_str());
        return 2;
      }
      if (a == "--jobs") o->jobs = static_cast<unsigned>(std::min<uint64_t>(n, 256));
      else if (a == "--max-pixels") o->hash.limits.max_pixels = n;
      else o->hash.limits.max_bytes = n;
    } else if (a.size() > 1 && a[0] == '-' && a != "-") {
      std::fprintf(stderr, "hashscreen hash: unknown option '%s' (see --help)\n", a.c_str());
      return 2;
    } else {
      o->files.push_back(a);
    }
  }
  if (o->files.empty()) {
    std::fputs("hashscreen hash: no files given (see --help)\n", stderr);
    return 2;
  }
  return std::nullopt;
}

base::Status ReadInput(const std::string& path, uint64_t max_bytes, std::vector<uint8_t>* out) {
  if (path == "-") {
    out->assign(std::istreambuf_iterator<char>(std::cin), {});
    if (out->size() > max_bytes) return base::Status::TooLarge("standard input is over " + std::to_string(max_bytes) + " bytes");
    return base::Status::Ok();
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return base::Status::NotFound(std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return base::Status::InvalidArgument("is a directory");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return base::Status::TooLarge(std::to_string(st.st_size) + " bytes, over the limit of " + std::to_string(max_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::Status::IOError(std::strerror(errno));
  out->resize(static_cast<size_t>(st.st_size));  // one read, not a byte-by-byte stream
  if (!in.read(reinterpret_cast<char*>(out->data()), st.st_size)) return base::Status::IOError("short read");
  return base::Status::Ok();
}

std::string FormatLine(const Options& o, const std::string& file, const hashing::ImageHashes& h) {
  if (o.json) {
    nlohmann::json j;
    j["file"] = file;
    j["pdq"] = h.pdq[hashing::kOrig].ToHex();
    if (o.hash.dihedral) {
      auto& d = j["dihedral"] = nlohmann::json::array();
      for (const auto& v : h.pdq) d.push_back(v.ToHex());
    }
    j["quality"] = h.quality;
    j["md5"] = base::HexEncode(h.md5);
    j["sha256"] = base::HexEncode(h.sha256);
    j["width"] = h.width;
    j["height"] = h.height;
    j["format"] = h.format;
    if (h.decode_scale != 1) j["decode_scale"] = h.decode_scale;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::string line;
  const int n = o.hash.dihedral ? hashing::kNumDihedral : 1;
  for (int i = 0; i < n; ++i) line += h.pdq[i].ToHex() + ",";
  return line + std::to_string(h.quality) + "," + file + "\n";
}

}  // namespace

int RunHash(const std::vector<std::string>& args) {
  Options o;
  if (auto exit_code = ParseArgs(args, &o)) return *exit_code;

  // Workers take files in order; the printer emits results in input order as
  // soon as each next one is ready, so output streams on long runs.
  struct Result {
    bool done = false;
    std::string out, err;
  };
  std::vector<Result> results(o.files.size());
  std::mutex mu;
  std::condition_variable ready;
  size_t next_file = 0;
  auto work = [&] {
    for (;;) {
      size_t i;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (next_file == o.files.size()) return;
        i = next_file++;
      }
      Result r;
      std::vector<uint8_t> bytes;
      hashing::ImageHashes h;
      base::Status s = ReadInput(o.files[i], o.hash.limits.max_bytes, &bytes);
      if (s.ok()) s = hashing::HashImage(bytes, o.hash, &h);
      if (s.ok()) r.out = FormatLine(o, o.files[i], h);
      else r.err = o.files[i] + ": " + s.message() + "\n";
      {
        std::lock_guard<std::mutex> lock(mu);
        r.done = true;
        results[i] = std::move(r);
      }
      ready.notify_one();
    }
  };
  const unsigned workers = std::min<size_t>(o.jobs, o.files.size());
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < workers; ++t) threads.emplace_back(work);

  int status = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    Result r;
    {
      std::unique_lock<std::mutex> lock(mu);
      ready.wait(lock, [&] { return results[i].done; });
      r = std::move(results[i]);
    }
    if (!r.err.empty()) {
      std::fflush(stdout);
      std::fputs(r.err.c_str(), stderr);
      status = 1;
    } else {
      std::fputs(r.out.c_str(), stdout);
    }
  }
  for (auto& t : threads) t.join();
  return std::fflush(stdout) == 0 ? status : 1;
}

}  // namespace client
