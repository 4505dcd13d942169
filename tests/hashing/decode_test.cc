// Bad input always gets a clear error and never a crash, a hang, or an
// all-zero hash: empty, unknown, truncated, corrupted, lying headers, and the
// malformed/hostile files of the fetched corpus.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "hashing/image_hasher.h"
#include "tests/test_support.h"

using namespace hashing;
namespace ts = testing_support;

namespace {

Status Hash(const std::vector<uint8_t>& bytes, ImageHashes* h = nullptr, DecodeLimits limits = {}) {
  ImageHashes local;
  HashOptions o;
  o.limits = limits;
  return HashImage(bytes, o, h ? h : &local);
}

std::vector<uint8_t> Conformance(const char* rel) {
  return ts::ReadFile(ts::PdqDataDir() / "images" / rel);
}

std::vector<uint8_t> Bytes(std::initializer_list<int> v) {
  std::vector<uint8_t> b;
  for (int x : v) b.push_back(static_cast<uint8_t>(x));
  return b;
}

// A valid 1x1 GIF (global palette of 2, one frame).
std::vector<uint8_t> TinyGif() {
  auto b = Bytes({'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255,
                  0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3B});
  return b;
}

}  // namespace

TEST_CASE("empty, unknown and text input are unsupported, with a reason") {
  Status s = Hash({});
  CHECK(s.code() == Status::Code::kUnsupported);
  CHECK(s.message().find("empty") != std::string::npos);
  std::string text = "hello, this is not an image\n";
  s = Hash(std::vector<uint8_t>(text.begin(), text.end()));
  CHECK(s.code() == Status::Code::kUnsupported);
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    std::vector<uint8_t> junk(1 + rng() % 4000);
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    s = Hash(junk);
    CHECK(!s.ok());
    CHECK(!s.message().empty());
  }
}

TEST_CASE("truncated JPEG, PNG and GIF files are errors, never partial hashes") {
  for (const char* rel : {"bridge-mods/aaa-orig.jpg", "misc-images/c.png", "reg-test-input/pen-and-coaster.png",
                          "misc-images/wee.jpg"}) {
    const auto full = Conformance(rel);
    REQUIRE(Hash(full).ok());
    for (double frac : {0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99}) {
      std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(full.size() * frac));
      INFO(rel << " cut at " << cut.size() << " of " << full.size());
      const Status s = Hash(cut);
      CHECK(s.code() == Status::Code::kCorruption);
    }
  }
  const auto gif = TinyGif();
  REQUIRE(Hash(gif).ok());
  for (size_t n = 14; n + 2 < gif.size(); ++n) {
    INFO("GIF cut at " << n);
    CHECK(!Hash(std::vector<uint8_t>(gif.begin(), gif.begin() + n)).ok());
  }
}

TEST_CASE("headers that claim huge dimensions are refused before decoding") {
  // JPEG SOF0 claiming 60000 x 60000.
  auto jpeg = Bytes({0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0xEA, 0x60, 0xEA, 0x60, 0x03, 0x01, 0x22, 0x00, 0x02,
                     0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xDA, 0x00, 0x0C, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11,
                     0x00, 0x3F, 0x00, 0x00, 0x00, 0xFF, 0xD9});
  Status s = Hash(jpeg);
  CHECK(s.code() == Status::Code::kTooLarge);
  CHECK(s.message().find("60000x60000") != std::string::npos);
  // GIF logical screen 65535 x 65535.
  auto gif = TinyGif();
  gif[6] = gif[7] = gif[8] = gif[9] = 0xFF;
  CHECK(Hash(gif).code() == Status::Code::kTooLarge);
  // BMP 50000 x 50000, 24 bpp, no pixel data.
  std::vector<uint8_t> bmp(54, 0);
  bmp[0] = 'B', bmp[1] = 'M', bmp[10] = 54, bmp[14] = 40;
  bmp[18] = 0x50, bmp[19] = 0xC3, bmp[22] = 0x50, bmp[23] = 0xC3, bmp[26] = 1, bmp[28] = 24;
  CHECK(Hash(bmp).code() == Status::Code::kTooLarge);
  // The same BMP at 100 x 100 is merely truncated.
  bmp[18] = 100, bmp[19] = 0, bmp[22] = 100, bmp[23] = 0;
  CHECK(Hash(bmp).code() == Status::Code::kCorruption);
}

TEST_CASE("configured limits apply: bytes and pixels") {
  const auto jpg = Conformance("bridge-mods/aaa-orig.jpg");  // 1600 x 1004
  DecodeLimits small;
  small.max_pixels = 1600 * 1004 - 1;
  CHECK(Hash(jpg, nullptr, small).code() == Status::Code::kTooLarge);
  small.max_pixels = 1600 * 1004;
  CHECK(Hash(jpg, nullptr, small).ok());
  small.max_bytes = jpg.size() - 1;
  CHECK(Hash(jpg, nullptr, small).code() == Status::Code::kTooLarge);
}

TEST_CASE("randomly corrupted files never crash, and a success is a real hash") {
  std::mt19937 rng(99);
  for (const char* rel : {"misc-images/wee.jpg", "bridge-mods/shrink-a-lot.jpg", "synthetic/synth_17x33_rgb.png",
                          "misc-images/modes/F.webp"}) {
    const auto orig = Conformance(rel);
    for (int i = 0; i < 150; ++i) {
      auto b = orig;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int f = 0; f < flips; ++f) b[rng() % b.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
      ImageHashes h;
      const Status s = Hash(b, &h);
      if (s.ok()) {
        CHECK(h.width > 0);
        CHECK(h.height > 0);
      } else {
        CHECK(!s.message().empty());
      }
    }
  }
}

TEST_CASE("the fetched corpus: malformed and hostile files get errors, format samples hash") {
  const auto dir = ts::ImagesDir();
  if (!ts::RequireData(dir / "MANIFEST.tsv", "run ./setup.sh test (or scripts/fetch-test-images.sh --small DIR with HASHSCREEN_IMAGES=DIR)")) return;
  int errors = 0, hashed = 0;
  for (const char* sub : {"malformed", "formats"}) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir / sub)) {
      if (!e.is_regular_file()) continue;
      const auto bytes = ts::ReadFile(e.path());
      ImageHashes h;
      const auto t0 = std::chrono::steady_clock::now();
      const Status s = Hash(bytes, &h);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const std::string name = e.path().filename().string();
      INFO(e.path().string() << ": " << s.ToString());
      CHECK(secs < 20.0);  // a hang guard, not a speed test
      if (s.ok()) {
        ++hashed;
        CHECK((std::min(h.width, h.height) < 5 || !h.pdq[kOrig].IsZero() || h.quality == 0));
      } else {
        ++errors;
        CHECK(!s.message().empty());
      }
      // Named for what their upstream tests exercise, not for their state:
      // gdk-pixbuf's premature-end.png and Go's *.truncated.{png,jpeg} are
      // complete files (full zlib stream; EOI after whole scans) and hash.
      if (name.find("skimage__data__truncated") != std::string::npos ||
          name.find("premature-end.jpg") != std::string::npos) {
        CHECK(s.code() == Status::Code::kCorruption);
      }
      if (std::string(sub) == "formats" && e.path().parent_path().filename() == "huge-dimensions") {
        CHECK(!s.ok());
      }
    }
  }
  MESSAGE("corpus: " << hashed << " hashed, " << errors << " refused with an error");
  CHECK(hashed > 500);
  CHECK(errors >= 25);
}
