// PDQ conformance against Meta's reference (tests/data/pdq): every
// vector, every SIMD path this CPU has, both modes, all 8 dihedral variants,
// quality, and the decoded pixels of every row that records them.
#include <doctest/doctest.h>

#include <openssl/evp.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "base/hex.h"
#include "hashing/image_decoder.h"
#include "hashing/image_hasher.h"
#include "hashing/pdq_kernels.h"
#include "tests/test_support.h"

namespace {

using namespace hashing;
namespace ts = testing_support;

struct Vector {
  std::map<std::string, std::string> f;
  const std::string& operator[](const std::string& k) const { return f.at(k); }
};

std::vector<Vector> LoadVectors() {
  std::vector<Vector> rows;
  const auto path = ts::PdqDataDir() / "pdq-vectors.tsv";
  if (!ts::RequireData(path, "tests/data/pdq is part of the repository")) return rows;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> names;
  for (std::stringstream ss(line); std::getline(ss, line, '\t');) names.push_back(line);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Vector v;
    std::stringstream ss(line);
    std::string cell;
    for (const auto& n : names) {
      cell.clear();
      std::getline(ss, cell, '\t');
      v.f[n] = cell;
    }
    rows.push_back(std::move(v));
  }
  return rows;
}

// Collects decoded pixels and renders them as ImageMagick's PNM writer would
// (P4 bilevel, P5 grey, P6 colour, chosen from the content), for pixels_md5.
class PnmSink : public PixelSink {
 public:
  Status Start(int w, int h, int c) override {
    w_ = w, h_ = h, c_ = c;
    px_.assign(static_cast<size_t>(w) * h * c, 0);
    return Status::Ok();
  }
  void Rows(int y, int n, const uint8_t* d) override {
    std::memcpy(px_.data() + static_cast<size_t>(y) * w_ * c_, d, static_cast<size_t>(n) * w_ * c_);
  }
  std::string Md5(std::string* type) const {
    bool grey = true, bilevel = true;
    const size_t n = static_cast<size_t>(w_) * h_;
    std::vector<uint8_t> g(n);
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* p = px_.data() + i * c_;
      if (c_ == 3 && !(p[0] == p[1] && p[1] == p[2])) grey = false;
      g[i] = p[0];
      if (p[0] != 0 && p[0] != 255) bilevel = false;
    }
    std::string header;
    std::vector<uint8_t> body;
    if (!grey) {
      *type = "P6";
      header = "P6\n" + std::to_string(w_) + " " + std::to_string(h_) + "\n255\n";
      body = px_;
    } else if (bilevel) {
      *type = "P4";  // 1 = black, rows padded to whole bytes
      header = "P4\n" + std::to_string(w_) + " " + std::to_string(h_) + "\n";
      const size_t stride = (w_ + 7) / 8;
      body.assign(stride * h_, 0);
      for (int y = 0; y < h_; ++y)
        for (int x = 0; x < w_; ++x)
          if (g[static_cast<size_t>(y) * w_ + x] == 0) body[y * stride + x / 8] |= static_cast<uint8_t>(0x80 >> (x % 8));
    } else {
      *type = "P5";
      header = "P5\n" + std::to_string(w_) + " " + std::to_string(h_) + "\n255\n";
      body = g;
    }
    std::vector<uint8_t> all(header.begin(), header.end());
    all.insert(all.end(), body.begin(), body.end());
    uint8_t md[16];
    unsigned len = 0;
    EVP_Digest(all.data(), all.size(), md, &len, EVP_md5(), nullptr);
    return base::HexEncode(std::span<const uint8_t>(md, 16));
  }

 private:
  int w_ = 0, h_ = 0, c_ = 0;
  std::vector<uint8_t> px_;
};

const char* kVariantColumns[] = {"pdq_cli512", "rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1", "flipminus1"};

}  // namespace

// With trim_borders the untrimmed hashes must stay the reference's bits: the
// border detector only watches the rows, and a trimmed picture is hashed in
// a second pass of its own.
TEST_CASE("conformance: every vector, every SIMD path, both modes, all 8 dihedral variants, trimming off and on") {
  const auto rows = LoadVectors();
  if (rows.empty()) return;
  CHECK(rows.size() >= 81);
  // The trimmed picture (rectangle and hashes) per file and mode, from the
  // first path (the scalar reference); every other path must find the same.
  std::map<std::string, std::string> trimmed_by_first;
  for (const auto& impl : PdqKernelFamily().all()) {
    if (!impl.Runnable()) {
      MESSAGE("SKIP: this CPU lacks " << base::IsaSetNames(impl.isas & ~base::CpuIsas()) << "; " << impl.name
                                      << " is not checked here");
      continue;
    }
    for (const auto& row : rows) {
      const auto bytes = ts::ReadFile(ts::PdqDataDir() / row["file"]);
      for (auto [mode, trim] : {std::pair{PdqMode::kFull, false}, std::pair{PdqMode::kCli512, false},
                                std::pair{PdqMode::kFull, true}, std::pair{PdqMode::kCli512, true}}) {
        HashOptions options;
        options.mode = mode;
        options.dihedral = true;
        options.trim_borders = trim;
        options.kernels = impl.table;
        ImageHashes h;
        const bool full = mode == PdqMode::kFull;
        INFO(row["file"] << " " << impl.name << (full ? " full" : " cli512") << (trim ? " trim" : ""));
        REQUIRE(HashImage(bytes, options, &h).ok());
        CHECK(h.width == std::stoi(row["width"]));
        CHECK(h.height == std::stoi(row["height"]));
        CHECK(h.pdq[kOrig].ToHex() == row[full ? "pdq_full" : "pdq_cli512"]);
        CHECK(h.quality == std::stoi(row[full ? "quality_full" : "quality_cli512"]));
        if (trim) {
          std::string t = h.trimmed.present ? "" : "none";
          if (h.trimmed.present) {
            const TrimRect& r = h.trimmed.rect;
            t = std::to_string(r.left) + "," + std::to_string(r.top) + "," + std::to_string(r.width) + "x" +
                std::to_string(r.height);
            for (const auto& p : h.trimmed.pdq) t += " " + p.ToHex();
          }
          const auto [it, first] = trimmed_by_first.try_emplace(row["file"] + (full ? " full" : " cli512"), t);
          if (!first) CHECK(t == it->second);
        }
        if (!full) {
          for (int d = kRot90; d < kNumDihedral; ++d) {
            INFO("variant " << kVariantColumns[d]);
            CHECK(h.pdq[d].ToHex() == row[kVariantColumns[d]]);
          }
        }
      }
    }
  }
}

TEST_CASE("conformance: decoded pixels equal the reference decoder's (pixels_md5)") {
  const auto rows = LoadVectors();
  int checked = 0;
  for (const auto& row : rows) {
    if (row["pixels_md5"].empty()) continue;
    INFO(row["file"]);
    const auto bytes = ts::ReadFile(ts::PdqDataDir() / row["file"]);
    PnmSink sink;
    DecodedInfo info;
    REQUIRE(DecodeImage(bytes, DecodeLimits(), &sink, &info).ok());
    std::string type;
    CHECK(sink.Md5(&type) == row["pixels_md5"]);
    CHECK(type == row["pixels"]);
    ++checked;
  }
  if (!rows.empty()) CHECK(checked >= 40);
}

TEST_CASE("hash without dihedral gives the same orig hash and quality") {
  const auto rows = LoadVectors();
  for (const auto& row : rows) {
    const auto bytes = ts::ReadFile(ts::PdqDataDir() / row["file"]);
    ImageHashes h;
    REQUIRE(HashImage(bytes, HashOptions(), &h).ok());
    CHECK(h.pdq[kOrig].ToHex() == row["pdq_full"]);
    CHECK(h.pdq[kRot90].IsZero());  // not computed
  }
}
