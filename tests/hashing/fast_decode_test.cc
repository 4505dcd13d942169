// Fast decoding (hashing::DecodeScaling, `--fast`, screening.fast_jpeg):
// large JPEGs decode at a fraction of their size and hash close to the exact
// hash; everything else is exact; and nothing that exact decoding refuses
// gets through.
#include <doctest/doctest.h>

#include <vector>

#include "base/signal.h"
#include "hashing/image_hasher.h"
#include "tests/hashing/hostile_inputs.h"

using namespace hashing;
using hostile::Pixels;

namespace {

// The bridge photo (1600x1004) enlarged `factor` times by pixel repetition:
// a large photograph whose exact hash is known to be a good one.
const Pixels& Enlarged(int factor) {
  static std::vector<Pixels> cache(8);
  Pixels& out = cache[factor];
  if (out.width == 0) {
    const Pixels src = hostile::Decode(hostile::ConformanceImage("bridge-mods/aaa-orig.jpg"));
    out.width = src.width * factor;
    out.height = src.height * factor;
    out.channels = src.channels;
    out.data.resize(static_cast<size_t>(out.width) * out.height * out.channels);
    for (int y = 0; y < out.height; ++y) {
      for (int x = 0; x < out.width; ++x) {
        const uint8_t* s = src.at(x / factor, y / factor);
        std::copy(s, s + src.channels, out.data.data() + (static_cast<size_t>(y) * out.width + x) * out.channels);
      }
    }
  }
  return out;
}

HashOptions Options(bool fast, DecodeLimits limits = {}) {
  HashOptions o;
  o.dihedral = true;
  o.trim_borders = true;
  o.limits = limits;
  if (fast) o.scaling.jpeg_min_side = kFastJpegMinSide;
  return o;
}

}  // namespace

TEST_CASE("fast decoding: a large JPEG decodes at reduced size, keeps its dimensions, and hashes near the exact hash") {
  for (auto kind : {hostile::JpegKind::kBaseline, hostile::JpegKind::kProgressive}) {
    CAPTURE(static_cast<int>(kind));
    const std::vector<uint8_t> jpeg = hostile::WriteJpeg(Enlarged(3), kind);  // 4800x3012
    ImageHashes exact, fast;
    REQUIRE(HashImage(jpeg, Options(false), &exact).ok());
    REQUIRE(HashImage(jpeg, Options(true), &fast).ok());
    CHECK(exact.decode_scale == 1);
    CHECK(fast.decode_scale == 4);  // 1200x753: 1/8 would leave 377 rows, under 512
    CHECK(fast.width == 4800);
    CHECK(fast.height == 3012);
    CHECK(fast.md5 == exact.md5);
    CHECK(fast.sha256 == exact.sha256);
    CHECK(exact.quality >= 50);
    CHECK(fast.quality >= 50);
    for (int v = 0; v < kNumDihedral; ++v) {
      CAPTURE(v);
      const int d = base::Distance(exact.aligned[v], fast.aligned[v]);
      CHECK(d <= base::kDefaultPdqThreshold);
    }
    // Not the reference's pixels: were the bits equal, the scaling would not have happened.
    DecodedInfo info;
    struct Counter : PixelSink {
      int width = 0, height = 0;
      Status Start(int w, int h, int) override {
        width = w, height = h;
        return Status::Ok();
      }
      void Rows(int, int, const uint8_t*) override {}
    } sink;
    DecodeBudget budget(DecodeLimits{});
    REQUIRE(DecodeImage(jpeg, DecodeLimits{}, &budget, &sink, &info, DecodeScaling{kFastJpegMinSide}).ok());
    CHECK(info.scale == 4);
    CHECK(info.width == 4800);
    CHECK(sink.width == 1200);
    CHECK(sink.height == 753);
  }
}

TEST_CASE("fast decoding: small JPEGs and every other format hash exactly as without it") {
  std::vector<std::vector<uint8_t>> inputs = {
      hostile::ConformanceImage("bridge-mods/aaa-orig.jpg"),  // 1600x1004: 1/2 would leave 502 rows
      hostile::WritePng(Enlarged(3), hostile::PngKind::kPlain),
      hostile::WriteWebp(Enlarged(2), hostile::WebpKind::kLossless),
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    CAPTURE(i);
    ImageHashes exact, fast;
    REQUIRE(HashImage(inputs[i], Options(false), &exact).ok());
    REQUIRE(HashImage(inputs[i], Options(true), &fast).ok());
    CHECK(fast.decode_scale == 1);
    CHECK(fast.pdq == exact.pdq);
    CHECK(fast.aligned == exact.aligned);
    CHECK(fast.quality == exact.quality);
  }
}

TEST_CASE("fast decoding refuses what exact decoding refuses: truncation, the pixel limit, the compression bound") {
  const std::vector<uint8_t> jpeg = hostile::WriteJpeg(Enlarged(3), hostile::JpegKind::kProgressive);
  for (size_t cut : {jpeg.size() / 3, jpeg.size() / 2, jpeg.size() - 100, jpeg.size() - 2}) {
    CAPTURE(cut);
    const std::vector<uint8_t> part(jpeg.begin(), jpeg.begin() + static_cast<long>(cut));
    ImageHashes h;
    CHECK(HashImage(part, Options(false), &h).code() == Status::Code::kCorruption);
    CHECK(HashImage(part, Options(true), &h).code() == Status::Code::kCorruption);
  }
  DecodeLimits small;
  small.max_pixels = 10'000'000;  // the image has 14.5 MP; decoded at 1/4 it would have 0.9 MP
  ImageHashes h;
  CHECK(HashImage(jpeg, Options(true, small), &h).code() == Status::Code::kTooLarge);
  // A header claiming far more pixels than its bytes can hold.
  std::vector<uint8_t> liar = hostile::WriteJpeg(Enlarged(1), hostile::JpegKind::kBaseline);
  for (size_t i = 2; i + 9 < liar.size(); ++i) {
    if (liar[i] == 0xFF && liar[i + 1] == 0xC0) {  // SOF0: height at +5, width at +7
      liar[i + 5] = 0xFF, liar[i + 6] = 0xF0, liar[i + 7] = 0xFF, liar[i + 8] = 0xF0;
      break;
    }
  }
  CHECK(HashImage(liar, Options(true), &h).code() == HashImage(liar, Options(false), &h).code());
  CHECK(HashImage(liar, Options(true), &h).code() != Status::Code::kOk);
}
