#include "hashing/image_decoder.h"

#include <string>

namespace hashing {

Status CheckDimensions(uint64_t width, uint64_t height, const DecodeLimits& limits) {
  if (width == 0 || height == 0) {
    return Status::Corruption("image header gives a zero dimension (" + std::to_string(width) + "x" +
                              std::to_string(height) + ")");
  }
  if (width * height > limits.max_pixels) {
    return Status::TooLarge("image is " + std::to_string(width) + "x" + std::to_string(height) + " = " +
                            std::to_string(width * height) + " pixels, over the limit of " +
                            std::to_string(limits.max_pixels));
  }
  return Status::Ok();
}

Status DecodeImage(std::span<const uint8_t> bytes, const DecodeLimits& limits, PixelSink* sink, DecodedInfo* info) {
  *info = DecodedInfo();
  if (bytes.empty()) return Status::Unsupported("empty input (0 bytes)");
  if (bytes.size() > limits.max_bytes) {
    return Status::TooLarge(std::to_string(bytes.size()) + " bytes, over the limit of " +
                            std::to_string(limits.max_bytes));
  }
  info->format = SniffFormat(bytes);
  switch (info->format) {
    case ImageFormat::kJpeg: return DecodeJpeg(bytes, limits, sink, info);
    case ImageFormat::kPng: return DecodePng(bytes, limits, sink, info);
    case ImageFormat::kWebp: return DecodeWebp(bytes, limits, sink, info);
    default: return DecodeWithStb(bytes, limits, sink, info);  // also recognises TGA, or says unsupported
  }
}

}  // namespace hashing
