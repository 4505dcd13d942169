// DecodeImage: image bytes to 8-bit pixels delivered to a PixelSink, with the
// reference's colour policy (what Meta's pdq-photo-hasher gets from
// ImageMagick):
//   JPEG   libjpeg-turbo defaults (ISLOW IDCT, fancy upsampling): the
//          reference's pixels exactly. CMYK/YCCK by the naive formula
//          R = round(C' K' / 255) on the stored (Adobe-inverted) samples.
//   PNG    libpng (CRC-checked, streamed; ImageMagick's own decoder);
//   GIF (first frame), BMP, PNM (P5/P6), TGA, PSD   stb_image, after a
//          structural check that the first frame (GIF) or the pixel array
//          (uncompressed BMP) is complete: stb reads past the end of its
//          input as zero bytes instead of failing.
//   16-bit samples keep their high byte (the reference keeps the low byte,
//   a bug we deliberately do not copy: docs/hashing.md).
//   WebP   libwebp; an animation's first frame.
// Alpha is dropped, never composited; palettes are expanded; ICC profiles,
// gamma and EXIF orientation are ignored (the stored pixels are hashed).
//
// Limits are checked from the header before any pixel is decoded, and the
// decoders' own allocations are capped by what the limits imply.
//
// Errors: kTooLarge (over a limit), kUnsupported (not a format we decode),
// kCorruption (truncated or damaged). Thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "hashing/decode_limits.h"
#include "hashing/image_format.h"
#include "hashing/pixel_sink.h"
#include "base/status.h"

namespace hashing {

using base::Status;

struct DecodedInfo {
  ImageFormat format = ImageFormat::kUnknown;
  int width = 0;
  int height = 0;
};

Status DecodeImage(std::span<const uint8_t> bytes, const DecodeLimits& limits, PixelSink* sink, DecodedInfo* info);

// Shared by the decoders: the pixel-count check, with the message users see.
Status CheckDimensions(uint64_t width, uint64_t height, const DecodeLimits& limits);

// One decoder per library, each in its own file. `info` gets width/height
// once the header is read; `format` is set by the caller.
Status DecodeJpeg(std::span<const uint8_t> bytes, const DecodeLimits& limits, PixelSink* sink, DecodedInfo* info);
Status DecodePng(std::span<const uint8_t> bytes, const DecodeLimits& limits, PixelSink* sink, DecodedInfo* info);
Status DecodeWithStb(std::span<const uint8_t> bytes, const DecodeLimits& limits, PixelSink* sink, DecodedInfo* info);
Status DecodeWebp(std::span<const uint8_t> bytes, const DecodeLimits& limits, PixelSink* sink, DecodedInfo* info);

}  // namespace hashing
