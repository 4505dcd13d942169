// Border trimming (BorderDetector, CropSink, HashOptions::trim_borders) and a
// small fixed subset of the robustness benchmark's transforms
// (bench/robustness/transforms.h) on conformance photos: what the extra query
// must find, what it must leave alone, and that it changes no untrimmed bit.
// The full table over the corpus is bench/robustness (docs/robustness.md).
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/signal.h"
#include "bench/robustness/transforms.h"
#include "hashing/border_detector.h"
#include "hashing/decode_budget.h"
#include "hashing/image_decoder.h"
#include "hashing/image_hasher.h"
#include "hashing/pdq_stream_hasher.h"
#include "hashing/sink_adapters.h"
#include "tests/test_support.h"

namespace {

using namespace hashing;
namespace rb = robustness;
namespace ts = testing_support;

constexpr int kThreshold = base::kDefaultPdqThreshold;
constexpr int kMinQuality = 50;

// Photos of the conformance set with quality 100: 1600x1004 (JPEG), 924x735
// (PNG) and 256x256 (JPEG; PDQ's filter window is 2 there, so the aligned
// dihedral variants matter). None has a border of its own.
const char* kPhotos[] = {"bridge-mods/aaa-orig.jpg", "reg-test-input/pen-and-coaster.png",
                         "reg-test-input/labelme-subset/q1050.jpg"};
// A 256x256 photo with a grey bar of its own down the left side.
const char* kBarredPhoto = "reg-test-input/labelme-subset/q0291.jpg";
// A 256x256 photo of fine texture without a border.
const char* kTexturePhoto = "reg-test-input/labelme-subset/q0122.jpg";

ts::fs::path Photo(const char* name) { return ts::PdqDataDir() / "images" / name; }

rb::Image Decoded(const ts::fs::path& path) {
  const auto bytes = ts::ReadFile(path);
  rb::Image image;
  REQUIRE(rb::DecodeToRgb(bytes, &image).ok());
  return image;
}

std::vector<uint8_t> Png(const rb::Image& image) {
  std::vector<uint8_t> out;
  REQUIRE(rb::EncodePng(image, &out).ok());
  return out;
}

ImageHashes Hash(const std::vector<uint8_t>& bytes, bool trim) {
  HashOptions o;
  o.dihedral = true;
  o.trim_borders = trim;
  ImageHashes h;
  REQUIRE(HashImage(bytes, o, &h).ok());
  return h;
}

std::optional<TrimRect> Detect(const rb::Image& image, BorderTrimOptions options = {}) {
  BorderDetector d(options);
  REQUIRE(d.Start(image.width, image.height, 3).ok());
  // In chunks of 16 rows, as the JPEG decoder delivers them.
  for (int y = 0; y < image.height; y += 16) d.Rows(y, std::min(16, image.height - y), image.at(0, y));
  return d.Result();
}

// The closest of a set's hashes to `list`, if the set's quality passes the
// server's minimum; 257 otherwise.
int SetDistance(const std::array<base::PdqHash, kNumDihedral>& set, int quality, const base::PdqHash& list) {
  int best = 257;
  if (quality >= kMinQuality) {
    for (const auto& p : set) best = std::min(best, base::Distance(p, list));
  }
  return best;
}

// What the server queried before issue 14: the reference's 8 variants.
int OldQueryDistance(const ImageHashes& h, const base::PdqHash& list) { return SetDistance(h.pdq, h.quality, list); }

// What it queries now: the aligned variants, and those of the picture inside
// the borders when there are borders (server/screener.cc).
int NewQueryDistance(const ImageHashes& h, const base::PdqHash& list) {
  int d = SetDistance(h.aligned, h.quality, list);
  if (h.trimmed.present) d = std::min(d, SetDistance(h.trimmed.aligned, h.trimmed.quality, list));
  return d;
}

}  // namespace

TEST_CASE("border detector: frames, one-sided and asymmetric bars, in every colour, found to the pixel") {
  if (!ts::RequireData(Photo(kPhotos[0]), "tests/data/pdq is part of the repository")) return;
  const rb::Image photo = Decoded(Photo(kPhotos[0]));
  struct Case {
    int left, top, right, bottom;
  };
  const Case cases[] = {{160, 100, 160, 100}, {0, 167, 0, 167}, {267, 0, 267, 0}, {30, 0, 50, 12},
                        {0, 0, 0, 120},        {0, 90, 0, 0},     {0, 0, 40, 0},     {200, 300, 5, 60}};
  for (rb::Rgb colour : {rb::Rgb{0, 0, 0}, rb::Rgb{255, 255, 255}, rb::Rgb{30, 110, 200}}) {
    for (const Case& c : cases) {
      CAPTURE(c.left);
      CAPTURE(c.top);
      CAPTURE(c.right);
      CAPTURE(c.bottom);
      CAPTURE(int(colour.g));
      const auto rect = Detect(rb::AddBorder(photo, c.left, c.top, c.right, c.bottom, colour));
      REQUIRE(rect);
      CHECK(*rect == TrimRect{c.left, c.top, photo.width, photo.height});
    }
  }
}

TEST_CASE("border detector: nothing for a photo, one colour, a thin frame, or too little inside") {
  if (!ts::RequireData(Photo(kPhotos[0]), "tests/data/pdq is part of the repository")) return;
  const rb::Image photo = Decoded(Photo(kPhotos[0]));
  for (const char* name : kPhotos) CHECK_FALSE(Detect(Decoded(Photo(name))));
  CHECK_FALSE(Detect(Decoded(Photo(kTexturePhoto))));
  // A photo with a bar of its own: found (the bar is 10-12 px of grey).
  const auto own = Detect(Decoded(Photo(kBarredPhoto)));
  REQUIRE(own);
  CHECK(own->left >= 10);
  CHECK(own->left <= 13);
  CHECK(own->top == 0);
  CHECK(own->width == 256 - own->left);
  CHECK(own->height == 256);
  CHECK_FALSE(Detect(rb::Image(300, 200, {40, 40, 40})));  // uniform: no picture inside
  // 1% of the width in all: not worth a second hash (min_trim is 2%).
  CHECK_FALSE(Detect(rb::AddBorder(photo, 8, 5, 8, 5, {0, 0, 0})));
  // A 40x40 picture in a 1000x1000 canvas keeps 4% of each side (< min_keep).
  const rb::Image small = rb::Resize(photo, 40, 40);
  CHECK_FALSE(Detect(rb::AddBorder(small, 480, 480, 480, 480, {255, 255, 255})));
  // Inside the limits it is found; below kMinSide pixels it is not.
  CHECK(Detect(rb::AddBorder(small, 100, 100, 100, 100, {255, 255, 255})));
  CHECK_FALSE(Detect(rb::AddBorder(rb::Resize(photo, 31, 31), 40, 40, 40, 40, {255, 255, 255})));
  // Bars of different colours left and right meet only in the colour of the
  // top-left / top-right corners: each side is judged against its own.
  CHECK(Detect(rb::AddBorder(rb::AddBorder(photo, 100, 0, 0, 0, {0, 0, 0}), 0, 0, 100, 0, {255, 255, 255})) ==
        TrimRect{100, 0, photo.width, photo.height});
}

TEST_CASE("border detector: tolerance takes noisy bars, not a different picture") {
  if (!ts::RequireData(Photo(kPhotos[1]), "tests/data/pdq is part of the repository")) return;
  const rb::Image photo = Decoded(Photo(kPhotos[1]));
  const rb::Image bordered = rb::AddBorder(photo, 40, 40, 40, 40, {128, 128, 128});
  // Noise of sigma 3 passes 16 levels somewhere along a 700-pixel line, so
  // the strict bar ends early; its mean deviation (~4) finds the edge again.
  const auto noisy = Detect(rb::AddNoise(bordered, 3, 7));
  REQUIRE(noisy);
  CHECK(std::abs(noisy->left - 40) <= 1);
  CHECK(std::abs(noisy->top - 40) <= 1);
  CHECK(std::abs(noisy->width - photo.width) <= 2);
  CHECK(std::abs(noisy->height - photo.height) <= 2);
  CHECK_FALSE(Detect(rb::AddNoise(bordered, 40, 7)));  // not a uniform bar any more
  BorderTrimOptions exact;
  exact.tolerance = 0;
  CHECK(Detect(bordered, exact) == TrimRect{40, 40, photo.width, photo.height});
  CHECK_FALSE(Detect(rb::AddNoise(bordered, 3, 7), exact));
}

// A JPEG blurs a bar's edge over the 8x8 block it crosses (and, in colour,
// the 16x16 one), more at lower quality; the edge lines are found by their
// mean deviation. Bars of 37 and 45 px cross blocks; within a pixel is what
// PDQ needs (docs/robustness.md: a 2% crop already loses ~40% of matches).
TEST_CASE("border detector: a JPEG-compressed bar's blurred edge is found to within a pixel") {
  if (!ts::RequireData(Photo(kPhotos[0]), "tests/data/pdq is part of the repository")) return;
  const rb::Image photo = Decoded(Photo(kPhotos[0]));
  for (int quality : {90, 70, 50, 30}) {
    for (rb::Rgb colour : {rb::Rgb{0, 0, 0}, rb::Rgb{255, 255, 255}, rb::Rgb{30, 110, 200}}) {
      CAPTURE(quality);
      CAPTURE(int(colour.b));
      std::vector<uint8_t> jpeg;
      REQUIRE(rb::EncodeJpeg(rb::AddBorder(photo, 37, 45, 37, 45, colour), quality, &jpeg).ok());
      rb::Image decoded;
      REQUIRE(rb::DecodeToRgb(jpeg, &decoded).ok());
      const auto rect = Detect(decoded);
      REQUIRE(rect);
      CHECK(std::abs(rect->left - 37) <= 1);
      CHECK(std::abs(rect->top - 45) <= 1);
      CHECK(std::abs(rect->width - photo.width) <= 2);
      CHECK(std::abs(rect->height - photo.height) <= 2);
    }
  }
}

// A caption bar (rb::AddCaptionBar: a white bar of 10% of the height with a
// line of black text in the middle) is trimmed whole, above or below the
// picture; with captions off only its outer margin would be. What is not a
// caption's shape adds nothing to the bar rules: a bar taller than
// max_caption, a page of text with no picture, a speck in a bar.
TEST_CASE("border detector: caption bars with text, above or below, to the pixel and through JPEG") {
  BorderTrimOptions off;
  off.captions = false;
  for (const char* name : {kPhotos[0], kPhotos[1], kPhotos[2]}) {
    if (!ts::RequireData(Photo(name), "tests/data/pdq is part of the repository")) return;
    const rb::Image photo = Decoded(Photo(name));
    for (bool top : {false, true}) {
      const std::string photo_name = name;
      CAPTURE(photo_name);
      CAPTURE(top);
      const rb::Image captioned = rb::AddCaptionBar(photo, 0.10, top);
      const int bar = captioned.height - photo.height;
      const TrimRect inside{0, top ? bar : 0, photo.width, photo.height};
      const auto rect = Detect(captioned);
      REQUIRE(rect);
      CHECK(*rect == inside);
      const auto without = Detect(captioned, off);
      CHECK((!without || without->height > photo.height));
      for (int quality : {90, 50}) {
        CAPTURE(quality);
        std::vector<uint8_t> jpeg;
        REQUIRE(rb::EncodeJpeg(captioned, quality, &jpeg).ok());
        rb::Image decoded;
        REQUIRE(rb::DecodeToRgb(jpeg, &decoded).ok());
        const auto blurred = Detect(decoded);
        REQUIRE(blurred);
        CHECK(std::abs(blurred->top - inside.top) <= 1);
        CHECK(std::abs(blurred->height - inside.height) <= 1);
        CHECK(blurred->width == photo.width);
      }
      // A bar of 37.5% of the height is over max_caption (a third).
      const rb::Image tall = rb::AddCaptionBar(photo, 0.60, top);
      CHECK(Detect(tall) == Detect(tall, off));
    }
  }
  // A page of text lines with no picture: the caption never ends.
  rb::Image page(800, 600, {255, 255, 255});
  for (int y = 60; y < 560; y += 50) rb::DrawText(&page, 40, y, 3, "LINES OF TEXT ON A PAGE", {0, 0, 0});
  CHECK(Detect(page) == Detect(page, off));
  // A speck in a bar is not text (under 2% of a row is ink).
  if (!ts::RequireData(Photo(kPhotos[1]), "tests/data/pdq is part of the repository")) return;
  rb::Image specked = rb::AddBorder(Decoded(Photo(kPhotos[1])), 0, 90, 0, 0, {255, 255, 255});
  for (int y = 40; y < 46; ++y) {
    for (int x = 400; x < 406; ++x) {
      uint8_t* p = specked.at(x, y);
      p[0] = p[1] = p[2] = 0;
    }
  }
  CHECK(Detect(specked) == Detect(specked, off));
}

TEST_CASE("border detector: grey images and refusals") {
  BorderDetector d({});
  CHECK(d.Start(10, 10, 4).code() == base::Status::Code::kUnsupported);
  // Grey (1 channel): a 200x100 gradient inside a black frame of 20.
  std::vector<uint8_t> grey(240 * 140, 0);
  for (int y = 0; y < 100; ++y) {
    for (int x = 0; x < 200; ++x) grey[(y + 20) * 240 + x + 20] = static_cast<uint8_t>(30 + x);
  }
  BorderDetector g({});
  REQUIRE(g.Start(240, 140, 1).ok());
  g.Rows(0, 140, grey.data());
  CHECK(g.Result() == TrimRect{20, 20, 200, 100});
  // Rows missing (a decoder stopped early): no answer rather than a wrong one.
  BorderDetector partial({});
  REQUIRE(partial.Start(240, 140, 1).ok());
  partial.Rows(0, 100, grey.data());
  CHECK_FALSE(partial.Result());
}

TEST_CASE("crop sink: exactly the rectangle, as if decoded alone, and a rectangle outside is refused") {
  if (!ts::RequireData(Photo(kPhotos[0]), "tests/data/pdq is part of the repository")) return;
  const rb::Image photo = Decoded(Photo(kPhotos[0]));
  const auto bytes = Png(photo);
  const TrimRect rect{123, 77, 901, 655};
  PdqStreamHasher cropped(ActivePdqKernels(), PdqMode::kFull, true);
  CropSink crop(&cropped, rect);
  DecodedInfo info;
  REQUIRE(DecodeImage(bytes, DecodeLimits(), &crop, &info).ok());
  const PdqResult got = cropped.Finish();
  const ImageHashes want = Hash(Png(rb::Crop(photo, rect.left, rect.top, rect.width, rect.height)), false);
  CHECK(got.hashes == want.pdq);
  CHECK(got.quality == want.quality);

  for (const TrimRect bad : {TrimRect{-1, 0, 10, 10}, TrimRect{0, 0, 0, 10}, TrimRect{1500, 0, 101, 10},
                             TrimRect{0, 1000, 10, 5}}) {
    PdqStreamHasher h(ActivePdqKernels(), PdqMode::kFull, false);
    CropSink c(&h, bad);
    CHECK(DecodeImage(bytes, DecodeLimits(), &c, &info).code() == base::Status::Code::kInvalidArgument);
  }
}

TEST_CASE("decodes sharing one budget share its deadline and its memory (HashImage's trimmed pass)") {
  if (!ts::RequireData(Photo(kPhotos[1]), "tests/data/pdq is part of the repository")) return;
  const auto bytes = Png(rb::AddBorder(Decoded(Photo(kPhotos[1])), 60, 40, 60, 40, {0, 0, 0}));
  struct : PixelSink {
    Status Start(int, int, int) override { return Status::Ok(); }
    void Rows(int, int, const uint8_t*) override {}
  } sink;
  DecodedInfo info;

  // A deadline a first decode has used up refuses the next decode at once,
  // however small it is (no progress hook need read the clock).
  DecodeLimits quick;
  quick.max_decode_ms = 1;
  DecodeBudget spent(quick);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const base::Status late = DecodeImage(bytes, quick, &spent, &sink, &info);
  CHECK(late.code() == base::Status::Code::kTooLarge);
  CHECK(late.message().find("limits.max_decode_ms") != std::string::npos);

  // Memory another decode still holds counts against this one.
  REQUIRE(DecodeImage(bytes, DecodeLimits(), &sink, &info).ok());
  const uint64_t one_decode = info.peak_memory;
  REQUIRE(one_decode > 0);
  DecodeLimits tight;
  tight.max_decode_memory = one_decode;
  DecodeBudget held(tight);
  REQUIRE(held.Charge(1, "a buffer still held").ok());
  const base::Status over = DecodeImage(bytes, tight, &held, &sink, &info);
  CHECK(over.code() == base::Status::Code::kTooLarge);
  CHECK(over.message().find("limits.max_decode_memory") != std::string::npos);

  // HashImage decodes twice on one budget: the first pass gives back all it
  // held, so the limit one decode needs is enough for both.
  HashOptions o;
  o.dihedral = true;
  o.trim_borders = true;
  o.limits = tight;
  ImageHashes h;
  const base::Status both = HashImage(bytes, o, &h);
  CAPTURE(both.ToString());
  REQUIRE(both.ok());
  CHECK(h.trimmed.present);
}

TEST_CASE("trim_borders: the trimmed picture hashed from the kept pixels equals a second decode, bit for bit") {
  // Every delivery shape: JPEG (slices of rows), PNG (row by row), an
  // interlaced-free grey PNG; side bars (a row-by-row replay) and top and
  // bottom bars (whole rows in slices); the copy kept, and refused by
  // trim_copy_max_bytes = 0 or by a tight memory limit.
  struct Case {
    const char* name;
    int left, top, right, bottom;
    bool jpeg, grey;
  };
  // A bar at the bottom alone: a JPEG's copy is dropped after the first rows
  // (BorderDetector::MayTrimWithoutBottom) and the trimmed pass decodes
  // again; a PNG's is kept whole. A wide frame: the copy is over 2 MiB (an
  // anonymous mapping).
  const Case cases[] = {{kPhotos[0], 0, 60, 0, 90, true, false},    {kPhotos[0], 80, 0, 120, 0, true, false},
                        {kPhotos[1], 50, 40, 50, 40, false, false},   {kPhotos[1], 0, 0, 70, 0, false, true},
                        {kPhotos[2], 30, 30, 0, 0, true, true},       {kPhotos[0], 0, 0, 0, 90, true, false},
                        {kPhotos[1], 0, 0, 0, 60, false, true},       {kPhotos[0], 500, 400, 500, 400, true, false},
                        {kPhotos[1], 600, 500, 600, 500, false, false}};
  for (const Case& c : cases) {
    if (!ts::RequireData(Photo(c.name), "tests/data/pdq is part of the repository")) return;
    const std::string name = c.name;
    CAPTURE(name);
    CAPTURE(c.left);
    CAPTURE(c.top);
    rb::Image image = rb::AddBorder(Decoded(Photo(c.name)), c.left, c.top, c.right, c.bottom, {0, 0, 0});
    if (c.grey) image = rb::Greyscale(image);
    std::vector<uint8_t> bytes;
    if (c.jpeg) {
      REQUIRE(rb::EncodeJpeg(image, 90, &bytes).ok());
    } else {
      bytes = Png(image);
    }
    HashOptions kept;
    kept.dihedral = true;
    kept.trim_borders = true;
    HashOptions redecoded = kept;
    redecoded.trim_copy_max_bytes = 0;
    ImageHashes a, b;
    REQUIRE(HashImage(bytes, kept, &a).ok());
    REQUIRE(HashImage(bytes, redecoded, &b).ok());
    REQUIRE(a.trimmed.present);
    CHECK(a.trimmed.from_copy == (!c.jpeg || c.top > 0 || c.left > 0 || c.right > 0));
    CHECK_FALSE(b.trimmed.from_copy);
    CHECK(a.trimmed.rect == b.trimmed.rect);
    CHECK(a.trimmed.pdq == b.trimmed.pdq);
    CHECK(a.trimmed.aligned == b.trimmed.aligned);
    CHECK(a.trimmed.quality == b.trimmed.quality);
    CHECK(a.pdq == b.pdq);
    CHECK(a.aligned == b.aligned);
    // Both against the rectangle cut from a whole decode (no copy, no early
    // stop): a second decode that stops after the rectangle's last row
    // (CropSink stop_early) gives the same bits.
    PdqStreamHasher whole(ActivePdqKernels(), PdqMode::kFull, true);
    CropSink crop(&whole, a.trimmed.rect);
    DecodedInfo info;
    REQUIRE(DecodeImage(bytes, DecodeLimits{}, &crop, &info).ok());
    const PdqResult reference = whole.Finish();
    CHECK(a.trimmed.pdq == reference.hashes);
    CHECK(a.trimmed.aligned == reference.aligned);
    CHECK(a.trimmed.quality == reference.quality);
    // A second decode stops early only after a first that read the file
    // whole: a file cut short below the picture is still refused.
    const std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() * 97 / 100));
    CHECK_FALSE(HashImage(cut, kept, &b).ok());
    CHECK_FALSE(HashImage(cut, redecoded, &b).ok());
  }
}

TEST_CASE("CopySink keeps only what fits beside the decode, gives the budget back, and refuses rows out of order") {
  DecodeLimits limits;
  limits.max_decode_memory = 10u << 20;
  const uint8_t row[30] = {};
  {
    DecodeBudget budget(limits);
    {
      CopySink copy(&budget, 64u << 20);
      REQUIRE(copy.Start(10, 4, 3).ok());
      CHECK(budget.in_use() == 120);
      for (int y = 0; y < 4; ++y) copy.Rows(y, 1, row);
      CHECK(copy.complete());
    }
    CHECK(budget.in_use() == 0);
    CHECK_FALSE(budget.refused());
  }
  {
    // 3 MiB of pixels in a 10 MiB budget: kept. Then 4.5 MiB more: not (as
    // much again and 1 MiB must stay free), and no refusal is recorded.
    DecodeBudget budget(limits);
    CopySink fits(&budget, 64u << 20), too_big(&budget, 64u << 20);
    REQUIRE(fits.Start(1024, 1024, 3).ok());
    CHECK(budget.in_use() == 3u << 20);
    REQUIRE(too_big.Start(1536, 1024, 3).ok());
    CHECK(budget.in_use() == 3u << 20);
    CHECK_FALSE(budget.refused());
    CHECK_FALSE(too_big.complete());
  }
  {
    DecodeBudget budget(limits);
    CopySink copy(&budget, 64u << 20);
    REQUIRE(copy.Start(10, 4, 3).ok());
    copy.Rows(0, 1, row);
    copy.Rows(2, 1, row);  // a row skipped
    copy.Rows(3, 1, row);
    CHECK_FALSE(copy.complete());
    PdqStreamHasher h(ActivePdqKernels(), PdqMode::kFull, false);
    CHECK(copy.Replay(TrimRect{0, 0, 10, 4}, &h).code() == base::Status::Code::kInvalidArgument);
  }
  {
    // Watching a detector: kept while a top or side bar may still come...
    const rb::Image bordered = rb::AddBorder(Decoded(Photo(kPhotos[0])), 40, 40, 40, 40, {0, 0, 0});
    BorderDetector detector{BorderTrimOptions{}};
    DecodeBudget budget{DecodeLimits{}};
    CopySink copy(&budget, 64u << 20, &detector);
    TeeSink tee(&detector, &copy);
    REQUIRE(tee.Start(bordered.width, bordered.height, 3).ok());
    const uint64_t bytes = static_cast<uint64_t>(bordered.width) * bordered.height * 3;
    for (int y = 0; y < bordered.height; ++y) tee.Rows(y, 1, bordered.at(0, y));
    CHECK(copy.complete());
    CHECK(budget.in_use() == bytes);
    REQUIRE(detector.Result().has_value());
  }
  {
    // ...and dropped, its budget given back, once only a bottom bar could
    // make a trim (a photo without bars: after its first rows).
    const rb::Image photo = Decoded(Photo(kPhotos[0]));
    BorderDetector detector{BorderTrimOptions{}};
    DecodeBudget budget{DecodeLimits{}};
    CopySink copy(&budget, 64u << 20, &detector);
    TeeSink tee(&detector, &copy);
    REQUIRE(tee.Start(photo.width, photo.height, 3).ok());
    CHECK(budget.in_use() > 0);
    for (int y = 0; y < photo.height; ++y) tee.Rows(y, 1, photo.at(0, y));
    CHECK_FALSE(detector.MayTrimWithoutBottom());
    CHECK_FALSE(copy.complete());
    CHECK(budget.in_use() == 0);
  }
  {
    DecodeBudget budget(limits);
    CopySink copy(&budget, 100);  // over max_bytes: nothing kept
    REQUIRE(copy.Start(10, 4, 3).ok());
    CHECK(budget.in_use() == 0);
    for (int y = 0; y < 4; ++y) copy.Rows(y, 1, row);
    CHECK_FALSE(copy.complete());
  }
}

TEST_CASE("trim_borders: a losslessly bordered copy's trimmed hashes are the original's bits, and the untrimmed ones unchanged") {
  for (const char* name : kPhotos) {
    if (!ts::RequireData(Photo(name), "tests/data/pdq is part of the repository")) return;
    const std::string photo_name = name;
    CAPTURE(photo_name);
    const rb::Image photo = Decoded(Photo(name));
    const ImageHashes original = Hash(Png(photo), true);
    CHECK_FALSE(original.trimmed.present);
    const int bx = photo.width / 10, by = photo.height / 10;
    const auto bordered = Png(rb::AddBorder(photo, bx, by, bx, by, {0, 0, 0}));
    const ImageHashes with = Hash(bordered, true), without = Hash(bordered, false);
    CHECK(with.pdq == without.pdq);
    CHECK(with.quality == without.quality);
    CHECK_FALSE(without.trimmed.present);
    REQUIRE(with.trimmed.present);
    CHECK(with.trimmed.rect == TrimRect{bx, by, photo.width, photo.height});
    CHECK(with.trimmed.pdq == original.pdq);
    CHECK(with.trimmed.quality == original.quality);
    CHECK(with.width == photo.width + 2 * bx);  // the image's own size, not the trimmed one
  }
}

// The benchmark's transforms on the conformance photos, screened against
// each photo's own list hash. `before`: the server's old query (the
// reference's 8 variants); `after`: the new one (aligned variants, and the
// trimmed picture's). Bordered and barred copies match only with trimming on.
TEST_CASE("robustness subset: benign edits, mirrors, rotations, EXIF, borders and bars, before and after") {
  enum Before { kNo, kYes, kAny };  // kAny: PDQ's old variants miss on the 256 px photo only
  struct Expect {
    const char* transform;
    Before before;
    bool needs_trim;  // matches with trimming on only
  };
  const Expect expects[] = {
      {"jpeg-50", kYes, false},         {"resize-50", kYes, false},       {"grey", kYes, false},
      {"blur-1", kYes, false},          {"brightness-20", kYes, false},   {"exif-5", kYes, false},
      {"flip-h", kAny, false},          {"rot-90", kAny, false},          {"rot-180", kAny, false},
      {"exif-6-upright", kAny, false},  {"exif-7-upright", kAny, false},
      {"border-10-black", kNo, true},   {"border-20-white", kNo, true},   {"border-10-colour", kNo, true},
      {"letterbox", kNo, true},         {"pillarbox", kNo, true},         {"border-10-black+jpeg-50", kNo, true},
      {"letterbox+resize-50", kNo, true}, {"letterbox+jpeg-70", kNo, true},
      {"caption-10", kNo, true},        {"caption-10-top", kNo, true},
  };
  for (const char* name : kPhotos) {
    if (!ts::RequireData(Photo(name), "tests/data/pdq is part of the repository")) return;
    const rb::Image photo = Decoded(Photo(name));
    const ImageHashes list = Hash(ts::ReadFile(Photo(name)), false);
    REQUIRE(list.quality >= kMinQuality);
    for (const Expect& e : expects) {
      const std::string photo_name = name, transform_name = e.transform;
      CAPTURE(photo_name);
      CAPTURE(transform_name);
      const rb::Transform* t = rb::FindTransform(e.transform);
      REQUIRE(t);
      std::vector<uint8_t> upload;
      REQUIRE(t->apply(photo, 1, &upload).ok());
      const ImageHashes h = Hash(upload, true), untrimmed = Hash(upload, false);
      const int before = OldQueryDistance(untrimmed, list.pdq[kOrig]), after = NewQueryDistance(h, list.pdq[kOrig]);
      CAPTURE(before);
      CAPTURE(after);
      if (e.before != kAny) CHECK((before <= kThreshold) == (e.before == kYes));
      CHECK(after <= kThreshold);
      CHECK(after <= before);  // the new query never loses what the old one had
      CHECK((NewQueryDistance(untrimmed, list.pdq[kOrig]) <= kThreshold) == !e.needs_trim);
    }
  }
}

// On a 256 px photo PDQ's filter window is 2 and the reference's dihedral
// variants are off by up to 3 pixels of sampling: a turned copy can miss.
// The aligned variants are the turned pictures' own hashes.
TEST_CASE("aligned variants: turned copies of a 256 px photo match where the reference variants miss") {
  const char* name = kPhotos[2];
  if (!ts::RequireData(Photo(name), "tests/data/pdq is part of the repository")) return;
  const rb::Image photo = Decoded(Photo(name));
  const ImageHashes list = Hash(ts::ReadFile(Photo(name)), false);
  for (const char* transform : {"rot-90", "rot-180", "exif-7-upright"}) {
    const std::string transform_name = transform;
    CAPTURE(transform_name);
    std::vector<uint8_t> upload;
    REQUIRE(rb::FindTransform(transform)->apply(photo, 1, &upload).ok());
    const ImageHashes h = Hash(upload, false);
    CHECK(OldQueryDistance(h, list.pdq[kOrig]) > kThreshold);
    CHECK(NewQueryDistance(h, list.pdq[kOrig]) <= 8);
  }
  // Losslessly turned (PNG), every aligned variant is the hash of the turned
  // picture itself, to the bit, for all 8 orientations.
  const ImageHashes upright = Hash(Png(photo), true);
  for (int o = 1; o <= 8; ++o) {
    CAPTURE(o);
    const ImageHashes turned = Hash(Png(rb::ApplyOrientation(photo, o)), true);
    int best = 256;
    for (const auto& p : turned.aligned) best = std::min(best, base::Distance(p, upright.pdq[kOrig]));
    CHECK(best <= 2);
  }
}

TEST_CASE("robustness subset: trimmed queries of one photo do not match the other photos") {
  std::vector<ImageHashes> lists;
  std::vector<rb::Image> photos;
  for (const char* name : kPhotos) {
    if (!ts::RequireData(Photo(name), "tests/data/pdq is part of the repository")) return;
    lists.push_back(Hash(ts::ReadFile(Photo(name)), false));
    photos.push_back(Decoded(Photo(name)));
  }
  for (size_t j = 0; j < photos.size(); ++j) {
    for (const char* transform : {"border-10-black", "letterbox", "pillarbox", "border-20-white", "caption-10", "caption-10-top"}) {
      std::vector<uint8_t> upload;
      REQUIRE(rb::FindTransform(transform)->apply(photos[j], 1, &upload).ok());
      const ImageHashes h = Hash(upload, true);
      for (size_t i = 0; i < lists.size(); ++i) {
        if (i == j) continue;
        const std::string upload_name = kPhotos[j], list_name = kPhotos[i], transform_name = transform;
        CAPTURE(upload_name);
        CAPTURE(list_name);
        CAPTURE(transform_name);
        CHECK(NewQueryDistance(h, lists[i].pdq[kOrig]) > kThreshold);
      }
    }
  }
}

TEST_CASE("transforms are deterministic and EXIF orientation is written where readers look") {
  if (!ts::RequireData(Photo(kPhotos[1]), "tests/data/pdq is part of the repository")) return;
  const rb::Image photo = Decoded(Photo(kPhotos[1]));
  for (const auto& t : rb::Catalogue()) {
    CAPTURE(t.name);
    std::vector<uint8_t> a, b;
    REQUIRE(t.apply(photo, 99, &a).ok());
    REQUIRE(t.apply(photo, 99, &b).ok());
    CHECK(a == b);
    rb::Image back;
    CHECK(rb::DecodeToRgb(a, &back).ok());
  }
  std::vector<uint8_t> jpeg;
  REQUIRE(rb::EncodeJpeg(photo, 90, &jpeg).ok());
  REQUIRE(rb::SetExifOrientation(6, &jpeg).ok());
  // SOI, then APP1 "Exif\0\0" with a big-endian TIFF whose IFD0 has tag 0x0112 = 6.
  const std::vector<uint8_t> head(jpeg.begin(), jpeg.begin() + 32);
  CHECK(head[2] == 0xFF);
  CHECK(head[3] == 0xE1);
  CHECK(std::string(head.begin() + 6, head.begin() + 10) == "Exif");
  CHECK(head[22] == 0x01);
  CHECK(head[23] == 0x12);
  CHECK(head[31] == 6);
  CHECK(rb::SetExifOrientation(9, &jpeg).code() == base::Status::Code::kInvalidArgument);
  // The orientations and their inverses undo each other.
  for (int o = 1; o <= 8; ++o) {
    const rb::Image turned = rb::ApplyOrientation(rb::ApplyOrientation(photo, o), rb::InverseOrientation(o));
    CHECK(turned.rgb == photo.rgb);
  }
}
