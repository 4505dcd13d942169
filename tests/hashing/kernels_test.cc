// Every SIMD kernel agrees bit for bit with the scalar reference, and the
// streaming pipeline agrees bit for bit with a textbook transcription of the
// reference (two full-size buffers, four whole passes), on random sizes from
// 1 px to 2000 px a side: tiny images are where reordering or FMA would show.
#include <doctest/doctest.h>

#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "base/hex.h"
#include "hashing/jarosz_stream.h"
#include "hashing/luma_image.h"
#include "hashing/pdq_stream_hasher.h"
#include "hashing/pdq.h"
#include "hashing/pdq_dct_table.h"
#include "hashing/pdq_kernels.h"

using namespace hashing;

namespace {

// Every SIMD implementation this CPU can run (the registry's, scalar aside).
std::vector<const PdqKernels*> SimdKernels() {
  std::vector<const PdqKernels*> k;
  for (const auto& impl : PdqKernelFamily().all()) {
    if (impl.path == base::SimdPath::kScalar) continue;
    if (impl.Runnable()) k.push_back(impl.table);
    else MESSAGE("SKIP: this CPU lacks " << base::IsaSetNames(impl.isas & ~base::CpuIsas()) << " for " << impl.name);
  }
  return k;
}

std::string KernelName(const PdqKernels* k) {
  for (const auto& impl : PdqKernelFamily().all()) {
    if (impl.table == k) return impl.name;
  }
  return "?";
}

bool SameBits(const float* a, const float* b, size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

// A plausible photo-like luma plane: smooth gradients, edges and noise.
LumaImage RandomLuma(int w, int h, std::mt19937& rng) {
  LumaImage img;
  img.width = w, img.height = h;
  img.pixels = FloatBuffer(static_cast<size_t>(w) * h);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const float fx = u(rng) * 0.05f, fy = u(rng) * 0.05f, edge = u(rng) * w;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float v = 128.0f + 60.0f * std::sin(fx * x + fy * y * 1.7f) + (x > edge ? 40.0f : -40.0f) + 20.0f * u(rng);
      img.row(y)[x] = std::nearbyint(std::fmin(255.0f, std::fmax(0.0f, v)));  // integral, as real luma of grey input
    }
  return img;
}

LumaImage Copy(const LumaImage& a) {
  LumaImage b;
  b.width = a.width, b.height = a.height;
  b.pixels = FloatBuffer(a.pixels.size());
  std::memcpy(b.pixels.data(), a.pixels.data(), a.pixels.size() * sizeof(float));
  return b;
}

// Meta's jaroszFilterFloat + decimateFloat, transcribed literally.
void TextbookDownsample(const LumaImage& img, float out[64 * 64]) {
  const int W = img.width, H = img.height;
  std::vector<float> b1(img.pixels.data(), img.pixels.data() + img.pixels.size()), b2(b1.size());
  std::vector<float> col(H), col_out(H);
  const int wx = (W + 127) / 128, wy = (H + 127) / 128;
  for (int rep = 0; rep < 2; ++rep) {
    for (int i = 0; i < H; ++i) BoxFilter1D(&b1[static_cast<size_t>(i) * W], &b2[static_cast<size_t>(i) * W], W, wx);
    for (int j = 0; j < W; ++j) {
      for (int i = 0; i < H; ++i) col[i] = b2[static_cast<size_t>(i) * W + j];
      BoxFilter1D(col.data(), col_out.data(), H, wy);
      for (int i = 0; i < H; ++i) b1[static_cast<size_t>(i) * W + j] = col_out[i];
    }
  }
  for (int i = 0; i < 64; ++i) {
    const int ini = static_cast<int>(((i + 0.5) * H) / 64);
    for (int j = 0; j < 64; ++j) {
      const int inj = static_cast<int>(((j + 0.5) * W) / 64);
      out[i * 64 + j] = b1[static_cast<size_t>(ini) * W + inj];
    }
  }
}

}  // namespace

TEST_CASE("the DCT table is the reference's, bit for bit") {
  uint8_t md[32];
  unsigned len = 0;
  EVP_Digest(kPdqDct, sizeof kPdqDct, md, &len, EVP_sha256(), nullptr);
  CHECK(base::HexEncode(std::span<const uint8_t>(md, 32)) == "db354678fc6c99b7d442c35d8e89b002b71cb35eff6ae436c5f36392277a83c8");
}

TEST_CASE("luma coefficients and the grey rule") {
  CHECK(std::bit_cast<uint32_t>(kLumaR) == 0x3E991687u);
  CHECK(std::bit_cast<uint32_t>(kLumaG) == 0x3F1645A2u);
  CHECK(std::bit_cast<uint32_t>(kLumaB) == 0x3DE978D5u);
  // LumaBuilder::Finish relies on this to turn f(g) back into g exactly.
  int differs = 0;
  for (int g = 0; g < 256; ++g) {
    const float f = (kLumaR * g + kLumaG * g) + kLumaB * g;
    CHECK(std::nearbyint(f) == static_cast<float>(g));
    differs += f != static_cast<float>(g);
  }
  CHECK(differs == 35);  // why the grey path matters (conformance README 1.3)
}

TEST_CASE("the border detector's 8-bit luma: weights of 256, grey kept, the extremes") {
  static_assert(kLuma8R + kLuma8G + kLuma8B == 256);
  std::vector<const PdqKernels*> kernels = SimdKernels();
  kernels.push_back(&ScalarPdqKernels());
  for (const PdqKernels* k : kernels) {
    INFO(KernelName(k));
    // Every grey level, then the corners of the cube, in one row long enough
    // for every vector width.
    std::vector<uint8_t> rgb, want;
    for (int g = 0; g < 256; ++g) rgb.insert(rgb.end(), {uint8_t(g), uint8_t(g), uint8_t(g)}), want.push_back(uint8_t(g));
    for (int c = 0; c < 8; ++c) {
      const int r = c & 1 ? 255 : 0, g = c & 2 ? 255 : 0, b = c & 4 ? 255 : 0;
      rgb.insert(rgb.end(), {uint8_t(r), uint8_t(g), uint8_t(b)});
      want.push_back(uint8_t((77 * r + 150 * g + 29 * b + 128) >> 8));
    }
    std::vector<uint8_t> got(want.size());
    k->luma8_rgb(rgb.data(), want.size(), got.data());
    CHECK(got == want);
  }
}

TEST_CASE("SIMD luma, box filter, column sums, fused column and row passes and DCT equal the scalar kernels bit for bit") {
  const PdqKernels& s = ScalarPdqKernels();
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> val(-300.0f, 300.0f);
  for (const PdqKernels* k : SimdKernels()) {
    INFO(KernelName(k));
    for (size_t n : {0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1001}) {
      std::vector<uint8_t> rgb(3 * n);
      for (auto& b : rgb) b = static_cast<uint8_t>(byte(rng));
      std::vector<uint8_t> y8_k(n + 1, 7), y8_s(n + 1, 7);
      k->luma8_rgb(rgb.data(), n, y8_k.data());
      s.luma8_rgb(rgb.data(), n, y8_s.data());
      CHECK(y8_k == y8_s);  // the sentinel past n untouched too
      std::vector<float> a(n + 1), b(n + 1);
      CHECK(k->luma_rgb(rgb.data(), n, a.data()) == s.luma_rgb(rgb.data(), n, b.data()));
      CHECK(SameBits(a.data(), b.data(), n));
      for (size_t i = 0; i < n; ++i) rgb[3 * i + 1] = rgb[3 * i + 2] = rgb[3 * i];
      CHECK(k->luma_rgb(rgb.data(), n, a.data()));
      CHECK(s.luma_rgb(rgb.data(), n, b.data()));
      CHECK(SameBits(a.data(), b.data(), n));
      k->luma_grey(rgb.data(), n, a.data());
      s.luma_grey(rgb.data(), n, b.data());
      CHECK(SameBits(a.data(), b.data(), n));
    }
    for (int trial = 0; trial < 60; ++trial) {
      const size_t len = 1 + rng() % 700, rows = 1 + rng() % 40;
      const int window = 1 + static_cast<int>(rng() % len);
      FloatBuffer in(rows * len), out_s(rows * len), out_k(rows * len), scratch(BoxRowsScratchFloats(len));
      for (size_t i = 0; i < in.size(); ++i) in.data()[i] = val(rng);
      s.box_rows(in.data(), len, out_s.data(), len, rows, len, window, scratch.data());
      k->box_rows(in.data(), len, out_k.data(), len, rows, len, window, scratch.data());
      INFO("box_rows len " << len << " rows " << rows << " window " << window);
      CHECK(SameBits(out_s.data(), out_k.data(), rows * len));
      k->box_rows(in.data(), len, in.data(), len, rows, len, window, scratch.data());  // in place
      CHECK(SameBits(out_s.data(), in.data(), rows * len));

      std::vector<float> sum_s(len), sum_k(len), add(len), sub(len), o_s(len), o_k(len);
      for (size_t i = 0; i < len; ++i) sum_s[i] = sum_k[i] = val(rng), add[i] = val(rng), sub[i] = val(rng);
      for (int mask = 0; mask < 8; ++mask) {
        const float* a = mask & 4 ? add.data() : nullptr;
        const float* b = mask & 2 ? sub.data() : nullptr;
        s.column_step(sum_s.data(), a, b, mask & 1 ? o_s.data() : nullptr, 3.0f, len);
        k->column_step(sum_k.data(), a, b, mask & 1 ? o_k.data() : nullptr, 3.0f, len);
        CHECK(SameBits(sum_s.data(), sum_k.data(), len));
        if (mask & 1) CHECK(SameBits(o_s.data(), o_k.data(), len));
      }
    }
    for (int trial = 0; trial < 60; ++trial) {
      // column_rows_sampled: rows with and without an add or a subtract (the
      // image edges), varying counts, 1..16 rows, any length and window.
      const size_t len = 1 + rng() % 700;
      const int nrows = trial % 3 == 0 ? 16 : 1 + static_cast<int>(rng() % 16);
      const int window = 1 + static_cast<int>(rng() % std::min<size_t>(len, 60));
      const bool steady = trial % 2 == 0;  // every row adds and subtracts, one count: the kernels' fast path
      std::vector<std::vector<float>> add_rows(16, std::vector<float>(len)), sub_rows = add_rows;
      const float* add[16];
      const float* sub[16];
      float counts[16];
      for (int r = 0; r < 16; ++r) {
        for (size_t i = 0; i < len; ++i) add_rows[r][i] = val(rng), sub_rows[r][i] = val(rng);
        add[r] = steady || rng() % 4 ? add_rows[r].data() : nullptr;
        sub[r] = steady || rng() % 4 ? sub_rows[r].data() : nullptr;
        counts[r] = steady ? 7.0f : static_cast<float>(1 + rng() % 30);
      }
      int samples[64];
      for (int& c : samples) c = static_cast<int>(rng() % len);
      std::sort(samples, samples + 64);
      std::vector<float> sum_s(len), sum_k(len);
      for (size_t i = 0; i < len; ++i) sum_s[i] = sum_k[i] = val(rng);
      FloatBuffer t_s(64 * 16), t_k(64 * 16), scratch(ColumnRowsScratchFloats(len));
      std::fill(t_s.data(), t_s.data() + 64 * 16, 0.0f);
      std::fill(t_k.data(), t_k.data() + 64 * 16, 0.0f);
      s.column_rows_sampled(sum_s.data(), add, sub, counts, nrows, len, window, samples, 64, t_s.data(), 16,
                            scratch.data());
      k->column_rows_sampled(sum_k.data(), add, sub, counts, nrows, len, window, samples, 64, t_k.data(), 16,
                             scratch.data());
      INFO("column_rows_sampled len " << len << " rows " << nrows << " window " << window << " steady " << steady);
      CHECK(SameBits(sum_s.data(), sum_k.data(), len));
      CHECK(SameBits(t_s.data(), t_k.data(), 64 * 16));  // rows past nrows stay untouched (0) in both
    }
    alignas(64) float a[4096], bs[256], bk[256];
    for (int trial = 0; trial < 20; ++trial) {
      for (float& x : a) x = val(rng);
      s.dct64_to_16(a, bs);
      k->dct64_to_16(a, bk);
      CHECK(SameBits(bs, bk, 256));
    }
  }
}

TEST_CASE("the streaming pipeline equals the textbook reference, and every path agrees, on random sizes") {
  std::mt19937 rng(42);
  std::vector<std::pair<int, int>> sizes = {{1, 1},   {4, 4},    {5, 5},    {5, 2000}, {2000, 5},  {63, 64},
                                            {64, 64}, {65, 65},  {127, 128}, {129, 130}, {1, 2000}, {2000, 1},
                                            {513, 512}, {17, 1999}};
  while (sizes.size() < 50) {
    const int w = 1 + static_cast<int>(rng() % 2000), h = 1 + static_cast<int>(rng() % 2000);
    if (static_cast<long>(w) * h <= 1'500'000) sizes.push_back({w, h});
  }
  const PdqKernels& scalar = ScalarPdqKernels();
  const auto simd = SimdKernels();
  for (auto [w, h] : sizes) {
    INFO(w << "x" << h);
    const LumaImage img = RandomLuma(w, h, rng);
    if (w >= 5 && h >= 5) {
      alignas(64) float ref[4096], got[4096];
      TextbookDownsample(img, ref);
      PdqDownsample64(Copy(img), scalar, got);
      CHECK(SameBits(ref, got, 4096));
      for (const PdqKernels* k : simd) {
        PdqDownsample64(Copy(img), *k, got);
        CHECK(SameBits(ref, got, 4096));
      }
      for (const PdqKernels* k : simd) {  // the streaming form the service uses
        JaroszStream stream(w, h, *k);
        for (int y = 0; y < h; ++y) {
          std::memcpy(stream.NextRow(), img.row(y), sizeof(float) * w);
          stream.RowDone();
        }
        stream.Finish(got);
        CHECK(SameBits(ref, got, 4096));
      }
    }
    for (PdqMode mode : {PdqMode::kFull, PdqMode::kCli512}) {
      const PdqResult want = ComputePdq(Copy(img), mode, true, scalar);
      for (const PdqKernels* k : simd) {
        const PdqResult got = ComputePdq(Copy(img), mode, true, *k);
        CHECK(got.quality == want.quality);
        for (int d = 0; d < kNumDihedral; ++d) CHECK(got.hashes[d] == want.hashes[d]);
      }
    }
  }
}

TEST_CASE("the grey rule through the streaming hasher: grey content in RGB hashes like grey") {
  std::mt19937 rng(5);
  for (auto [w, h] : std::vector<std::pair<int, int>>{{300, 200}, {77, 1200}, {64, 64}, {1000, 16}}) {
    INFO(w << "x" << h);
    std::vector<uint8_t> grey(static_cast<size_t>(w) * h), rgb(3 * grey.size());
    for (size_t i = 0; i < grey.size(); ++i) {
      grey[i] = static_cast<uint8_t>((i % w) * 255 / w ^ (rng() % 64));
      rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i];
    }
    for (const PdqKernels* k : {&ScalarPdqKernels(), &ActivePdqKernels()}) {
      auto hash = [&](const std::vector<uint8_t>& px, int channels) {
        PdqStreamHasher hasher(*k, PdqMode::kFull, true);
        REQUIRE(hasher.Start(w, h, channels).ok());
        for (int y = 0; y < h; y += 7) hasher.Rows(y, std::min(7, h - y), px.data() + static_cast<size_t>(y) * w * channels);
        return hasher.Finish();
      };
      auto plane = [&](const std::vector<uint8_t>& px, int channels) {
        LumaBuilder b(*k);
        REQUIRE(b.Start(w, h, channels).ok());
        b.Rows(0, h, px.data());
        return ComputePdq(b.Finish(), PdqMode::kFull, true, *k);
      };
      const PdqResult g = hash(grey, 1), c = hash(rgb, 3);
      CHECK(g.hashes == c.hashes);
      CHECK(g.quality == c.quality);
      CHECK(plane(rgb, 3).hashes == c.hashes);
      // One colour pixel in the last row: now the RGB formula applies everywhere.
      rgb[rgb.size() - 1] ^= 1;
      const PdqResult colour = hash(rgb, 3), colour_plane = plane(rgb, 3);
      CHECK(colour.hashes == colour_plane.hashes);
      CHECK(colour.quality == colour_plane.quality);
      rgb[rgb.size() - 1] ^= 1;
    }
  }
}
