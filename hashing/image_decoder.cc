#include "hashing/image_decoder.h"

#include <climits>
#include <string>

#include "hashing/decode_budget.h"
#include "hashing/format_decoders.h"

namespace hashing {

Status CheckDimensions(uint64_t width, uint64_t height, const DecodeLimits& limits) {
  if (width == 0 || height == 0) {
    return Status::Corruption("image header gives a zero dimension (" + std::to_string(width) + "x" +
                              std::to_string(height) + ")");
  }
  uint64_t pixels = 0;
  const bool overflow = __builtin_mul_overflow(width, height, &pixels);
  if (overflow || pixels > limits.max_pixels || width > INT_MAX || height > INT_MAX) {
    return Status::TooLarge("image is " + std::to_string(width) + "x" + std::to_string(height) + " = " +
                            (overflow ? std::string("more than 2^64") : std::to_string(pixels)) +
                            " pixels, over the limit of " + std::to_string(limits.max_pixels));
  }
  return Status::Ok();
}

Status DecodeImage(std::span<const uint8_t> bytes, const DecodeLimits& limits, PixelSink* sink, DecodedInfo* info) {
  DecodeBudget budget(limits);
  return DecodeImage(bytes, limits, &budget, sink, info);
}

Status DecodeImage(std::span<const uint8_t> bytes, const DecodeLimits& limits, DecodeBudget* budget,
                   PixelSink* sink, DecodedInfo* info, const DecodeScaling& scaling) {
  *info = DecodedInfo();
  if (bytes.empty()) return Status::Unsupported("empty input (0 bytes)");
  if (bytes.size() > limits.max_bytes) {
    return Status::TooLarge(std::to_string(bytes.size()) + " bytes, over the limit of " +
                            std::to_string(limits.max_bytes));
  }
  info->format = SniffFormat(bytes);
  // A budget a previous decode has spent refuses at once: a decode too
  // small to reach a progress hook's clock read must not slip through.
  if (budget->CheckClock()) return budget->DeadlineExceeded();
  const uint64_t held_before = budget->in_use();
  const DecodeJob job{bytes, limits, *budget, sink, info, scaling};
  Status s;
  switch (info->format) {
    case ImageFormat::kJpeg: s = DecodeJpeg(job); break;
    case ImageFormat::kPng: s = DecodePng(job); break;
    case ImageFormat::kWebp: s = DecodeWebp(job); break;
    case ImageFormat::kPnm: s = DecodePnm(job); break;
    default: s = DecodeWithStb(job); break;  // GIF, BMP, PSD; recognises TGA, or says unsupported
  }
  info->peak_memory = budget->peak();
  // The decoder has freed its buffers by now, but charges are made per
  // buffer and not all given back one by one: what this decode charged is
  // returned here, so a next decode on the same budget starts from what the
  // caller held.
  if (budget->in_use() > held_before) budget->Release(budget->in_use() - held_before);
  return s;
}

}  // namespace hashing
