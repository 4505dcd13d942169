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
//
// Hostile input: every chunk's declared length against the bytes the file
// has left, before libpng runs (libpng allocates a chunk's data before
// reading it, and on read its chunk_malloc_max is only a warning, so a
// 299-byte file whose zTXt claimed 240 MiB cost 240 MiB; found by
// fuzz_decode_png); the dimensions against the limits, and the scanlines the
// header implies against what deflate can expand the file's bytes to
// (compression_bounds.h), both before any pixel buffer; every libpng
// allocation and our row or interlace buffer charged to the budget; the
// deadline checked after every row (libpng's read-status callback).
//
// libpng reports errors by longjmp. Everything that must survive it lives in
// a heap DecodeState created before setjmp; the code that runs between
// setjmp and a possible longjmp keeps no object with a destructor on the
// stack (reasons are stored in the state before jumping), so the jump skips
// no cleanup: an interlaced image is read pass by pass into the one buffer,
// with no row-pointer array.
#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <png.h>

#include "hashing/compression_bounds.h"
#include "hashing/format_decoders.h"

namespace hashing {

namespace {

struct DecodeState {
  explicit DecodeState(const DecodeJob& j) : job(j) {}
  ~DecodeState() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
  DecodeState(const DecodeState&) = delete;
  DecodeState& operator=(const DecodeState&) = delete;

  // Runs between setjmp and the end; any libpng call may longjmp out of it,
  // so it keeps no object with a destructor alive across one.
  void Run();
  Status Result() const {
    if (!status.ok()) return status;
    if (job.budget.refused()) return job.budget.MemoryExceeded();
    if (!error.empty()) return Status::Corruption("damaged PNG: " + error);
    return Status::Ok();
  }

  const DecodeJob& job;
  png_structp png = nullptr;
  png_infop info = nullptr;
  size_t pos = 0;             // read position in job.bytes
  uint64_t row_work = 0;      // bytes per row, for the deadline's tick
  Status status;              // a refusal of ours (limits, sink, deadline)
  std::string error;          // libpng's reason
  std::vector<uint8_t> pixels;
};

DecodeState* StateOf(png_structp png) { return static_cast<DecodeState*>(png_get_error_ptr(png)); }

void OnRead(png_structp png, png_bytep out, png_size_t n) {
  DecodeState* s = StateOf(png);
  if (n > s->job.bytes.size() - s->pos) png_error(png, "truncated PNG (data ends before the image does)");
  std::memcpy(out, s->job.bytes.data() + s->pos, n);
  s->pos += n;
}

void OnError(png_structp png, png_const_charp message) {
  DecodeState* s = StateOf(png);
  if (s->error.empty()) s->error = message;
  png_longjmp(png, 1);
}

void OnWarning(png_structp, png_const_charp) {}  // ancillary-chunk trouble: the image itself is fine

void OnRow(png_structp png, png_uint_32, int) {
  DecodeState* s = StateOf(png);
  if (s->job.budget.Tick(s->row_work)) {
    s->status = s->job.budget.DeadlineExceeded();
    png_error(png, "decode deadline");
  }
}

// libpng's allocator: every block charged to the budget, its size kept in a
// header for the free.
constexpr size_t kHeader = 16;

png_voidp Allocate(png_structp png, png_alloc_size_t n) {
  auto* budget = static_cast<DecodeBudget*>(png_get_mem_ptr(png));
  if (n > SIZE_MAX - kHeader || !budget->TryCharge(n + kHeader)) return nullptr;
  auto* p = static_cast<unsigned char*>(std::malloc(n + kHeader));
  if (!p) {
    budget->Release(n + kHeader);
    return nullptr;
  }
  std::memcpy(p, &n, sizeof n);
  return p + kHeader;
}

void Free(png_structp png, png_voidp ptr) {
  if (!ptr) return;
  auto* p = static_cast<unsigned char*>(ptr) - kHeader;
  png_alloc_size_t n;
  std::memcpy(&n, p, sizeof n);
  static_cast<DecodeBudget*>(png_get_mem_ptr(png))->Release(n + kHeader);
  std::free(p);
}

// The inflated size of the image data: per row a filter byte and the packed
// samples, per Adam7 pass for interlaced images. Dimensions are at most
// 2^24 (png_set_user_limits) and pixels at most 64 bits, so no overflow.
uint64_t ScanlineBytes(uint64_t width, uint64_t height, int bits_per_pixel, bool interlaced) {
  auto row = [&](uint64_t cols) { return 1 + (cols * bits_per_pixel + 7) / 8; };
  if (!interlaced) return height * row(width);
  uint64_t total = 0;
  for (int pass = 0; pass < 7; ++pass) {
    const uint64_t cols = PNG_PASS_COLS(width, pass), rows = PNG_PASS_ROWS(height, pass);
    if (cols != 0 && rows != 0) total += rows * row(cols);
  }
  return total;
}

void DecodeState::Run() {
  png_set_read_fn(png, this, OnRead);
  // libpng's own caps, in case a header lies: dimensions and ancillary chunk sizes.
  png_set_user_limits(png, 1u << 24, 1u << 24);
  png_set_chunk_malloc_max(png, 8u << 20);
  png_read_info(png, info);

  png_uint_32 width = 0, height = 0;
  int depth = 0, colour = 0, interlace = 0;
  png_get_IHDR(png, info, &width, &height, &depth, &colour, &interlace, nullptr, nullptr);
  status = CheckDimensions(width, height, job.limits);
  if (!status.ok()) return;
  job.info->width = static_cast<int>(width);
  job.info->height = static_cast<int>(height);
  const uint64_t scanlines = ScanlineBytes(width, height, png_get_channels(png, info) * depth, interlace != PNG_INTERLACE_NONE);
  if (scanlines > kDeflateMaxExpansion * job.bytes.size()) {
    status = Implausible("a " + std::to_string(width) + "x" + std::to_string(height) +
                             (interlace != PNG_INTERLACE_NONE ? " interlaced" : "") + " PNG",
                         MinBytesFor(scanlines, kDeflateMaxExpansion), "data",
                         "its " + std::to_string(scanlines) + " bytes of scanlines, deflated at most 1032:1",
                         job.bytes.size());
    return;
  }

  if (colour == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (colour == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (depth == 16) png_set_strip_16(png);  // keeps the high byte
  png_set_strip_alpha(png);                // also drops tRNS: we never expand it to alpha
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const int channels = png_get_channels(png, info);
  if (channels != 1 && channels != 3) {
    status = Status::Corruption("PNG decodes to " + std::to_string(channels) + " channels");
    return;
  }

  const size_t row_bytes = static_cast<size_t>(width) * channels;
  const uint64_t buffer = passes == 1 ? row_bytes : uint64_t{row_bytes} * height;
  status = job.budget.Charge(buffer, passes == 1 ? "a PNG row" : "the interlaced PNG image");
  if (!status.ok()) return;
  status = job.sink->Start(static_cast<int>(width), static_cast<int>(height), channels);
  if (!status.ok()) return;
  pixels.resize(buffer);
  row_work = row_bytes;
  png_set_read_status_fn(png, OnRow);
  if (passes == 1) {  // stream: one row at a time
    for (png_uint_32 y = 0; y < height; ++y) {
      png_read_row(png, pixels.data(), nullptr);
      job.sink->Rows(static_cast<int>(y), 1, pixels.data());
      if (job.sink->Satisfied()) return;  // a second decode (PixelSink::Satisfied): the rest is known good
    }
  } else {  // Adam7 needs the whole image before any row is final
    for (int pass = 0; pass < passes; ++pass) {
      for (png_uint_32 y = 0; y < height; ++y) png_read_row(png, pixels.data() + y * row_bytes, nullptr);
    }
    job.sink->Rows(0, static_cast<int>(height), pixels.data());
  }
  png_read_end(png, nullptr);  // reads up to IEND, so a missing tail is an error
}

// Walks the chunk headers up to IEND: a chunk whose data and CRC do not fit
// in what the file has left is truncation. png_read_end reads up to IEND,
// so a file this refuses never decoded; now it is refused before libpng
// allocates what the chunk claims.
Status CheckChunkLengths(std::span<const uint8_t> b) {
  size_t p = 8;  // after the signature
  while (p < b.size()) {
    if (b.size() - p < 8) break;  // a cut chunk header: libpng says so
    const uint64_t length = uint64_t{b[p]} << 24 | uint64_t{b[p + 1]} << 16 | uint64_t{b[p + 2]} << 8 | b[p + 3];
    if (length + 12 > b.size() - p) {
      std::string type;
      for (size_t i = p + 4; i < p + 8; ++i) type += (b[i] >= 0x20 && b[i] < 0x7f) ? static_cast<char>(b[i]) : '?';
      return Status::Corruption("truncated PNG: its " + type + " chunk at byte " + std::to_string(p) + " claims " +
                                std::to_string(length) + " bytes and a 4-byte CRC; " + std::to_string(b.size() - p - 8) +
                                " bytes follow its header");
    }
    if (std::memcmp(&b[p + 4], "IEND", 4) == 0) break;
    p += static_cast<size_t>(length) + 12;
  }
  return Status::Ok();
}

}  // namespace

Status DecodePng(const DecodeJob& job) {
  HS_RETURN_IF_ERROR(CheckChunkLengths(job.bytes));
  auto st = std::make_unique<DecodeState>(job);
  st->png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, st.get(), OnError, OnWarning, &job.budget, Allocate, Free);
  if (!st->png) return job.budget.refused() ? job.budget.MemoryExceeded() : Status::IOError("libpng initialisation failed");
  st->info = png_create_info_struct(st->png);
  if (!st->info) return job.budget.refused() ? job.budget.MemoryExceeded() : Status::IOError("libpng initialisation failed");
  if (setjmp(png_jmpbuf(st->png)) == 0) st->Run();
  return st->Result();
}

}  // namespace hashing
