// Image transforms for the robustness benchmark (bench/robustness) and the
// tests that check a fixed subset of them (tests/hashing/robustness_test.cc):
// what a re-upload does to a picture (re-encoding, resizing, colour edits,
// mirroring, rotation, EXIF orientation, crops, borders, bars, captions,
// logos), each ending in the bytes an uploader would send.
//
// Everything runs in this process: pixels come from hashscreen's own
// decoders (hashing::DecodeImage, so a transform starts from exactly the
// pixels the screener hashes), pixel edits are plain code here, JPEG is
// written by libjpeg-turbo's TurboJPEG API (4:2:0, as phones and most
// sites write it) and PNG by libpng. No external tool runs.
//
// Every transform is deterministic: the same image and transform give the
// same bytes (noise comes from a seeded generator, never from the clock).
//
// Errors: functions return base::Status (the encoders' failures, bad
// parameters); they never throw. Thread-safety: all functions are pure and
// may run concurrently; the catalogue is immutable.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace robustness {

using base::Status;

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

// An 8-bit RGB picture, rows top first, 3 bytes per pixel, no padding.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;

  Image() = default;
  Image(int w, int h, Rgb fill = {});
  uint8_t* at(int x, int y) { return rgb.data() + (static_cast<size_t>(y) * width + x) * 3; }
  const uint8_t* at(int x, int y) const { return rgb.data() + (static_cast<size_t>(y) * width + x) * 3; }
};

// Decodes with hashing::DecodeImage (default limits); grey images come back
// with R = G = B.
Status DecodeToRgb(std::span<const uint8_t> bytes, Image* out);

// Encoders. JPEG: TurboJPEG, quality 1..100, 4:2:0 subsampling, accurate DCT.
// PNG: libpng, 8-bit RGB, stored (uncompressed) deflate blocks: the pixels
// are what matter, and compression would dominate the benchmark's time.
Status EncodeJpeg(const Image& image, int quality, std::vector<uint8_t>* out);
Status EncodePng(const Image& image, std::vector<uint8_t>* out);
// Inserts an APP1 Exif segment right after SOI holding one IFD0 entry,
// Orientation (0x0112) = `orientation` (1..8); the pixels are not touched.
Status SetExifOrientation(int orientation, std::vector<uint8_t>* jpeg);

// Pixel transforms. Sizes are rounded to whole pixels and never below 1.
// Resampling with a triangle filter widened by the scale factor (antialiased
// bilinear, as Pillow's BILINEAR resize does).
Image Resize(const Image& in, int width, int height);
// Luma 0.299 R + 0.587 G + 0.114 B into all three channels.
Image Greyscale(const Image& in);
// Separable Gaussian, kernel radius ceil(3 sigma), edges clamped.
Image GaussianBlur(const Image& in, double sigma);
// Additive Gaussian noise of standard deviation `sigma` (levels of 255) per
// channel, from a generator seeded with `seed`.
Image AddNoise(const Image& in, double sigma, uint64_t seed);
// v * factor (Pillow's ImageEnhance.Brightness).
Image Brightness(const Image& in, double factor);
// mean + factor * (v - mean), mean = the image's mean luma (ImageEnhance.Contrast).
Image Contrast(const Image& in, double factor);
// 255 * (v / 255) ^ gamma.
Image Gamma(const Image& in, double gamma);
// What a viewer shows for EXIF orientation 1..8 of stored pixels `in`
// (2 mirror left-right, 3 rotate 180, 4 mirror top-bottom, 5 transpose,
// 6 rotate 90 clockwise, 7 transverse, 8 rotate 90 counter-clockwise).
Image ApplyOrientation(const Image& in, int orientation);
// The orientation whose ApplyOrientation undoes `orientation`'s.
int InverseOrientation(int orientation);
// The rectangle [x, x + w) x [y, y + h), clipped to the image.
Image Crop(const Image& in, int x, int y, int w, int h);
// Rotation by `degrees` counter-clockwise about the centre, bilinear, on a
// canvas of the same size; uncovered corners are `fill`.
Image Rotate(const Image& in, double degrees, Rgb fill);
// A frame of the given widths in `fill` around the picture.
Image AddBorder(const Image& in, int left, int top, int right, int bottom, Rgb fill);
// Text in a 5x7 bitmap font (A-Z, 0-9, space, . , - ! ? : ' /; other
// characters draw as blanks); each font pixel is `scale` x `scale` pixels,
// blended with `alpha` (0..1). Clipped to the image.
void DrawText(Image* image, int x, int y, int scale, std::string_view text, Rgb colour, double alpha = 1.0);
// Width and height in pixels of `text` drawn at `scale`.
int TextWidth(std::string_view text, int scale);
int TextHeight(int scale);
// A bar of `fraction` of the height (white, black text) added below (or
// above) the picture, as meme generators and messaging apps add.
Image AddCaptionBar(const Image& in, double fraction, bool top);
// A small opaque logo (a badge with a disc and two letters) in the
// bottom-right corner, `fraction` of the width wide.
Image OverlayLogo(const Image& in, double fraction);
// Large half-transparent white text across the middle (a watermark).
Image OverlayWatermark(const Image& in);

// One named transform of the catalogue: an image in, the uploaded bytes out.
struct Transform {
  std::string name;   // e.g. "jpeg-50", "border-10-black"
  std::string group;  // the target it counts towards, e.g. "benign", "border"
  std::string what;   // one line for the report
  std::function<Status(const Image& in, uint64_t seed, std::vector<uint8_t>* bytes)> apply;
};

// Groups: "control", "benign", "dihedral", "exif", "crop", "rotate", "border",
// "bar", "overlay", "combo". Lossless transforms are written as PNG, so only
// the transform itself changes the pixels.
const std::vector<Transform>& Catalogue();
// nullptr if no transform has that name.
const Transform* FindTransform(std::string_view name);

}  // namespace robustness
