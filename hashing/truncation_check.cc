#include "hashing/truncation_check.h"

#include <cstdlib>

namespace hashing {

namespace {

Status CheckGif(std::span<const uint8_t> b) {
  const Status truncated = Status::Corruption("truncated GIF (the first frame ends early)");
  size_t p = 13;  // signature + logical screen descriptor
  if (b.size() < p) return truncated;
  if (b[10] & 0x80) p += 3u << ((b[10] & 7) + 1);  // global colour table
  auto skip_sub_blocks = [&]() -> bool {
    for (;;) {
      if (p >= b.size()) return false;
      const uint8_t n = b[p++];
      if (n == 0) return true;
      p += n;
    }
  };
  for (;;) {
    if (p >= b.size()) return truncated;
    const uint8_t block = b[p++];
    if (block == 0x21) {  // extension: label, then sub-blocks
      ++p;
      if (!skip_sub_blocks()) return truncated;
    } else if (block == 0x2C) {  // image descriptor: the first frame
      if (p + 9 > b.size()) return truncated;
      const uint8_t flags = b[p + 8];
      p += 9;
      if (flags & 0x80) p += 3u << ((flags & 7) + 1);
      ++p;  // LZW minimum code size
      return skip_sub_blocks() ? Status::Ok() : truncated;
    } else if (block == 0x3B) {
      return Status::Corruption("GIF has no image (trailer before the first frame)");
    } else {
      return Status::Corruption("damaged GIF (unknown block type)");
    }
  }
}

uint32_t Le(std::span<const uint8_t> b, size_t at, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | b[at + i];
  return v;
}

Status CheckBmp(std::span<const uint8_t> b) {
  if (b.size() < 26) return Status::Corruption("truncated BMP header");
  const uint64_t offset = Le(b, 10, 4);
  const uint32_t dib = Le(b, 14, 4);
  uint64_t width, height, bpp, compression = 0;
  if (dib == 12) {  // OS/2 core header
    width = Le(b, 18, 2), height = Le(b, 20, 2), bpp = Le(b, 24, 2);
  } else {
    if (b.size() < 34) return Status::Corruption("truncated BMP header");
    width = static_cast<uint64_t>(std::llabs(static_cast<int32_t>(Le(b, 18, 4))));
    height = static_cast<uint64_t>(std::llabs(static_cast<int32_t>(Le(b, 22, 4))));
    bpp = Le(b, 28, 2), compression = Le(b, 30, 4);
  }
  // Only uncompressed layouts have a size we can check (0 = BI_RGB,
  // 3 = BI_BITFIELDS, 6 = BI_ALPHABITFIELDS); stb rejects RLE anyway.
  if (compression != 0 && compression != 3 && compression != 6) return Status::Ok();
  const uint64_t stride = (width * bpp + 31) / 32 * 4;
  if (offset + stride * height > b.size()) {
    return Status::Corruption("truncated BMP (pixel data needs " + std::to_string(offset + stride * height) +
                              " bytes, the file has " + std::to_string(b.size()) + ")");
  }
  return Status::Ok();
}

}  // namespace

Status CheckNotTruncated(ImageFormat format, std::span<const uint8_t> bytes) {
  switch (format) {
    case ImageFormat::kGif: return CheckGif(bytes);
    case ImageFormat::kBmp: return CheckBmp(bytes);
    default: return Status::Ok();
  }
}

}  // namespace hashing
