#include "hashing/stb_prescan.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "hashing/compression_bounds.h"
#include "hashing/image_decoder.h"

namespace hashing {

namespace {

uint32_t Le(std::span<const uint8_t> b, size_t at, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | b[at + i];
  return v;
}

uint32_t Be(std::span<const uint8_t> b, size_t at, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = v << 8 | b[at + i];
  return v;
}

// a * b and a + b, or UINT64_MAX when they overflow (then never "fits" in a file).
uint64_t Mul(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}
uint64_t Add(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

std::string Dims(uint64_t w, uint64_t h) { return std::to_string(w) + "x" + std::to_string(h); }

std::string Hex(uint8_t c) {
  static const char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[c >> 4] + kHex[c & 15];
}

Status Truncated(const char* format, const std::string& what, uint64_t need, uint64_t have) {
  return Status::Corruption(std::string("truncated ") + format + ": " + what + " needs " + std::to_string(need) +
                            " bytes; the file has " + std::to_string(have));
}

// ---- GIF -------------------------------------------------------------------

Status PrescanGif(std::span<const uint8_t> b, const DecodeLimits& limits, StbPrescan* out) {
  const Status truncated = Status::Corruption("truncated GIF (the first frame ends early)");
  if (b.size() < 13) return truncated;
  out->canvas_width = Le(b, 6, 2);
  out->canvas_height = Le(b, 8, 2);
  HS_RETURN_IF_ERROR(CheckDimensions(out->canvas_width, out->canvas_height, limits));
  const uint8_t screen_flags = b[10];
  size_t p = 13;
  if (screen_flags & 0x80) p += 3u << ((screen_flags & 7) + 1);  // global colour table
  // Sub-blocks from p to their zero terminator; false if the data ends first.
  auto skip_sub_blocks = [&](uint64_t* total) -> bool {
    for (;;) {
      if (p >= b.size()) return false;
      const uint8_t n = b[p++];
      if (n == 0) return true;
      p += n;
      *total += n;
    }
  };
  for (;;) {
    if (p >= b.size()) return truncated;
    const uint8_t block = b[p++];
    if (block == 0x21) {  // extension: label, then sub-blocks
      ++p;
      uint64_t ignored = 0;
      if (!skip_sub_blocks(&ignored)) return truncated;
      continue;
    }
    if (block == 0x3B) return Status::Corruption("GIF has no image (trailer before the first frame)");
    if (block != 0x2C) return Status::Corruption("damaged GIF (unknown block type " + Hex(block) + ")");
    // The first image descriptor.
    const size_t descriptor = p;
    if (p + 9 > b.size()) return truncated;
    const uint64_t x = Le(b, p, 2), y = Le(b, p + 2, 2), w = Le(b, p + 4, 2), h = Le(b, p + 6, 2);
    const uint8_t frame_flags = b[p + 8];
    p += 9;
    if (frame_flags & 0x80) p += 3u << ((frame_flags & 7) + 1);  // local colour table
    if (p >= b.size()) return truncated;
    const uint8_t lzw_code_size = b[p++];
    uint64_t lzw_bytes = 0;
    if (!skip_sub_blocks(&lzw_bytes)) return truncated;
    if (!(screen_flags & 0x80) && !(frame_flags & 0x80)) return Status::Corruption("damaged GIF (the first frame has no colour table)");
    if (lzw_code_size > 12) return Status::Corruption("damaged GIF (LZW code size " + std::to_string(lzw_code_size) + ")");
    if (x + w > out->canvas_width || y + h > out->canvas_height) {
      return Status::Corruption("damaged GIF (the first frame, " + Dims(w, h) + " at " + std::to_string(x) + "," +
                                std::to_string(y) + ", lies outside its " + Dims(out->canvas_width, out->canvas_height) +
                                " canvas)");
    }
    out->width = w;
    out->height = h;
    HS_RETURN_IF_ERROR(CheckDimensions(w, h, limits));
    if (w * h > Mul(kGifMaxPixelsPerLzwByte, lzw_bytes)) {
      return Implausible("a " + Dims(w, h) + " GIF frame", MinBytesFor(w * h, kGifMaxPixelsPerLzwByte), "LZW data",
                         "at most " + std::to_string(kGifMaxPixelsPerLzwByte) + " pixels per byte", lzw_bytes);
    }
    // The frame as a file of its own: the canvas is the frame, at 0,0; the
    // extensions before it (transparency) are kept; then the trailer.
    out->rewritten.assign(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(p));
    auto put16 = [&](size_t at, uint64_t v) {
      out->rewritten[at] = static_cast<uint8_t>(v & 0xFF);
      out->rewritten[at + 1] = static_cast<uint8_t>(v >> 8);
    };
    put16(6, w);
    put16(8, h);
    put16(descriptor, 0);
    put16(descriptor + 2, 0);
    out->rewritten.push_back(0x3B);
    out->channels = 3;
    return Status::Ok();
  }
}

// ---- BMP -------------------------------------------------------------------

// Every colour index of an uncompressed 1-, 4- or 8-bit image names one of
// the `palette` entries stb_image reads.
Status CheckBmpIndices(std::span<const uint8_t> b, uint64_t offset, uint64_t stride, uint64_t width, uint64_t height,
                       int bpp, int64_t palette) {
  if (palette < 1) return Status::Corruption("damaged BMP (a paletted image without a palette)");
  if (palette >= (int64_t{1} << bpp)) return Status::Ok();
  const unsigned mask = (1u << bpp) - 1;
  for (uint64_t y = 0; y < height; ++y) {
    const uint8_t* row = b.data() + offset + y * stride;
    for (uint64_t x = 0; x < width; ++x) {
      const uint64_t bit = x * bpp;
      const unsigned index = row[bit / 8] >> (8 - bpp - bit % 8) & mask;
      if (index >= palette) {
        return Status::Corruption("damaged BMP (pixel " + std::to_string(x) + " of stored row " + std::to_string(y) +
                                  " uses colour " + std::to_string(index) + " of a " + std::to_string(palette) +
                                  "-entry palette)");
      }
    }
  }
  return Status::Ok();
}

Status PrescanBmp(std::span<const uint8_t> b, const DecodeLimits& limits, StbPrescan* out) {
  if (b.size() < 26) return Status::Corruption("truncated BMP header");
  const uint64_t offset = Le(b, 10, 4);
  const uint32_t header_size = Le(b, 14, 4);
  int64_t width, height;
  uint64_t bpp, compression = 0;
  if (header_size == 12) {  // OS/2 core header
    width = Le(b, 18, 2), height = Le(b, 20, 2), bpp = Le(b, 24, 2);
  } else {
    if (b.size() < 34) return Status::Corruption("truncated BMP header");
    width = static_cast<int32_t>(Le(b, 18, 4));
    height = std::llabs(static_cast<int32_t>(Le(b, 22, 4)));  // negative: stored top-down
    bpp = Le(b, 28, 2), compression = Le(b, 30, 4);
  }
  if (width < 0) return Status::Corruption("damaged BMP (width " + std::to_string(width) + ")");
  out->width = out->canvas_width = static_cast<uint64_t>(width);
  out->height = out->canvas_height = static_cast<uint64_t>(height);
  HS_RETURN_IF_ERROR(CheckDimensions(out->width, out->height, limits));
  // Only uncompressed layouts have a size we can check (0 = BI_RGB,
  // 3 = BI_BITFIELDS); stb_image refuses every other compression, and
  // header sizes other than these, before allocating.
  const bool known_header = header_size == 12 || header_size == 40 || header_size == 56 || header_size == 108 ||
                            header_size == 124;
  if (!known_header || (compression != 0 && compression != 3)) return Status::Ok();
  const uint64_t stride = Add(Mul(out->width, bpp), 31) / 32 * 4;
  const uint64_t need = Add(offset, Mul(stride, out->height));
  if (need > b.size()) return Truncated("BMP", "the " + Dims(out->width, out->height) + " pixel array", need, b.size());
  if (bpp == 1 || bpp == 4 || bpp == 8) {
    // stb_image's palette size, by its formula (for OS/2 headers it counts
    // 4 entries fewer than the file may hold).
    const int64_t off = static_cast<int32_t>(offset);
    const int64_t palette = header_size == 12 ? (off - 14 - 24) / 3 : (off - 14 - header_size) >> 2;
    if (palette > 256) return Status::Corruption("damaged BMP (a palette of " + std::to_string(palette) + " entries)");
    HS_RETURN_IF_ERROR(CheckBmpIndices(b, offset, stride, out->width, out->height, static_cast<int>(bpp), palette));
  }
  out->channels = 3;
  return Status::Ok();
}

// ---- TGA -------------------------------------------------------------------

bool OneOf(uint32_t v, std::initializer_list<uint32_t> set) { return std::find(set.begin(), set.end(), v) != set.end(); }

// stb_image's stbi__tga_test, on the raw header.
bool LooksLikeTga(std::span<const uint8_t> b) {
  if (b.size() < 18) return false;
  const uint32_t colour_map = b[1], type = b[2], map_bits = b[7], bpp = b[16];
  if (colour_map > 1) return false;
  if (colour_map == 1) {
    if (!OneOf(type, {1, 9}) || !OneOf(map_bits, {8, 15, 16, 24, 32})) return false;
  } else if (!OneOf(type, {2, 3, 10, 11})) {
    return false;
  }
  if (Le(b, 12, 2) < 1 || Le(b, 14, 2) < 1) return false;
  if (colour_map == 1 && !OneOf(bpp, {8, 16})) return false;
  return OneOf(bpp, {8, 15, 16, 24, 32});
}

Status PrescanTga(std::span<const uint8_t> b, const DecodeLimits& limits, StbPrescan* out) {
  const uint64_t id_length = b[0];
  const bool indexed = b[1] == 1;
  const bool rle = b[2] >= 8;
  const bool grey = (b[2] & 7) == 3;
  const uint64_t map_start = Le(b, 3, 2), map_length = Le(b, 5, 2), map_bits = b[7];
  out->width = out->canvas_width = Le(b, 12, 2);
  out->height = out->canvas_height = Le(b, 14, 2);
  const uint64_t bpp = b[16];
  HS_RETURN_IF_ERROR(CheckDimensions(out->width, out->height, limits));
  // stb_image's stbi__tga_get_comp: 8 bits grey, 16 bits grey+alpha for
  // grey types, 15/16 bits RGB, 24/32 bits RGB(A); the palette's for indexed.
  const uint64_t colour_bits = indexed ? map_bits : bpp;
  out->channels = colour_bits == 8 || (colour_bits == 16 && grey && !indexed) ? 1 : 3;
  uint64_t start = 18 + id_length;
  if (indexed) {
    if (map_length == 0) return Status::Corruption("damaged TGA (an empty colour map)");
    // As stb_image reads it: it skips map_start bytes, then the entries.
    start += map_start + map_length * (map_bits == 15 || map_bits == 16 ? 2 : map_bits / 8);
  }
  const uint64_t pixel_bytes = indexed ? bpp / 8 : (bpp + 7) / 8;
  const uint64_t pixels = out->width * out->height;
  const std::string what = "a " + Dims(out->width, out->height) + (rle ? " RLE" : "") + " TGA";
  if (!rle) {
    const uint64_t need = start + pixels * pixel_bytes;
    if (need > b.size()) return Truncated("TGA", what, need, b.size());
    return Status::Ok();
  }
  const uint64_t least = MinBytesFor(pixels, kTgaRleMaxPixelsPerPacket) * (1 + pixel_bytes);
  const uint64_t have = b.size() > start ? b.size() - start : 0;
  if (least > have) {
    return Implausible(what, least, "pixel data", "a packet repeats one pixel at most 128 times", have);
  }
  return Status::Ok();
}

// ---- PSD -------------------------------------------------------------------

Status PrescanPsd(std::span<const uint8_t> b, const DecodeLimits& limits, StbPrescan* out) {
  if (b.size() < 26) return Status::Corruption("truncated PSD header");
  const uint32_t version = Be(b, 4, 2);
  if (version == 2) return Status::Unsupported("PSB (Photoshop large document) files are not supported");
  if (version != 1) return Status::Corruption("damaged PSD (version " + std::to_string(version) + ")");
  const uint64_t channels = Be(b, 12, 2);
  out->height = out->canvas_height = Be(b, 14, 4);
  out->width = out->canvas_width = Be(b, 18, 4);
  const uint32_t depth = Be(b, 22, 2), mode = Be(b, 24, 2);
  if (mode != 3) return Status::Unsupported("PSD colour mode " + std::to_string(mode) + " (only RGB, mode 3, is decoded)");
  if (depth != 8 && depth != 16) return Status::Unsupported("PSD with " + std::to_string(depth) + "-bit channels (8 and 16 are decoded)");
  if (channels < 3) return Status::Corruption("damaged PSD (an RGB image with " + std::to_string(channels) + " channels)");
  if (channels > 16) return Status::Unsupported("PSD with " + std::to_string(channels) + " channels (at most 16 are decoded)");
  HS_RETURN_IF_ERROR(CheckDimensions(out->width, out->height, limits));
  size_t p = 26;
  for (const char* section : {"colour mode data", "image resources", "layer and mask information"}) {
    if (b.size() - p < 4) return Truncated("PSD", std::string("the length of its ") + section, p + 4, b.size());
    const uint64_t length = Be(b, p, 4);
    p += 4;
    if (length > b.size() - p) return Truncated("PSD", std::string("its ") + section, p + length, b.size());
    p += length;
  }
  if (b.size() - p < 2) return Truncated("PSD", "its compression field", p + 2, b.size());
  const uint32_t compression = Be(b, p, 2);
  p += 2;
  const uint64_t have = b.size() - p;
  const uint64_t pixels = out->width * out->height;
  const std::string what = "a " + Dims(out->width, out->height) + " " + std::to_string(channels) + "-channel PSD";
  out->channels = 3;
  // The file as stb_image should see it: more than 3 channels become the
  // first 3, each channel's data being contiguous (planar, in channel order).
  auto rewrite_as_rgb = [&](std::span<const uint8_t> row_table, uint64_t data_bytes) {
    if (channels == 3) return;
    out->rewritten.assign(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(p));
    out->rewritten[12] = 0, out->rewritten[13] = 3;
    out->rewritten.insert(out->rewritten.end(), row_table.begin(), row_table.end());
    const size_t data = p + channels * 2 * (row_table.empty() ? 0 : out->height);
    out->rewritten.insert(out->rewritten.end(), b.begin() + static_cast<std::ptrdiff_t>(data),
                          b.begin() + static_cast<std::ptrdiff_t>(data + data_bytes));
  };
  if (compression == 0) {
    const uint64_t need = Mul(Mul(pixels, channels), depth / 8);
    if (need > have) return Truncated("PSD", what + "'s image data", p + need, b.size());
    rewrite_as_rgb({}, need / channels * 3);
    return Status::Ok();
  }
  if (compression != 1) return Status::Unsupported("PSD compression " + std::to_string(compression) + " (raw and RLE are decoded)");
  if (depth != 8) return Status::Unsupported("16-bit RLE-compressed PSD (stb_image decodes RLE at 8 bits only)");
  // The row table: a 2-byte compressed length per row of every channel.
  const uint64_t rows = Mul(out->height, channels);
  if (Mul(rows, 2) > have) return Truncated("PSD", what + "'s RLE row table", p + Mul(rows, 2), b.size());
  const uint64_t shortest_row = 2 * MinBytesFor(out->width, kPackBitsMaxBytesPerPair);
  const uint64_t decoded_rows = out->height * 3;  // R, G, B: the rows stb_image decodes
  uint64_t data = 0, decoded_data = 0;
  for (uint64_t r = 0; r < rows; ++r) {
    const uint64_t length = Be(b, p + 2 * r, 2);
    if (r < decoded_rows && length < shortest_row) {
      return Implausible("a " + std::to_string(out->width) + "-pixel PSD row", shortest_row, "RLE data",
                         "PackBits repeats a byte at most 128 times in 2", length);
    }
    data += length;
    if (r < decoded_rows) decoded_data += length;
  }
  if (rows * 2 + data > have) return Truncated("PSD", what + "'s RLE data", p + rows * 2 + data, b.size());
  rewrite_as_rgb(b.subspan(p, decoded_rows * 2), decoded_data);
  return Status::Ok();
}

}  // namespace

Status PrescanForStb(ImageFormat sniffed, std::span<const uint8_t> bytes, const DecodeLimits& limits, StbPrescan* out) {
  *out = StbPrescan();
  switch (sniffed) {
    case ImageFormat::kGif: out->format = sniffed; return PrescanGif(bytes, limits, out);
    case ImageFormat::kBmp: out->format = sniffed; return PrescanBmp(bytes, limits, out);
    case ImageFormat::kPsd: out->format = sniffed; return PrescanPsd(bytes, limits, out);
    case ImageFormat::kUnknown:
      if (LooksLikeTga(bytes)) {
        out->format = ImageFormat::kTga;
        return PrescanTga(bytes, limits, out);
      }
      return Status::Unsupported("not an image format hashscreen decodes (JPEG, PNG, GIF, BMP, PNM, PSD, TGA, WebP)");
    default: return Status::Unsupported(std::string("stb_image does not decode ") + ImageFormatName(sniffed));
  }
}

}  // namespace hashing
