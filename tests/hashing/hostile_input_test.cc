// Hostile input, every decoder: truncated files are refused (never hashed
// from memory the decoder did not write), the same way every time and from
// any thread; tiny files claiming 100 megapixels cost next to nothing; the
// memory and time budgets stop a decode; our PNM reader decodes exactly what
// netpbm describes and refuses the rest. The inputs are built from real
// photographs in every format (hostile_inputs.h), so nothing here needs the
// fetched corpus.
#include <doctest/doctest.h>

#include <malloc.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <filesystem>

#include "hashing/image_decoder.h"
#include "hashing/image_hasher.h"
#include "hashing/stb_prescan.h"
#include "tests/hashing/hostile_inputs.h"
#include "tests/test_support.h"

using namespace hashing;
using hostile::Pixels;

namespace {

using Bytes = std::vector<uint8_t>;
using Code = Status::Code;

Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }
Bytes Cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Status Hash(std::span<const uint8_t> bytes, DecodeLimits limits = {}) {
  HashOptions o;
  o.limits = limits;
  ImageHashes h;
  return HashImage(bytes, o, &h);
}

class CollectSink : public PixelSink {
 public:
  Status Start(int w, int h, int c) override {
    p.width = w, p.height = h, p.channels = c;
    p.data.assign(static_cast<size_t>(w) * h * c, 0);
    return Status::Ok();
  }
  void Rows(int y, int n, const uint8_t* d) override {
    const size_t row = static_cast<size_t>(p.width) * p.channels;
    std::copy(d, d + n * row, p.data.begin() + y * row);
  }
  Pixels p;
};

Status DecodeTo(std::span<const uint8_t> bytes, Pixels* out, DecodedInfo* info = nullptr, DecodeLimits limits = {}) {
  CollectSink sink;
  DecodedInfo local;
  const Status s = DecodeImage(bytes, limits, &sink, info ? info : &local);
  *out = sink.p;
  return s;
}

Pixels RgbOf(const Pixels& p) {
  if (p.channels == 3) return p;
  Pixels out{p.width, p.height, 3, {}};
  for (uint8_t v : p.data) out.data.insert(out.data.end(), {v, v, v});
  return out;
}

const Pixels& Photo() {
  static const Pixels p = hostile::Decode(hostile::ConformanceImage("misc-images/wee.jpg"));
  return p;
}

bool Sanitized() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#else
  return false;
#endif
}

}  // namespace

TEST_CASE("truncations of every format are refused as truncated, the same way every time") {
  const auto samples = hostile::FormatSamples();
  CHECK(samples.size() >= 35);
  size_t cuts = 0;
  for (const auto& s : samples) {
    INFO(s.name);
    REQUIRE(Hash(s.bytes).ok());
    REQUIRE(Hash(std::span(s.bytes).first(s.complete_at)).ok());
    for (size_t n : hostile::CutPoints(s)) {
      INFO("cut at " << n << " of " << s.bytes.size());
      const auto cut = std::span(s.bytes).first(n);
      const Status first = Hash(cut);
      CHECK(first.code() == Code::kCorruption);
      const Status again = Hash(cut);
      CHECK(again.code() == first.code());
      CHECK(again.message() == first.message());
      ++cuts;
    }
  }
  MESSAGE(samples.size() << " samples, " << cuts << " truncations refused");
}

namespace {

// The shortest prefix of a real file that decodes, where its format says
// (0: not known for this file, e.g. bytes after the end of the image).
size_t CompleteAt(const Bytes& b) {
  const size_t n = b.size();
  auto le32 = [&](size_t at) { return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 | uint32_t{b[at + 3]} << 24; };
  switch (SniffFormat(b)) {
    case ImageFormat::kJpeg: return n >= 4 && b[n - 2] == 0xFF && b[n - 1] == 0xD9 ? n : 0;
    case ImageFormat::kPng: return n >= 12 && std::equal(b.end() - 8, b.end() - 4, "IEND") ? n : 0;
    case ImageFormat::kWebp: return le32(4) + 8 == n ? n : 0;
    case ImageFormat::kGif: {
      StbPrescan pre;
      return PrescanForStb(ImageFormat::kGif, b, DecodeLimits(), &pre).ok() ? pre.rewritten.size() - 1 : 0;
    }
    case ImageFormat::kBmp: {
      if (n < 34 || le32(14) != 40 || le32(30) != 0) return 0;  // uncompressed, BITMAPINFOHEADER
      const uint64_t w = le32(18), h = static_cast<uint64_t>(std::abs(static_cast<int32_t>(le32(22))));
      const uint64_t end = le32(10) + (w * (b[28] | b[29] << 8) + 31) / 32 * 4 * h;
      return end <= n ? end : 0;
    }
    default: return 0;
  }
}

}  // namespace

TEST_CASE("truncations of the fetched corpus's JPEG, PNG, GIF, BMP and WebP files are refused as truncated") {
  const auto dir = testing_support::ImagesDir() / "formats";
  if (!testing_support::RequireData(dir, "run ./setup.sh test (or scripts/fetch-test-images.sh --small DIR with HASHSCREEN_IMAGES=DIR)")) return;
  std::map<ImageFormat, std::vector<std::filesystem::path>> by_format;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.file_size() >= 512 && e.file_size() <= 64 * 1024) by_format[SniffFormat(hostile::ReadFile(e.path()))].push_back(e.path());
  }
  int files = 0, cuts = 0;
  for (auto format : {ImageFormat::kJpeg, ImageFormat::kPng, ImageFormat::kGif, ImageFormat::kBmp, ImageFormat::kWebp}) {
    auto& paths = by_format[format];
    std::sort(paths.begin(), paths.end());
    int taken = 0;
    for (const auto& path : paths) {
      if (taken == 6) break;
      const Bytes b = hostile::ReadFile(path);
      const size_t complete_at = CompleteAt(b);
      if (complete_at == 0 || !Hash(b).ok()) continue;
      ++taken, ++files;
      hostile::Sample s{path.filename().string(), b, complete_at, 16};
      for (size_t n : hostile::CutPoints(s, 24)) {
        INFO(path.string() << " cut at " << n);
        CHECK(Hash(std::span(b).first(n)).code() == Code::kCorruption);
        ++cuts;
      }
    }
    CHECK(taken > 0);
  }
  MESSAGE(files << " corpus files, " << cuts << " truncations refused");
}

TEST_CASE("the 15-byte PNM of the review is refused before any pixel exists") {
  DecodedInfo info;
  Pixels p;
  const Status s = DecodeTo(hostile::FifteenBytePnm(), &p, &info);
  CHECK(s.code() == Code::kCorruption);
  CHECK(s.message().find("truncated PNM") != std::string::npos);
  CHECK(info.peak_memory == 0);
}

TEST_CASE("PNM P1-P6 decode to the pixels netpbm describes") {
  struct Case {
    const char* name;
    Bytes bytes;
    int channels;
    Bytes pixels;
  };
  const Case cases[] = {
      {"P1 with comments", B("P1\n# a comment\n3 2\n0 1 0\n1 0 1\n"), 1, {255, 0, 255, 0, 255, 0}},
      {"P1 without separators, a comment in the raster", B("P1 3 2 010#x\n101"), 1, {255, 0, 255, 0, 255, 0}},
      {"P2 maxval 1", B("P2\n2 1\n1\n0 1\n"), 1, {0, 255}},
      {"P2 maxval 15", B("P2 3 1 15\n0 7 15\n"), 1, {0, 119, 255}},
      {"P2 maxval 65535: the high byte", B("P2\n2 1\n65535\n65535 511\n"), 1, {255, 1}},
      {"P3", B("P3\n1 1\n255\n10 20 30\n"), 3, {10, 20, 30}},
      {"P4, a row padded to two bytes", Cat(B("P4\n10 1\n"), {0xA0, 0x40}), 1, {0, 255, 0, 255, 255, 255, 255, 255, 255, 0}},
      {"P5 maxval 255", Cat(B("P5\n2 2\n255\n"), {0, 1, 2, 3}), 1, {0, 1, 2, 3}},
      {"P5 maxval 65535: the high byte", Cat(B("P5\n2 1\n65535\n"), {0x12, 0x34, 0xAB, 0xCD}), 1, {0x12, 0xAB}},
      {"P5 maxval 1000", Cat(B("P5\n2 1\n1000\n"), {0x03, 0xE8, 0x01, 0xF4}), 1, {255, 128}},
      {"P6 maxval 255", Cat(B("P6\n2 1\n255\n"), {1, 2, 3, 4, 5, 6}), 3, {1, 2, 3, 4, 5, 6}},
      {"P6 maxval 1", Cat(B("P6 1 1 1\n"), {1, 0, 1}), 3, {255, 0, 255}},
      {"only the first of two images", Cat(B("P5 1 1 255\n"), Cat({7}, B("P5 1 1 255\n\x09"))), 1, {7}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Pixels p;
    REQUIRE(DecodeTo(c.bytes, &p).ok());
    CHECK(p.channels == c.channels);
    CHECK(p.data == c.pixels);
  }
  // Round trips of a photograph through every kind and sample width.
  const Pixels rgb = Photo();
  const Pixels grey = hostile::Grey(rgb);
  for (int kind : {2, 3, 5, 6}) {
    for (int maxval : {255, 65535}) {
      INFO("P" << kind << " maxval " << maxval);
      Pixels p;
      REQUIRE(DecodeTo(hostile::WritePnm(rgb, kind, maxval), &p).ok());
      CHECK(p.data == (kind == 3 || kind == 6 ? rgb : grey).data);
    }
  }
}

TEST_CASE("PNM headers that are malformed, overflow or lie are refused, naming the problem") {
  struct Case {
    const char* name;
    Bytes bytes;
    Code code;
    const char* says;
  };
  const Case cases[] = {
      {"negative width", B("P5\n-1 2\n255\n"), Code::kCorruption, "not a decimal number"},
      {"maxval 0", Cat(B("P5\n2 2\n0\n"), {0, 0, 0, 0}), Code::kCorruption, "maxval 0"},
      {"maxval over 65535", Cat(B("P5\n2 2\n65536\n"), {0, 0, 0, 0}), Code::kCorruption, "maxval over 65535"},
      {"the review's UBSan header", B("P5\n99999999999 2\n255\n"), Code::kTooLarge, "width"},
      {"a 30-digit height", B("P5\n2 999999999999999999999999999999\n255\n"), Code::kTooLarge, "height"},
      {"a comment glued to maxval", Cat(B("P5\n2 2\n255#\n"), {0, 0, 0, 0}), Code::kCorruption, "not whitespace"},
      {"no maxval", B("P5 2 2"), Code::kCorruption, "no maxval"},
      {"no whitespace after the header", B("P5 2 2 255"), Code::kCorruption, "ends after its header"},
      {"a binary raster one byte short", Cat(B("P5\n2 2\n255\n"), {0, 0, 0}), Code::kCorruption, "needs 4 bytes"},
      {"a 16-bit raster one byte short", Cat(B("P6\n1 1\n65535\n"), {0, 0, 0, 0, 0}), Code::kCorruption, "needs 6 bytes"},
      {"a sample over maxval", B("P2\n2 1\n15\n3 16\n"), Code::kCorruption, "over maxval 15"},
      {"a binary sample over maxval", Cat(B("P5\n1 1\n15\n"), {16}), Code::kCorruption, "over maxval 15"},
      {"a huge sample", B("P2\n1 1\n255\n99999999999999999999999999\n"), Code::kCorruption, "over maxval"},
      {"a letter in a P2 raster", B("P2\n2 1\n15\n3 x\n"), Code::kCorruption, "where a sample should be"},
      {"a 2 in a P1 raster", B("P1\n2 1\n0 2\n"), Code::kCorruption, "P1 raster"},
      {"a text raster a sample short", B("P2\n3 1\n255\n1 2   \n"), Code::kCorruption, "raster ends"},
      {"zero width", B("P5\n0 2\n255\n"), Code::kCorruption, "zero dimension"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const Status s = Hash(c.bytes);
    CHECK(s.code() == c.code);
    CHECK(s.message().find(c.says) != std::string::npos);
  }
}

TEST_CASE("every format written from a photograph decodes to its pixels (lossless formats exactly)") {
  const Pixels rgb = Photo();
  const Pixels grey = hostile::Grey(rgb);
  struct Case {
    std::string name;
    Bytes bytes;
    const Pixels& expect;
  };
  std::vector<Case> cases = {
      {"tga 2", hostile::WriteTga(rgb, 2), rgb},    {"tga 10", hostile::WriteTga(rgb, 10), rgb},
      {"tga 3", hostile::WriteTga(rgb, 3), grey},   {"tga 11", hostile::WriteTga(rgb, 11), grey},
      {"tga 1", hostile::WriteTga(rgb, 1), grey},   {"tga 9", hostile::WriteTga(rgb, 9), grey},
      {"psd raw", hostile::WritePsd(rgb, 8, false), rgb}, {"psd raw 16-bit", hostile::WritePsd(rgb, 16, false), rgb},
      {"psd rle", hostile::WritePsd(rgb, 8, true), rgb},  {"gif", hostile::WriteGif(grey, false), grey},
      {"gif interlaced", hostile::WriteGif(grey, true), grey}, {"bmp 8", hostile::WriteBmp(grey, 8), grey},
      {"bmp 24", hostile::WriteBmp(rgb, 24), rgb},  {"bmp 32", hostile::WriteBmp(rgb, 32), rgb},
      {"bmp 24 top-down", hostile::WriteBmp(rgb, 24, true), rgb},
      {"png", hostile::WritePng(rgb, hostile::PngKind::kPlain), rgb},
      {"png interlaced", hostile::WritePng(rgb, hostile::PngKind::kInterlaced), rgb},
      {"png palette", hostile::WritePng(grey, hostile::PngKind::kPalette), grey},
      {"png 16-bit", hostile::WritePng(rgb, hostile::PngKind::kSixteenBit), rgb},
      {"webp lossless", hostile::WriteWebp(rgb, hostile::WebpKind::kLossless), rgb},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Pixels p;
    REQUIRE(DecodeTo(c.bytes, &p).ok());
    CHECK(p.width == rgb.width);
    CHECK(p.height == rgb.height);
    CHECK(RgbOf(p).data == RgbOf(c.expect).data);
  }
}

TEST_CASE("a PSD with an alpha channel decodes to its stored R, G, B: alpha dropped, no matte removal (its float conversion overflowed)") {
  // stb_image "removes a white matte" from 4-channel PSDs: c / a + 255 (1 - 1 / a),
  // converted to a byte. With alpha 1 every colour under 254 gives a value
  // far below 0 (undefined behaviour, found by fuzz_decode_psd); alpha 128
  // the same for colours under 127. Decoded now: the stored colours.
  const Pixels rgb = Photo();
  for (int alpha : {1, 128, 254}) {
    for (auto [depth, rle] : {std::pair{8, false}, std::pair{16, false}, std::pair{8, true}}) {
      INFO("alpha " << alpha << ", " << depth << "-bit " << (rle ? "RLE" : "raw"));
      const Bytes psd = hostile::WritePsd(rgb, depth, rle, alpha);
      Pixels p;
      REQUIRE(DecodeTo(psd, &p).ok());
      CHECK(p.width == rgb.width);
      CHECK(p.height == rgb.height);
      CHECK(RgbOf(p).data == RgbOf(rgb).data);
      // Truncated, it is refused like any other truncated PSD.
      CHECK(Hash(std::span(psd).first(psd.size() - 1)).code() == Code::kCorruption);
    }
  }
}

TEST_CASE("GIF and animated WebP: the first frame is decoded within its own bounds, not the canvas") {
  const Pixels grey = hostile::Grey(Photo());  // 34x42
  // The frame on a 100x100 canvas at 10,20.
  Bytes gif = hostile::WriteGif(grey, false);
  gif[6] = gif[8] = 100, gif[7] = gif[9] = 0;
  const size_t descriptor = 13 + 3 * 256 + 1;
  gif[descriptor] = 10, gif[descriptor + 2] = 20;
  Pixels p;
  DecodedInfo info;
  REQUIRE(DecodeTo(gif, &p, &info).ok());
  CHECK(info.width == grey.width);
  CHECK(info.height == grey.height);
  CHECK(RgbOf(p).data == RgbOf(grey).data);

  const Bytes still = hostile::WriteWebp(Photo(), hostile::WebpKind::kLossless);
  REQUIRE(DecodeTo(hostile::AnimatedWebp(100, 100, 10, 20, still), &p, &info).ok());
  CHECK(info.width == grey.width);
  CHECK(p.data == Photo().data);

  // The review's 35-byte GIF: its 1x1 frame, at the cost of a 1x1 image.
  const Bytes bomb = hostile::GifHugeCanvasTinyFrame();
  CHECK(bomb.size() == 35);
  REQUIRE(DecodeTo(bomb, &p, &info).ok());
  CHECK(info.width == 1);
  CHECK(info.height == 1);
  CHECK(info.peak_memory < 64 * 1024);
}

TEST_CASE("GIF whose LZW data ends before the frame's last row is truncated") {
  Bytes gif = hostile::GifHugeCanvasTinyFrame();  // LZW data for one pixel
  gif[6] = gif[8] = 2, gif[7] = gif[9] = 0;        // canvas 2x2
  gif[24] = gif[26] = 2;                           // frame 2x2
  const Status s = Hash(gif);
  CHECK(s.code() == Code::kCorruption);
  CHECK(s.message().find("before its last row") != std::string::npos);
}

TEST_CASE("BMP whose pixels use colours its palette lacks is refused") {
  auto bmp = [](std::initializer_list<uint8_t> indices) {
    Bytes b = {'B', 'M', 0, 0, 0, 0, 0, 0, 0, 0, 62, 0, 0, 0, 40, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1, 0, 8, 0};
    b.resize(54, 0);
    b.insert(b.end(), {0, 0, 0, 0, 255, 255, 255, 0});  // 2 entries
    b.insert(b.end(), indices);
    return b;
  };
  CHECK(Hash(bmp({0, 1, 1, 0})).ok());
  const Status s = Hash(bmp({0, 1, 5, 1}));
  CHECK(s.code() == Code::kCorruption);
  CHECK(s.message().find("colour 5 of a 2-entry palette") != std::string::npos);
}

TEST_CASE("tiny files that claim 100 megapixels are refused or decoded cheaply, in every format") {
  for (const auto& bomb : hostile::Bombs()) {
    INFO(bomb.name << " (" << bomb.bytes.size() << " bytes)");
    Pixels p;
    DecodedInfo info;
    const Status s = DecodeTo(bomb.bytes, &p, &info);
    INFO(s.ToString());
    if (s.ok()) {
      CHECK(uint64_t(info.width) * info.height <= 4);
    } else {
      CHECK((s.code() == Code::kCorruption || s.code() == Code::kTooLarge));
    }
    CHECK(info.peak_memory < (2u << 20));  // libwebp's fixed buffers are charged as 1 MiB
    // The same decode in a fresh process: the resident-memory high-water
    // mark, not our own accounting.
    const auto child = hostile::DecodeInChild(bomb.bytes);
    CHECK(child.code == static_cast<int>(s.code()));
    CHECK(child.peak_growth >= 0);
    CHECK(child.peak_growth < (50 << 20));
  }
}

TEST_CASE("a PNG chunk that claims more bytes than the file has is refused before libpng allocates them") {
  // libpng allocates a chunk's data before reading it, and on read its
  // chunk_malloc_max is only a warning: a 299-byte file whose zTXt claimed
  // 240 MiB (found by fuzz_decode_png) cost 240 MiB. Before and after the
  // image data, text and unknown chunks alike.
  const Bytes png = hostile::WritePng(hostile::Grey(Photo()), hostile::PngKind::kPlain);
  const size_t after_ihdr = 8 + 25;
  size_t first_idat = after_ihdr;
  while (!std::equal(png.begin() + first_idat + 4, png.begin() + first_idat + 8, "IDAT")) {
    first_idat += 12 + (size_t{png[first_idat]} << 24 | size_t{png[first_idat + 1]} << 16 |
                        size_t{png[first_idat + 2]} << 8 | png[first_idat + 3]);
  }
  const size_t iend = png.size() - 12;
  for (const char* type : {"zTXt", "tEXt", "iCCP", "ruSt"}) {
    for (size_t at : {after_ihdr, first_idat, iend}) {
      INFO(type << " chunk at byte " << at);
      Bytes b(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(at));
      const Bytes lie = Cat({0x0F, 0x00, 0x00, 0x41}, Cat(B(type), B("Copyright")));
      b.insert(b.end(), lie.begin(), lie.end());
      Pixels p;
      DecodedInfo info;
      const Status s = DecodeTo(b, &p, &info);
      INFO(s.ToString());
      CHECK(s.code() == Code::kCorruption);
      CHECK(info.peak_memory < (1u << 20));
      const auto child = hostile::DecodeInChild(b);
      CHECK(child.code == static_cast<int>(Code::kCorruption));
      CHECK(child.peak_growth < (50 << 20));
    }
  }
}

TEST_CASE("the memory budget refuses before allocating, and a decode never holds more than it") {
  const auto samples = hostile::FormatSamples();
  for (uint64_t limit : {uint64_t{1} << 10, uint64_t{16} << 10, uint64_t{256} << 10, uint64_t{4} << 20}) {
    int refused = 0;
    for (const auto& s : samples) {
      INFO(s.name << " with max_decode_memory " << limit);
      DecodeLimits limits;
      limits.max_decode_memory = limit;
      Pixels p;
      DecodedInfo info;
      const Status st = DecodeTo(s.bytes, &p, &info, limits);
      CHECK(info.peak_memory <= limit);
      if (!st.ok()) {
        CHECK(st.code() == Code::kTooLarge);
        CHECK(st.message().find("limits.max_decode_memory") != std::string::npos);
        ++refused;
      }
    }
    if (limit == 1024) CHECK(refused >= static_cast<int>(samples.size()) - 2);  // binary PNM streams from the input
  }
  // A 1600x1004 interlaced PNG needs its whole image (4.8 MB): with a 2 MiB
  // budget it is refused, and the process never held the image.
  const Pixels big = hostile::Decode(hostile::ConformanceImage("bridge-mods/aaa-orig.jpg"));
  const Bytes png = hostile::WritePng(big, hostile::PngKind::kInterlaced);
  DecodeLimits limits;
  limits.max_decode_memory = 2 << 20;
  Pixels p;
  DecodedInfo info;
  const Status st = DecodeTo(png, &p, &info, limits);
  CHECK(st.code() == Code::kTooLarge);
  CHECK(st.message().find("interlaced PNG image") != std::string::npos);
  CHECK(info.peak_memory <= limits.max_decode_memory);
  DecodedInfo full;
  REQUIRE(DecodeTo(png, &p, &full).ok());
  CHECK(full.peak_memory >= uint64_t{1600} * 1004 * 3);
}

TEST_CASE("the time budget stops a decode in progress, in every decoder") {
  const Pixels big = hostile::Decode(hostile::ConformanceImage("bridge-mods/aaa-orig.jpg"));  // 1600x1004
  const Pixels grey = hostile::Grey(big);
  const std::vector<std::pair<std::string, Bytes>> inputs = {
      {"jpeg", hostile::ConformanceImage("bridge-mods/aaa-orig.jpg")},
      {"png", hostile::WritePng(big, hostile::PngKind::kPlain)},
      {"png interlaced", hostile::WritePng(big, hostile::PngKind::kInterlaced)},
      {"webp", hostile::WriteWebp(big, hostile::WebpKind::kLossy)},
      {"pnm P6", hostile::WritePnm(big, 6)},
      {"pnm P5 16-bit", hostile::WritePnm(big, 5, 65535)},
      {"tga", hostile::WriteTga(big, 2)},
      {"psd", hostile::WritePsd(big, 8, false)},
      {"bmp", hostile::WriteBmp(big, 24)},
      {"gif", hostile::WriteGif(grey, false)},
  };
  DecodeLimits expired;
  expired.max_decode_ms = 0;  // the first clock read finds the deadline passed
  for (const auto& [name, bytes] : inputs) {
    INFO(name);
    REQUIRE(Hash(bytes).ok());
    const Status s = Hash(bytes, expired);
    CHECK(s.code() == Code::kTooLarge);
    CHECK(s.message().find("limits.max_decode_ms") != std::string::npos);
  }
}

TEST_CASE("the same truncated bytes, hashed from several threads among other images, always give the same error") {
  std::vector<Bytes> inputs;
  std::vector<bool> truncated;
  for (const auto& s : hostile::FormatSamples()) {
    inputs.push_back(s.bytes);
    truncated.push_back(false);
    inputs.emplace_back(s.bytes.begin(), s.bytes.begin() + static_cast<long>(s.min_length + (s.complete_at - s.min_length) * 6 / 10));
    truncated.push_back(true);
  }
  inputs.push_back(hostile::FifteenBytePnm());
  truncated.push_back(true);
  struct Answer {
    int code;
    std::string message;
    std::string pdq;
  };
  std::vector<std::vector<Answer>> answers(inputs.size());
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      for (int round = 0; round < 8; ++round) {
        std::vector<size_t> order(inputs.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::shuffle(order.begin(), order.end(), rng);
        for (size_t i : order) {
          HashOptions o;
          ImageHashes h;
          const Status s = HashImage(inputs[i], o, &h);
          std::lock_guard<std::mutex> lock(mu);
          answers[i].push_back({static_cast<int>(s.code()), s.message(), s.ok() ? h.pdq[kOrig].ToHex() : ""});
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < inputs.size(); ++i) {
    INFO("input " << i << " (" << inputs[i].size() << " bytes)");
    REQUIRE(answers[i].size() == 32);
    if (truncated[i]) CHECK(answers[i][0].code == static_cast<int>(Code::kCorruption));
    else CHECK(answers[i][0].code == static_cast<int>(Code::kOk));
    for (const auto& a : answers[i]) {
      CHECK(a.code == answers[i][0].code);
      CHECK(a.message == answers[i][0].message);
      CHECK(a.pdq == answers[i][0].pdq);
    }
  }
}

TEST_CASE("damaged interlaced PNGs and JPEGs free everything they allocated") {
  if (Sanitized()) {
    MESSAGE("SKIP under AddressSanitizer: its allocator does not feed mallinfo2; LeakSanitizer checks this build");
    return;
  }
  // libpng and libjpeg fail by longjmp: anything allocated in a frame the
  // jump skips would leak on every request.
  const Pixels big = hostile::Decode(hostile::ConformanceImage("bridge-mods/shrink-a-lot.jpg"));  // 160x100
  Bytes tall = hostile::WritePng(hostile::Grey(Pixels{1, 4000, 3, Bytes(12000, 0)}), hostile::PngKind::kInterlaced);
  const std::vector<Bytes> damaged = {
      Bytes(tall.begin(), tall.end() - 40),
      [&] { Bytes b = hostile::WritePng(big, hostile::PngKind::kInterlaced); b.resize(b.size() * 7 / 10); return b; }(),
      [&] { Bytes b = hostile::WriteJpeg(big, hostile::JpegKind::kProgressive); b.resize(b.size() * 7 / 10); return b; }(),
  };
  for (const auto& b : damaged) REQUIRE(Hash(b).code() == Code::kCorruption);
  const size_t before = mallinfo2().uordblks;
  for (int i = 0; i < 200; ++i)
    for (const auto& b : damaged) (void)Hash(b);
  const size_t after = mallinfo2().uordblks;
  CHECK(after <= before + (64 << 10));
}
