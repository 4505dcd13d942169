// Hostile and truncated inputs of every format hashscreen decodes, built from
// real images, for tests/hashing (hostile_input_test.cc, the Valgrind run of
// uninit_check.cc) and bench/decode_bench.cc.
//
// Real pixels come from photographs of tests/data/pdq (always present); the
// writers below turn them into every format and variant (PNM P1-P6, TGA
// types 1/2/3/9/10/11, PSD raw and RLE, GIF plain and interlaced, BMP
// 1/4/8/24/32-bit and top-down, PNG plain, interlaced, palette, 16-bit,
// JPEG baseline, progressive and arithmetic, WebP lossy, lossless, with
// alpha and animated), so the hostile cases cover every decoder path
// whether or not the fetched corpus is installed.
//
// No doctest here: the Valgrind program links it without a test runner.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace hostile {

// Decoded pixels, top row first, 1 (grey) or 3 (RGB) channels.
struct Pixels {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> data;
  const uint8_t* at(int x, int y) const { return data.data() + (static_cast<size_t>(y) * width + x) * channels; }
};

std::vector<uint8_t> ReadFile(const std::string& path);
// tests/data/pdq/images/<rel>.
std::vector<uint8_t> ConformanceImage(const std::string& rel);
// Decodes with hashing::DecodeImage; aborts on failure (a broken fixture).
Pixels Decode(std::span<const uint8_t> bytes);
// The same pixels as grey (the integer mean of R, G, B).
Pixels Grey(const Pixels& p);

// Writers. Colour formats take RGB pixels; the paletted and grey variants
// take grey pixels (the palette is the 256 greys, or black and white).
std::vector<uint8_t> WritePnm(const Pixels& p, int kind, int maxval = 255);  // kind 1..6; P1/P4 threshold at 128
std::vector<uint8_t> WriteTga(const Pixels& p, int type);                    // 1, 9 (grey palette), 2, 10 (RGB), 3, 11 (grey)
// RGB, 8 or 16 bits (16: v * 257); alpha >= 0 adds a 4th channel of that value (0-255).
std::vector<uint8_t> WritePsd(const Pixels& rgb, int depth, bool rle, int alpha = -1);
std::vector<uint8_t> WriteGif(const Pixels& grey, bool interlaced);
std::vector<uint8_t> WriteBmp(const Pixels& p, int bpp, bool top_down = false);  // 1, 4, 8 (grey), 24, 32 (RGB)
enum class PngKind { kPlain, kInterlaced, kPalette, kSixteenBit };
std::vector<uint8_t> WritePng(const Pixels& p, PngKind kind);  // kPalette takes grey
enum class JpegKind { kBaseline, kProgressive, kArithmetic };
std::vector<uint8_t> WriteJpeg(const Pixels& p, JpegKind kind);
enum class WebpKind { kLossy, kLossless, kLossyAlpha };
std::vector<uint8_t> WriteWebp(const Pixels& rgb, WebpKind kind);
// An animated WebP: a canvas around one frame (the bitstream of a still
// WebP) placed at x, y (even), then a second frame covering the canvas.
std::vector<uint8_t> AnimatedWebp(int canvas_width, int canvas_height, int x, int y, std::span<const uint8_t> still);

// An honest PNG deflate bomb: a valid 1-bit grey all-black image of
// width x height, a few KB that take long to inflate and filter
// (10000 x 10000: 12 KB, ~0.75 s to decode).
std::vector<uint8_t> PngDeflateBomb(uint32_t width, uint32_t height);

// A real image in some format and the shortest prefix of it that decodes:
// every shorter prefix from `min_length` on must be refused as truncated.
struct Sample {
  std::string name;
  std::vector<uint8_t> bytes;
  size_t complete_at = 0;
  size_t min_length = 0;  // below this, the bytes are not recognisably the format
};
// Every decoder path, from tests/data/pdq photographs.
std::vector<Sample> FormatSamples();
// About `count` prefix lengths in [min_length, complete_at): the first
// bytes one by one, then spread evenly, then the last ones.
std::vector<size_t> CutPoints(const Sample& s, size_t count = 40);

// Tiny files whose headers claim 100 megapixels (the review's cases and
// their siblings in every format): each must be refused or decoded cheaply.
struct Bomb {
  std::string name;
  std::vector<uint8_t> bytes;
};
std::vector<Bomb> Bombs();
// "P6\n512 512\n255\n": a header and no pixels.
std::vector<uint8_t> FifteenBytePnm();
// The review's GIF: a 10000x10000 canvas around a 1x1 frame, 35 bytes.
std::vector<uint8_t> GifHugeCanvasTinyFrame();
// An animated WebP: a 10000x10000 canvas around a 1x1 frame.
std::vector<uint8_t> AnimatedWebpHugeCanvasTinyFrame();

// Peak resident-memory growth (bytes) and the status code/message of
// decoding `bytes` in a forked child, so the measurement is this decode's
// alone. `code` is base::Status::Code as an int; -1 if the child died.
struct ChildDecode {
  int64_t peak_growth = -1;
  int code = -1;
  std::string message;
};
ChildDecode DecodeInChild(std::span<const uint8_t> bytes);

}  // namespace hostile
