// The per-format decoders behind DecodeImage (hashing/image_decoder.h), one
// file each: jpeg_decoder.cc (libjpeg-turbo), png_decoder.cc (libpng),
// webp_decoder.cc (libwebp), pnm_decoder.cc (our own reader),
// stb_decoder.cc (stb_image: GIF, BMP, TGA, PSD). Internal to hashing/.
//
// Each one: reads the header; sets info->width/height to what it will
// decode; refuses, before allocating pixels, dimensions over the limits and
// headers that claim more than the input can encode (compression_bounds.h);
// charges its big allocations to `budget` first and checks its deadline in
// the library's progress hook; delivers rows to `sink` only from buffers it
// has fully written; and returns kCorruption when the input ends before the
// image does. `info->format` is set by the caller (stb_decoder.cc may refine
// kUnknown to kTga).
#pragma once

#include <cstdint>
#include <span>

#include "hashing/decode_budget.h"
#include "hashing/image_decoder.h"

namespace hashing {

struct DecodeJob {
  std::span<const uint8_t> bytes;
  const DecodeLimits& limits;
  DecodeBudget& budget;
  PixelSink* sink;
  DecodedInfo* info;
  DecodeScaling scaling;  // honoured by DecodeJpeg only
};

Status DecodeJpeg(const DecodeJob& job);
Status DecodePng(const DecodeJob& job);
Status DecodeWebp(const DecodeJob& job);
Status DecodePnm(const DecodeJob& job);
Status DecodeWithStb(const DecodeJob& job);

}  // namespace hashing
