// DecodeImage: image bytes to 8-bit pixels delivered to a PixelSink, with the
// reference's colour policy (what Meta's pdq-photo-hasher gets from
// ImageMagick):
//   JPEG   libjpeg-turbo defaults (ISLOW IDCT, fancy upsampling): the
//          reference's pixels exactly. CMYK/YCCK by the naive formula
//          R = round(C' K' / 255) on the stored (Adobe-inverted) samples.
//   PNG    libpng (CRC-checked, streamed; ImageMagick's own decoder).
//   PNM    our own reader (P1-P6; samples scaled from maxval to 8 bits).
//   GIF, BMP, TGA, PSD   stb_image, driven so that any read past the end
//          of the input is truncation. GIF: the first frame, within its
//          own bounds (as ImageMagick reads it), not the canvas.
//   WebP   libwebp; an animation's first frame, within its own bounds.
//   16-bit samples keep their high byte (the reference keeps the low byte,
//   a bug we deliberately do not copy: docs/hashing.md).
// Alpha is dropped, never composited; palettes are expanded; ICC profiles,
// gamma and EXIF orientation are ignored (the stored pixels are hashed).
//
// Hostile input (docs/hashing.md): the dimensions are checked against
// `limits` from the header, and a header that claims more pixels than the
// input could encode at its codec's maximum compression is refused, both
// before any pixel buffer exists; every big allocation is charged to the
// limits' memory budget before it is made; the decoders' progress hooks
// check the time budget. Truncated input is an error, never a partly
// blank image, and the same bytes always give the same answer: no pixel is
// delivered from memory the decoder did not write.
//
// This is the entry point for fuzzing: any bytes, any limits.
//
// Errors: kTooLarge (over a limit: bytes, pixels, memory, time),
// kUnsupported (not a format we decode), kCorruption (truncated, damaged,
// or claiming more than its bytes can hold). Thread-safe: decodes share no
// state.
#pragma once

#include <cstdint>
#include <span>

#include "hashing/decode_budget.h"
#include "hashing/decode_limits.h"
#include "hashing/image_format.h"
#include "hashing/pixel_sink.h"
#include "base/status.h"

namespace hashing {

using base::Status;

struct DecodedInfo {
  ImageFormat format = ImageFormat::kUnknown;
  int width = 0;   // what was decoded (a GIF or animated WebP: its first frame)
  int height = 0;
  // 1, or 2, 4 or 8 when a JPEG was decoded at reduced size (DecodeScaling):
  // the sink then received about width/scale x height/scale pixels, while
  // width and height stay the image's own.
  int scale = 1;
  // The most memory the decode held at once, as charged to the budget
  // (DecodeLimits::max_decode_memory), whether it succeeded or not.
  uint64_t peak_memory = 0;
};

Status DecodeImage(std::span<const uint8_t> bytes, const DecodeLimits& limits, PixelSink* sink, DecodedInfo* info);

// Opt-in reduced-size decoding (`--fast`, screening.fast_jpeg; never the
// default): a JPEG is decoded by libjpeg-turbo's DCT scaling at the smallest
// of 1/2, 1/4 and 1/8 that keeps both sides at least jpeg_min_side, so most
// of the IDCT, upsampling and colour conversion is skipped. The pixels are
// then not the reference's, and neither is the PDQ hash: it drifts by a few
// bits (docs/datasets.md, "Fast decoding", has the measured distribution).
// Other formats decode at full size.
struct DecodeScaling {
  int jpeg_min_side = 0;  // 0: always full size (exact)
};

// The same, charged to a budget the caller holds (made from the same
// `limits`), so that several decodes of one upload (HashImage's second,
// trimmed pass) share one memory budget and one deadline: the deadline runs
// from the budget's construction, and what the caller holds (charged to the
// budget) counts against each decode. A decode gives back all it charged
// before returning. info->peak_memory is the budget's peak so far.
Status DecodeImage(std::span<const uint8_t> bytes, const DecodeLimits& limits, DecodeBudget* budget,
                   PixelSink* sink, DecodedInfo* info, const DecodeScaling& scaling = {});

// Shared by the decoders: the pixel-count check, with the message users see.
// Overflow-safe for any 64-bit width and height.
Status CheckDimensions(uint64_t width, uint64_t height, const DecodeLimits& limits);

}  // namespace hashing
