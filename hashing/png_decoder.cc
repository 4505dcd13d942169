// PNG through libpng rather than stb_image (a deviation from DESIGN.md, see
// docs/hashing.md): libpng is the decoder ImageMagick, and so the reference,
// uses; it verifies the CRC of every critical chunk (stb skips CRCs, so a
// corrupted IDAT can decode into wrong pixels that then get hashed); it names
// the failure ("Not enough image data"); and it lets non-interlaced images
// stream row by row instead of holding a second full-size copy.
//
// Transformations: palette -> RGB, grey < 8 bits -> 8 bits, tRNS and alpha
// dropped (never composited), 16 bits -> high byte. Gamma, ICC and EXIF are
// ignored, as in the reference.
#include <csetjmp>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <png.h>

#include "hashing/image_decoder.h"

namespace hashing {

namespace {

struct Reader {
  std::span<const uint8_t> bytes;
  size_t pos = 0;
  std::string error;
  Status::Code code = Status::Code::kCorruption;
};

void OnRead(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<Reader*>(png_get_io_ptr(png));
  if (n > r->bytes.size() - r->pos) png_error(png, "truncated PNG (data ends before the image does)");
  std::memcpy(out, r->bytes.data() + r->pos, n);
  r->pos += n;
}

void OnError(png_structp png, png_const_charp message) {
  auto* r = static_cast<Reader*>(png_get_error_ptr(png));
  r->error = message;
  png_longjmp(png, 1);
}

void OnWarning(png_structp, png_const_charp) {}  // ancillary-chunk trouble: the image itself is fine

// Owns the libpng structs and buffers across the longjmp.
struct DecodeState {
  png_structp png = nullptr;
  png_infop info = nullptr;
  Reader reader;
  std::vector<uint8_t> pixels;
  ~DecodeState() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

}  // namespace

Status DecodePng(std::span<const uint8_t> bytes, const DecodeLimits& limits, PixelSink* sink, DecodedInfo* info) {
  auto st = std::make_unique<DecodeState>();
  st->reader.bytes = bytes;
  st->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &st->reader, OnError, OnWarning);
  if (!st->png) return Status::IOError("libpng initialisation failed");
  st->info = png_create_info_struct(st->png);
  if (!st->info) return Status::IOError("libpng initialisation failed");
  Status sink_status;
  if (setjmp(png_jmpbuf(st->png))) {
    if (!sink_status.ok()) return sink_status;
    if (st->reader.code == Status::Code::kTooLarge) return Status::TooLarge(st->reader.error);
    return Status::Corruption("damaged PNG: " + st->reader.error);
  }
  png_set_read_fn(st->png, &st->reader, OnRead);
  // libpng's own caps, in case a header lies: dimensions and ancillary chunk sizes.
  png_set_user_limits(st->png, 1u << 24, 1u << 24);
  png_set_chunk_malloc_max(st->png, 8u << 20);
  png_read_info(st->png, st->info);

  png_uint_32 width = 0, height = 0;
  int depth = 0, colour = 0, interlace = 0;
  png_get_IHDR(st->png, st->info, &width, &height, &depth, &colour, &interlace, nullptr, nullptr);
  info->width = static_cast<int>(width);
  info->height = static_cast<int>(height);
  Status dims = CheckDimensions(width, height, limits);
  if (!dims.ok()) return dims;

  if (colour == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(st->png);
  if (colour == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(st->png);
  if (depth == 16) png_set_strip_16(st->png);  // keeps the high byte
  png_set_strip_alpha(st->png);                // also drops tRNS: we never expand it to alpha
  const int passes = png_set_interlace_handling(st->png);
  png_read_update_info(st->png, st->info);
  const int channels = png_get_channels(st->png, st->info);
  if (channels != 1 && channels != 3) return Status::Corruption("PNG decodes to " + std::to_string(channels) + " channels");

  sink_status = sink->Start(info->width, info->height, channels);
  if (!sink_status.ok()) return sink_status;
  const size_t row_bytes = static_cast<size_t>(width) * channels;
  if (passes == 1) {  // stream: one row at a time
    st->pixels.resize(row_bytes);
    for (png_uint_32 y = 0; y < height; ++y) {
      png_read_row(st->png, st->pixels.data(), nullptr);
      sink->Rows(static_cast<int>(y), 1, st->pixels.data());
    }
  } else {  // Adam7 needs the whole image before any row is final
    st->pixels.resize(row_bytes * height);
    std::vector<png_bytep> rows(height);
    for (png_uint_32 y = 0; y < height; ++y) rows[y] = st->pixels.data() + y * row_bytes;
    png_read_image(st->png, rows.data());
    sink->Rows(0, info->height, st->pixels.data());
  }
  png_read_end(st->png, nullptr);  // reads up to IEND, so a missing tail is an error
  return Status::Ok();
}

}  // namespace hashing
