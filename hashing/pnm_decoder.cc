// PNM (netpbm P1-P6) through our own reader rather than stb_image, whose PNM
// loader ignores short reads (a truncated file was hashed from uninitialised
// memory), overflows a signed int on long header numbers, reads only P5/P6
// and ignores maxval. The format is small enough that a strict reader is
// shorter than the workarounds (docs/hashing.md, "Why our own PNM reader").
//
// Format (netpbm): "P1".."P6"; width, height and (except P1/P4) maxval as
// decimal numbers, separated by whitespace, with '#' comments to the end of
// the line wherever whitespace may be; then exactly one whitespace byte and
// the raster:
//   P4 P5 P6  binary. P4: 1 bit per pixel, 1 = black, rows padded to a
//             byte. P5/P6: 1 byte per sample, 2 (big-endian) if maxval > 255.
//   P1 P2 P3  text. P1: '0'/'1' per pixel, separators optional. P2/P3:
//             decimal samples separated by whitespace (comments allowed).
// Samples are scaled to 8 bits: round(v * 255 / maxval) for maxval <= 255;
// for maxval > 255 the high byte of round(v * 65535 / maxval), as the other
// decoders keep the high byte of 16-bit samples. A sample over maxval, a
// header number that is not plain decimal digits, maxval 0 or over 65535,
// and a raster shorter than the header implies are errors. Only the first
// image of a multi-image file is read; bytes after it are ignored.
//
// Streams: rows go to the sink in chunks (binary 8-bit rasters straight
// from the input), so memory is O(width).
#include <algorithm>
#include <string>
#include <vector>

#include "hashing/compression_bounds.h"
#include "hashing/format_decoders.h"

namespace hashing {

namespace {

constexpr uint64_t kChunkRows = 32;

bool IsSpace(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool IsDigit(uint8_t c) { return c >= '0' && c <= '9'; }

std::string ByteName(uint8_t c) {
  static const char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[c >> 4] + kHex[c & 15];
}

class Cursor {
 public:
  explicit Cursor(std::span<const uint8_t> b) : b_(b) {}
  size_t pos() const { return pos_; }
  bool at_end() const { return pos_ >= b_.size(); }
  uint8_t peek() const { return b_[pos_]; }
  void advance() { ++pos_; }
  void skip(size_t n) { pos_ += n; }
  size_t left() const { return b_.size() - pos_; }
  const uint8_t* here() const { return b_.data() + pos_; }

  // Whitespace and '#' comments (to the end of the line).
  void SkipSeparators() {
    while (pos_ < b_.size()) {
      const uint8_t c = b_[pos_];
      if (IsSpace(c)) {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < b_.size() && b_[pos_] != '\n' && b_[pos_] != '\r') ++pos_;
      } else {
        return;
      }
    }
  }

  enum class Number { kOk, kEnd, kNotDigit, kOver };
  // A decimal number after separators. kOver: its value exceeds `max` (the
  // digits are consumed; *out is left at a value over max).
  Number ReadNumber(uint64_t max, uint64_t* out) {
    SkipSeparators();
    if (pos_ >= b_.size()) return Number::kEnd;
    if (!IsDigit(b_[pos_])) return Number::kNotDigit;
    uint64_t v = 0;
    bool over = false;
    while (pos_ < b_.size() && IsDigit(b_[pos_])) {
      if (!over) {
        v = v * 10 + (b_[pos_] - '0');  // v <= max <= 2^40 before this: no overflow
        over = v > max;
      }
      ++pos_;
    }
    *out = v;
    return over ? Number::kOver : Number::kOk;
  }

 private:
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
};

struct Header {
  int kind = 0;          // 1..6
  uint64_t width = 0, height = 0;
  uint64_t maxval = 1;   // P1/P4: 1
  int channels = 1;
  size_t raster = 0;     // offset of the raster (binary: after the one whitespace byte)
};

Status ReadHeader(Cursor& c, const DecodeLimits& limits, Header* h) {
  c.advance();  // 'P' (sniffed)
  h->kind = c.peek() - '0';
  c.advance();
  h->channels = (h->kind == 3 || h->kind == 6) ? 3 : 1;
  const bool has_maxval = h->kind != 1 && h->kind != 4;
  // A single dimension over max_pixels can never pass CheckDimensions; the
  // cap also keeps the accumulation far from overflow.
  const uint64_t dim_cap = limits.max_pixels < (1ull << 40) ? limits.max_pixels : (1ull << 40);
  struct Field {
    const char* name;
    uint64_t* value;
    uint64_t max;
  };
  Field fields[] = {{"width", &h->width, dim_cap}, {"height", &h->height, dim_cap}, {"maxval", &h->maxval, 65535}};
  for (int i = 0; i < (has_maxval ? 3 : 2); ++i) {
    const Field& f = fields[i];
    switch (c.ReadNumber(f.max, f.value)) {
      case Cursor::Number::kOk: break;
      case Cursor::Number::kEnd: return Status::Corruption(std::string("truncated PNM header (no ") + f.name + ")");
      case Cursor::Number::kNotDigit:
        return Status::Corruption(std::string("damaged PNM header: ") + f.name + " is not a decimal number (byte " +
                                  ByteName(c.peek()) + ")");
      case Cursor::Number::kOver:
        if (i == 2) return Status::Corruption("damaged PNM header: maxval over 65535");
        return Status::TooLarge(std::string("PNM ") + f.name + " is over " + std::to_string(f.max) +
                                ", beyond the pixel limit of " + std::to_string(limits.max_pixels));
    }
  }
  if (has_maxval && h->maxval == 0) return Status::Corruption("damaged PNM header: maxval 0");
  // Exactly one whitespace byte ends the header (the text formats allow
  // more before the first sample; ReadNumber skips them).
  if (c.at_end()) return Status::Corruption("truncated PNM (the file ends after its header)");
  if (!IsSpace(c.peek())) {
    return Status::Corruption("damaged PNM header: " + std::string(has_maxval ? "maxval" : "height") +
                              " is followed by byte " + ByteName(c.peek()) + ", not whitespace");
  }
  c.advance();
  h->raster = c.pos();
  return Status::Ok();
}

// maxval-to-8-bit scaling, as a table indexed by the sample.
std::vector<uint8_t> ScaleTable(uint64_t maxval) {
  std::vector<uint8_t> t(maxval + 1);
  for (uint64_t v = 0; v <= maxval; ++v) {
    t[v] = maxval <= 255 ? static_cast<uint8_t>((v * 255 * 2 + maxval) / (2 * maxval))
                         : static_cast<uint8_t>(((v * 65535 * 2 + maxval) / (2 * maxval)) >> 8);
  }
  return t;
}

class PnmDecoder {
 public:
  PnmDecoder(const DecodeJob& job, const Header& h, Cursor& c)
      : job_(job), h_(h), c_(c), row_samples_(h.width * h.channels) {}

  Status Run() {
    HS_RETURN_IF_ERROR(CheckRasterSize());
    HS_RETURN_IF_ERROR(job_.sink->Start(static_cast<int>(h_.width), static_cast<int>(h_.height), h_.channels));
    const bool binary = h_.kind >= 4;
    if (h_.kind == 5 || h_.kind == 6) {
      if (h_.maxval == 255) return Passthrough();
    }
    const uint64_t chunk_bytes = row_samples_ * std::min(kChunkRows, h_.height);
    HS_RETURN_IF_ERROR(job_.budget.Charge(chunk_bytes, "the PNM row buffer"));
    rows_.resize(chunk_bytes);
    if (h_.kind != 1 && h_.kind != 4) {
      HS_RETURN_IF_ERROR(job_.budget.Charge(h_.maxval + 1, "the PNM sample table"));
      scale_ = ScaleTable(h_.maxval);
    }
    for (uint64_t y0 = 0; y0 < h_.height; y0 += kChunkRows) {
      const uint64_t n = std::min(kChunkRows, h_.height - y0);
      for (uint64_t i = 0; i < n; ++i) {
        uint8_t* row = rows_.data() + i * row_samples_;
        HS_RETURN_IF_ERROR(binary ? BinaryRow(row) : TextRow(row, y0 + i));
      }
      if (job_.budget.Tick(n * row_samples_)) return job_.budget.DeadlineExceeded();
      job_.sink->Rows(static_cast<int>(y0), static_cast<int>(n), rows_.data());
    }
    return Status::Ok();
  }

 private:
  // Binary rasters have an exact size; text rasters at least one (a digit per
  // sample, and whitespace between P2/P3 samples). Both refuse a short file
  // before any row is read.
  Status CheckRasterSize() {
    const uint64_t pixels = h_.width * h_.height;
    const uint64_t bytes_per_sample = h_.maxval > 255 ? 2 : 1;
    uint64_t need = 0;
    switch (h_.kind) {
      case 4: need = (h_.width + 7) / 8 * h_.height; break;
      case 5: case 6: need = pixels * h_.channels * bytes_per_sample; break;
      case 1: need = pixels; break;
      default: need = 2 * pixels * h_.channels - 1; break;
    }
    if (c_.left() < need) {
      return Status::Corruption("truncated PNM: a " + std::to_string(h_.width) + "x" + std::to_string(h_.height) + " P" +
                                std::to_string(h_.kind) + " raster needs " + (h_.kind <= 3 ? "at least " : "") +
                                std::to_string(need) + " bytes after the header; the file has " +
                                std::to_string(c_.left()));
    }
    return Status::Ok();
  }

  // P5/P6 with maxval 255: the input rows are the pixels.
  Status Passthrough() {
    for (uint64_t y0 = 0; y0 < h_.height; y0 += kChunkRows) {
      const uint64_t n = std::min(kChunkRows, h_.height - y0);
      if (job_.budget.Tick(n * row_samples_)) return job_.budget.DeadlineExceeded();
      job_.sink->Rows(static_cast<int>(y0), static_cast<int>(n), c_.here() + y0 * row_samples_);
    }
    return Status::Ok();
  }

  // Sizes were checked: every byte read here exists.
  Status BinaryRow(uint8_t* row) {
    if (h_.kind == 4) {
      const uint8_t* in = c_.here();
      for (uint64_t x = 0; x < h_.width; ++x) row[x] = (in[x >> 3] >> (7 - (x & 7)) & 1) ? 0 : 255;
      c_.skip((h_.width + 7) / 8);
      return Status::Ok();
    }
    const uint8_t* in = c_.here();
    const bool wide = h_.maxval > 255;
    for (uint64_t i = 0; i < row_samples_; ++i) {
      const uint64_t v = wide ? (uint64_t{in[2 * i]} << 8 | in[2 * i + 1]) : in[i];
      if (v > h_.maxval) return OverMaxval(v);
      row[i] = scale_[v];
    }
    c_.skip(row_samples_ * (wide ? 2 : 1));
    return Status::Ok();
  }

  Status TextRow(uint8_t* row, uint64_t y) {
    for (uint64_t i = 0; i < row_samples_; ++i) {
      if (h_.kind == 1) {
        c_.SkipSeparators();
        if (c_.at_end()) return TextEnds(y);
        const uint8_t ch = c_.peek();
        if (ch != '0' && ch != '1') return Status::Corruption("damaged PNM: byte " + ByteName(ch) + " in a P1 raster");
        row[i] = ch == '1' ? 0 : 255;
        c_.advance();
        continue;
      }
      uint64_t v = 0;
      switch (c_.ReadNumber(h_.maxval, &v)) {
        case Cursor::Number::kOk: break;
        case Cursor::Number::kEnd: return TextEnds(y);
        case Cursor::Number::kNotDigit:
          return Status::Corruption("damaged PNM: byte " + ByteName(c_.peek()) + " where a sample should be");
        case Cursor::Number::kOver: return OverMaxval(v);
      }
      // Samples are separated: a digit right after a number would have been
      // part of it, so only a non-separator is an error, and it is caught
      // as kNotDigit by the next read.
      row[i] = scale_[v];
    }
    return Status::Ok();
  }

  Status TextEnds(uint64_t y) const {
    return Status::Corruption("truncated PNM (the raster ends in row " + std::to_string(y) + " of " +
                              std::to_string(h_.height) + ")");
  }
  Status OverMaxval(uint64_t v) const {
    return Status::Corruption("damaged PNM: sample " + std::to_string(v) + " is over maxval " + std::to_string(h_.maxval));
  }

  const DecodeJob& job_;
  const Header& h_;
  Cursor& c_;
  const uint64_t row_samples_;
  std::vector<uint8_t> rows_;
  std::vector<uint8_t> scale_;
};

}  // namespace

Status DecodePnm(const DecodeJob& job) {
  Cursor c(job.bytes);
  Header h;
  HS_RETURN_IF_ERROR(ReadHeader(c, job.limits, &h));
  HS_RETURN_IF_ERROR(CheckDimensions(h.width, h.height, job.limits));
  job.info->width = static_cast<int>(h.width);
  job.info->height = static_cast<int>(h.height);
  PnmDecoder decoder(job, h, c);
  return decoder.Run();
}

}  // namespace hashing
