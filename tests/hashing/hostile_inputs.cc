#include "tests/hashing/hostile_inputs.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <utility>

#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>
#include <webp/encode.h>
#include <zlib.h>

#include "hashing/image_decoder.h"
#include "hashing/image_hasher.h"

namespace hostile {

namespace {

using Bytes = std::vector<uint8_t>;

void Put16le(Bytes& b, uint32_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}
void Put24le(Bytes& b, uint32_t v) {
  Put16le(b, v);
  b.push_back(static_cast<uint8_t>(v >> 16));
}
void Put32le(Bytes& b, uint32_t v) {
  Put16le(b, v);
  Put16le(b, v >> 16);
}
void Put16be(Bytes& b, uint32_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void Put32be(Bytes& b, uint32_t v) {
  Put16be(b, v >> 16);
  Put16be(b, v);
}
void Append(Bytes& b, const std::string& s) { b.insert(b.end(), s.begin(), s.end()); }

class CollectSink : public hashing::PixelSink {
 public:
  explicit CollectSink(Pixels* p) : p_(p) {}
  base::Status Start(int w, int h, int c) override {
    p_->width = w, p_->height = h, p_->channels = c;
    p_->data.assign(static_cast<size_t>(w) * h * c, 0);
    return base::Status::Ok();
  }
  void Rows(int y, int n, const uint8_t* d) override {
    const size_t row = static_cast<size_t>(p_->width) * p_->channels;
    std::memcpy(p_->data.data() + y * row, d, n * row);
  }

 private:
  Pixels* p_;
};

Pixels Rgb(const Pixels& p) {
  if (p.channels == 3) return p;
  Pixels out{p.width, p.height, 3, {}};
  for (uint8_t v : p.data) out.data.insert(out.data.end(), {v, v, v});
  return out;
}

// ---- PackBits and TGA RLE ---------------------------------------------------

Bytes PackBits(const uint8_t* d, size_t n) {
  Bytes out;
  size_t i = 0;
  while (i < n) {
    size_t run = 1;
    while (i + run < n && run < 128 && d[i + run] == d[i]) ++run;
    if (run >= 2) {
      out.push_back(static_cast<uint8_t>(257 - run));
      out.push_back(d[i]);
      i += run;
      continue;
    }
    size_t lit = 1;
    while (i + lit < n && lit < 128 && !(i + lit + 1 < n && d[i + lit] == d[i + lit + 1])) ++lit;
    out.push_back(static_cast<uint8_t>(lit - 1));
    out.insert(out.end(), d + i, d + i + lit);
    i += lit;
  }
  return out;
}

// One row of `n` pixels of `size` bytes each as TGA RLE packets.
void TgaRleRow(const uint8_t* px, int n, int size, Bytes& out) {
  int i = 0;
  auto same = [&](int a, int b) { return std::memcmp(px + a * size, px + b * size, size) == 0; };
  while (i < n) {
    int run = 1;
    while (i + run < n && run < 128 && same(i, i + run)) ++run;
    if (run >= 2) {
      out.push_back(static_cast<uint8_t>(0x80 | (run - 1)));
      out.insert(out.end(), px + i * size, px + (i + 1) * size);
      i += run;
      continue;
    }
    int lit = 1;
    while (i + lit < n && lit < 128 && !(i + lit + 1 < n && same(i + lit, i + lit + 1))) ++lit;
    out.push_back(static_cast<uint8_t>(lit - 1));
    out.insert(out.end(), px + i * size, px + (i + lit) * size);
    i += lit;
  }
}

// ---- PNG helpers (chunks, for the hand-built bombs) -------------------------

void PngChunk(Bytes& b, const char* type, const Bytes& data) {
  Put32be(b, static_cast<uint32_t>(data.size()));
  const size_t start = b.size();
  b.insert(b.end(), type, type + 4);
  b.insert(b.end(), data.begin(), data.end());
  Put32be(b, static_cast<uint32_t>(crc32(0, b.data() + start, static_cast<uInt>(b.size() - start))));
}

Bytes PngWithIdat(uint32_t width, uint32_t height, int depth, int colour, bool interlaced, const Bytes& zdata) {
  Bytes b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  Bytes ihdr;
  Put32be(ihdr, width);
  Put32be(ihdr, height);
  ihdr.insert(ihdr.end(), {static_cast<uint8_t>(depth), static_cast<uint8_t>(colour), 0, 0, static_cast<uint8_t>(interlaced)});
  PngChunk(b, "IHDR", ihdr);
  PngChunk(b, "IDAT", zdata);
  PngChunk(b, "IEND", {});
  return b;
}

Bytes Deflate(const Bytes& raw) {
  uLongf n = compressBound(static_cast<uLong>(raw.size()));
  Bytes out(n);
  if (compress2(out.data(), &n, raw.data(), static_cast<uLong>(raw.size()), 9) != Z_OK) std::abort();
  out.resize(n);
  return out;
}

}  // namespace

std::vector<uint8_t> PngDeflateBomb(uint32_t width, uint32_t height) {
  const size_t row = 1 + (static_cast<size_t>(width) + 7) / 8;  // filter byte + 1-bit samples
  return PngWithIdat(width, height, 1, 0, false, Deflate(Bytes(row * height, 0)));
}

namespace {

// ---- RIFF (WebP) -----------------------------------------------------------

struct Chunk {
  std::string fourcc;
  Bytes data;
};

std::vector<Chunk> RiffChunks(std::span<const uint8_t> webp) {
  std::vector<Chunk> chunks;
  size_t p = 12;
  while (p + 8 <= webp.size()) {
    const uint32_t n = webp[p + 4] | webp[p + 5] << 8 | webp[p + 6] << 16 | uint32_t{webp[p + 7]} << 24;
    chunks.push_back({std::string(webp.begin() + p, webp.begin() + p + 4), Bytes(webp.begin() + p + 8, webp.begin() + p + 8 + n)});
    p += 8 + n + (n & 1);
  }
  return chunks;
}

void PutChunk(Bytes& b, const std::string& fourcc, const Bytes& data) {
  Append(b, fourcc);
  Put32le(b, static_cast<uint32_t>(data.size()));
  b.insert(b.end(), data.begin(), data.end());
  if (data.size() & 1) b.push_back(0);
}

Bytes Riff(const Bytes& chunks) {
  Bytes b;
  Append(b, "RIFF");
  Put32le(b, static_cast<uint32_t>(4 + chunks.size()));
  Append(b, "WEBP");
  b.insert(b.end(), chunks.begin(), chunks.end());
  return b;
}

// The canvas-free bitstream of a still WebP: its ALPH/VP8/VP8L chunks.
Bytes FrameData(std::span<const uint8_t> still) {
  Bytes frame;
  for (const auto& c : RiffChunks(still)) {
    if (c.fourcc == "ALPH" || c.fourcc == "VP8 " || c.fourcc == "VP8L") PutChunk(frame, c.fourcc, c.data);
  }
  return frame;
}

}  // namespace

// ---- files and pixels -------------------------------------------------------

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::vector<uint8_t> ConformanceImage(const std::string& rel) {
  return ReadFile(std::string(HASHSCREEN_SOURCE_DIR) + "/tests/data/pdq/images/" + rel);
}

Pixels Decode(std::span<const uint8_t> bytes) {
  Pixels p;
  CollectSink sink(&p);
  hashing::DecodedInfo info;
  const base::Status s = hashing::DecodeImage(bytes, hashing::DecodeLimits(), &sink, &info);
  if (!s.ok()) {
    std::fprintf(stderr, "hostile_inputs: a fixture does not decode: %s\n", s.ToString().c_str());
    std::abort();
  }
  return p;
}

Pixels Grey(const Pixels& p) {
  if (p.channels == 1) return p;
  Pixels out{p.width, p.height, 1, {}};
  for (size_t i = 0; i < p.data.size(); i += 3) out.data.push_back(static_cast<uint8_t>((p.data[i] + p.data[i + 1] + p.data[i + 2]) / 3));
  return out;
}

// ---- writers ------------------------------------------------------------------

std::vector<uint8_t> WritePnm(const Pixels& in, int kind, int maxval) {
  const bool colour = kind == 3 || kind == 6;
  const Pixels p = colour ? Rgb(in) : Grey(in);
  Bytes b;
  // Piecewise: GCC 12 warns falsely (-Wrestrict, its bug 105329) on one long concatenation.
  for (const std::string& part : {std::string("P") + std::to_string(kind), std::string("\n# written by hostile_inputs\n"),
                                  std::to_string(p.width), std::string(" "), std::to_string(p.height), std::string("\n")}) {
    Append(b, part);
  }
  if (kind != 1 && kind != 4) {
    Append(b, std::to_string(maxval));
    b.push_back('\n');
  }
  auto scaled = [&](uint8_t v) { return (uint32_t{v} * maxval + 127) / 255; };
  const int c = p.channels;
  for (int y = 0; y < p.height; ++y) {
    if (kind == 4) {
      Bytes row((p.width + 7) / 8, 0);
      for (int x = 0; x < p.width; ++x) if (*p.at(x, y) < 128) row[x / 8] |= static_cast<uint8_t>(0x80 >> (x % 8));
      b.insert(b.end(), row.begin(), row.end());
      continue;
    }
    for (int x = 0; x < p.width; ++x) {
      for (int k = 0; k < c; ++k) {
        const uint8_t v = p.at(x, y)[k];
        if (kind == 1) {
          b.push_back(v < 128 ? '1' : '0');  // no separators: allowed in P1
        } else if (kind == 2 || kind == 3) {
          Append(b, std::to_string(scaled(v)) + (x + 1 == p.width && k + 1 == c ? "" : " "));
        } else if (maxval > 255) {
          Put16be(b, scaled(v));
        } else {
          b.push_back(static_cast<uint8_t>(scaled(v)));
        }
      }
    }
    if (kind <= 3) b.push_back('\n');
  }
  return b;
}

std::vector<uint8_t> WriteTga(const Pixels& in, int type) {
  const bool indexed = type == 1 || type == 9, rgb = type == 2 || type == 10, rle = type >= 8;
  const Pixels p = rgb ? Rgb(in) : Grey(in);
  Bytes b = {0, static_cast<uint8_t>(indexed), static_cast<uint8_t>(type)};
  Put16le(b, 0);
  Put16le(b, indexed ? 256 : 0);
  b.push_back(indexed ? 24 : 0);
  Put16le(b, 0);
  Put16le(b, 0);
  Put16le(b, static_cast<uint32_t>(p.width));
  Put16le(b, static_cast<uint32_t>(p.height));
  b.push_back(rgb ? 24 : 8);
  b.push_back(rgb ? 0x00 : 0x20);  // RGB stored bottom-up, the others top-down
  if (indexed) {
    for (int i = 0; i < 256; ++i) b.insert(b.end(), {static_cast<uint8_t>(i), static_cast<uint8_t>(i), static_cast<uint8_t>(i)});
  }
  const int size = rgb ? 3 : 1;
  for (int r = 0; r < p.height; ++r) {
    const int y = rgb ? p.height - 1 - r : r;
    Bytes row;
    for (int x = 0; x < p.width; ++x) {
      if (rgb) row.insert(row.end(), {p.at(x, y)[2], p.at(x, y)[1], p.at(x, y)[0]});
      else row.push_back(*p.at(x, y));
    }
    if (rle) TgaRleRow(row.data(), p.width, size, b);
    else b.insert(b.end(), row.begin(), row.end());
  }
  return b;
}

std::vector<uint8_t> WritePsd(const Pixels& in, int depth, bool rle, int alpha) {
  const Pixels p = Rgb(in);
  const int channels = alpha < 0 ? 3 : 4;
  Bytes b;
  Append(b, "8BPS");
  Put16be(b, 1);
  b.insert(b.end(), 6, 0);
  Put16be(b, static_cast<uint32_t>(channels));
  Put32be(b, static_cast<uint32_t>(p.height));
  Put32be(b, static_cast<uint32_t>(p.width));
  Put16be(b, static_cast<uint32_t>(depth));
  Put16be(b, 3);
  for (int i = 0; i < 3; ++i) Put32be(b, 0);  // colour mode data, resources, layers
  Put16be(b, rle ? 1 : 0);
  if (!rle) {
    for (int c = 0; c < channels; ++c)
      for (int y = 0; y < p.height; ++y)
        for (int x = 0; x < p.width; ++x) {
          const unsigned v = c == 3 ? static_cast<unsigned>(alpha) : p.at(x, y)[c];
          if (depth == 16) Put16be(b, v * 257u);
          else b.push_back(static_cast<uint8_t>(v));
        }
    return b;
  }
  std::vector<Bytes> rows;
  for (int c = 0; c < channels; ++c)
    for (int y = 0; y < p.height; ++y) {
      Bytes plain;
      for (int x = 0; x < p.width; ++x) plain.push_back(c == 3 ? static_cast<uint8_t>(alpha) : p.at(x, y)[c]);
      rows.push_back(PackBits(plain.data(), plain.size()));
    }
  for (const auto& r : rows) Put16be(b, static_cast<uint32_t>(r.size()));
  for (const auto& r : rows) b.insert(b.end(), r.begin(), r.end());
  return b;
}

std::vector<uint8_t> WriteGif(const Pixels& in, bool interlaced) {
  const Pixels p = Grey(in);
  Bytes b;
  Append(b, "GIF89a");
  Put16le(b, static_cast<uint32_t>(p.width));
  Put16le(b, static_cast<uint32_t>(p.height));
  b.insert(b.end(), {0xF7, 0, 0});  // global colour table of 256
  for (int i = 0; i < 256; ++i) b.insert(b.end(), {static_cast<uint8_t>(i), static_cast<uint8_t>(i), static_cast<uint8_t>(i)});
  b.push_back(0x2C);
  Put16le(b, 0);
  Put16le(b, 0);
  Put16le(b, static_cast<uint32_t>(p.width));
  Put16le(b, static_cast<uint32_t>(p.height));
  b.push_back(interlaced ? 0x40 : 0);
  b.push_back(8);  // LZW minimum code size
  // "Uncompressed" LZW: 9-bit codes, one per pixel, a clear code every 254
  // so the code size never grows.
  std::vector<int> rows;
  if (interlaced) {
    for (int start : {0, 4, 2, 1})
      for (int y = start; y < p.height; y += (start == 0 ? 8 : start == 4 ? 8 : start == 2 ? 4 : 2)) rows.push_back(y);
  } else {
    for (int y = 0; y < p.height; ++y) rows.push_back(y);
  }
  Bytes data;
  uint32_t acc = 0;
  int bits = 0;
  auto emit = [&](uint32_t code) {
    acc |= code << bits;
    bits += 9;
    while (bits >= 8) {
      data.push_back(static_cast<uint8_t>(acc));
      acc >>= 8;
      bits -= 8;
    }
  };
  int since_clear = 0;
  emit(256);
  for (int y : rows)
    for (int x = 0; x < p.width; ++x) {
      if (since_clear == 254) emit(256), since_clear = 0;
      emit(*p.at(x, y));
      ++since_clear;
    }
  emit(257);
  if (bits > 0) data.push_back(static_cast<uint8_t>(acc));
  for (size_t i = 0; i < data.size(); i += 255) {
    const size_t n = std::min<size_t>(255, data.size() - i);
    b.push_back(static_cast<uint8_t>(n));
    b.insert(b.end(), data.begin() + i, data.begin() + i + n);
  }
  b.push_back(0);
  b.push_back(0x3B);
  return b;
}

std::vector<uint8_t> WriteBmp(const Pixels& in, int bpp, bool top_down) {
  const Pixels p = bpp >= 24 ? Rgb(in) : Grey(in);
  const int colours = bpp <= 8 ? 1 << bpp : 0;
  const uint32_t stride = (static_cast<uint32_t>(p.width) * bpp + 31) / 32 * 4;
  const uint32_t offset = 14 + 40 + 4 * colours;
  Bytes b = {'B', 'M'};
  Put32le(b, offset + stride * p.height);
  Put32le(b, 0);
  Put32le(b, offset);
  Put32le(b, 40);
  Put32le(b, static_cast<uint32_t>(p.width));
  Put32le(b, static_cast<uint32_t>(top_down ? -p.height : p.height));
  Put16le(b, 1);
  Put16le(b, static_cast<uint32_t>(bpp));
  for (int i = 0; i < 6; ++i) Put32le(b, 0);  // BI_RGB, sizes, resolutions, colours used/important
  for (int i = 0; i < colours; ++i) {
    const uint8_t v = static_cast<uint8_t>(i * 255 / (colours - 1));
    b.insert(b.end(), {v, v, v, 0});
  }
  for (int r = 0; r < p.height; ++r) {
    const int y = top_down ? r : p.height - 1 - r;
    Bytes row(stride, 0);
    for (int x = 0; x < p.width; ++x) {
      const uint8_t* px = p.at(x, y);
      switch (bpp) {
        case 1: if (px[0] >= 128) row[x / 8] |= static_cast<uint8_t>(0x80 >> (x % 8)); break;
        case 4: row[x / 2] |= static_cast<uint8_t>((px[0] >> 4) << (x % 2 ? 0 : 4)); break;
        case 8: row[x] = px[0]; break;
        case 24: row[3 * x] = px[2], row[3 * x + 1] = px[1], row[3 * x + 2] = px[0]; break;
        default: row[4 * x] = px[2], row[4 * x + 1] = px[1], row[4 * x + 2] = px[0]; break;
      }
    }
    b.insert(b.end(), row.begin(), row.end());
  }
  return b;
}

namespace {
void PngWrite(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}
void PngFlush(png_structp) {}
}  // namespace

std::vector<uint8_t> WritePng(const Pixels& in, PngKind kind) {
  const Pixels p = kind == PngKind::kPalette ? Grey(in) : in;
  Bytes out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) std::abort();
  png_set_write_fn(png, &out, PngWrite, PngFlush);
  const int colour = kind == PngKind::kPalette ? PNG_COLOR_TYPE_PALETTE : p.channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY;
  png_set_IHDR(png, info, static_cast<png_uint_32>(p.width), static_cast<png_uint_32>(p.height), kind == PngKind::kSixteenBit ? 16 : 8,
               colour, kind == PngKind::kInterlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_color palette[256];
  for (int i = 0; i < 256; ++i) palette[i] = {static_cast<png_byte>(i), static_cast<png_byte>(i), static_cast<png_byte>(i)};
  if (kind == PngKind::kPalette) png_set_PLTE(png, info, palette, 256);
  png_write_info(png, info);
  const size_t row_samples = static_cast<size_t>(p.width) * p.channels;
  std::vector<Bytes> rows(p.height);
  for (int y = 0; y < p.height; ++y) {
    for (size_t i = 0; i < row_samples; ++i) {
      const uint8_t v = p.data[y * row_samples + i];
      if (kind == PngKind::kSixteenBit) rows[y].insert(rows[y].end(), {v, static_cast<uint8_t>(v ^ 0x5A)});
      else rows[y].push_back(v);
    }
  }
  std::vector<png_bytep> pointers;
  for (auto& r : rows) pointers.push_back(r.data());
  png_write_image(png, pointers.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

std::vector<uint8_t> WriteJpeg(const Pixels& p, JpegKind kind) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  unsigned char* mem = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &mem, &size);
  cinfo.image_width = static_cast<JDIMENSION>(p.width);
  cinfo.image_height = static_cast<JDIMENSION>(p.height);
  cinfo.input_components = p.channels;
  cinfo.in_color_space = p.channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 90, TRUE);
  if (kind == JpegKind::kProgressive) jpeg_simple_progression(&cinfo);
  if (kind == JpegKind::kArithmetic) cinfo.arith_code = TRUE;
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(p.data.data()) + static_cast<size_t>(cinfo.next_scanline) * p.width * p.channels;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  Bytes out(mem, mem + size);
  std::free(mem);
  return out;
}

std::vector<uint8_t> WriteWebp(const Pixels& in, WebpKind kind) {
  const Pixels p = Rgb(in);
  uint8_t* mem = nullptr;
  size_t n = 0;
  if (kind == WebpKind::kLossyAlpha) {
    Bytes rgba;
    for (int y = 0; y < p.height; ++y)
      for (int x = 0; x < p.width; ++x) rgba.insert(rgba.end(), {p.at(x, y)[0], p.at(x, y)[1], p.at(x, y)[2], static_cast<uint8_t>(x * 255 / p.width)});
    n = WebPEncodeRGBA(rgba.data(), p.width, p.height, p.width * 4, 80, &mem);
  } else if (kind == WebpKind::kLossless) {
    n = WebPEncodeLosslessRGB(p.data.data(), p.width, p.height, p.width * 3, &mem);
  } else {
    n = WebPEncodeRGB(p.data.data(), p.width, p.height, p.width * 3, 80, &mem);
  }
  if (n == 0) std::abort();
  Bytes out(mem, mem + n);
  WebPFree(mem);
  return out;
}

std::vector<uint8_t> AnimatedWebp(int canvas_width, int canvas_height, int x, int y, std::span<const uint8_t> still) {
  WebPBitstreamFeatures f;
  if (WebPGetFeatures(still.data(), still.size(), &f) != VP8_STATUS_OK) std::abort();
  const Bytes frame = FrameData(still);
  Bytes chunks;
  Bytes vp8x = {static_cast<uint8_t>(0x02 | (f.has_alpha ? 0x10 : 0)), 0, 0, 0};
  Put24le(vp8x, static_cast<uint32_t>(canvas_width - 1));
  Put24le(vp8x, static_cast<uint32_t>(canvas_height - 1));
  PutChunk(chunks, "VP8X", vp8x);
  Bytes anim = {0xFF, 0xFF, 0xFF, 0xFF, 0, 0};
  PutChunk(chunks, "ANIM", anim);
  for (auto [fx, fy] : {std::pair{x, y}, std::pair{0, 0}}) {
    Bytes anmf;
    Put24le(anmf, static_cast<uint32_t>(fx / 2));
    Put24le(anmf, static_cast<uint32_t>(fy / 2));
    Put24le(anmf, static_cast<uint32_t>(f.width - 1));
    Put24le(anmf, static_cast<uint32_t>(f.height - 1));
    Put24le(anmf, 100);
    anmf.push_back(0x02);  // no blending, no disposal
    anmf.insert(anmf.end(), frame.begin(), frame.end());
    PutChunk(chunks, "ANMF", anmf);
  }
  return Riff(chunks);
}

// ---- samples ------------------------------------------------------------------

std::vector<Sample> FormatSamples() {
  const Bytes wee = ConformanceImage("misc-images/wee.jpg");
  const Pixels rgb = Decode(wee);  // 34x42 photograph
  const Pixels grey = Grey(rgb);
  std::vector<Sample> s;
  auto add = [&](std::string name, Bytes bytes, size_t min_length, size_t complete_at = 0) {
    const size_t size = bytes.size();
    s.push_back({std::move(name), std::move(bytes), complete_at ? complete_at : size, min_length});
  };
  add("jpeg: wee.jpg", wee, 3);
  add("jpeg: baseline", WriteJpeg(rgb, JpegKind::kBaseline), 3);
  add("jpeg: progressive", WriteJpeg(rgb, JpegKind::kProgressive), 3);
  add("jpeg: progressive grey", WriteJpeg(grey, JpegKind::kProgressive), 3);
  add("jpeg: arithmetic", WriteJpeg(rgb, JpegKind::kArithmetic), 3);
  add("png: synth_17x33_rgb.png", ConformanceImage("synthetic/synth_17x33_rgb.png"), 8);
  add("png: rgb", WritePng(rgb, PngKind::kPlain), 8);
  add("png: interlaced", WritePng(rgb, PngKind::kInterlaced), 8);
  add("png: palette", WritePng(grey, PngKind::kPalette), 8);
  add("png: 16-bit", WritePng(rgb, PngKind::kSixteenBit), 8);
  add("webp: lossy", WriteWebp(rgb, WebpKind::kLossy), 12);
  add("webp: lossless", WriteWebp(rgb, WebpKind::kLossless), 12);
  add("webp: lossy with alpha", WriteWebp(rgb, WebpKind::kLossyAlpha), 12);
  add("webp: animated", AnimatedWebp(40, 50, 2, 4, WriteWebp(rgb, WebpKind::kLossy)), 12);
  {
    Bytes gif = WriteGif(grey, false);
    const size_t frame_end = gif.size() - 1;  // the trailer follows the only frame
    add("gif: grey", std::move(gif), 6, frame_end);
    Bytes interlaced = WriteGif(grey, true);
    const size_t interlaced_end = interlaced.size() - 1;
    add("gif: interlaced", std::move(interlaced), 6, interlaced_end);
  }
  add("bmp: 1-bit", WriteBmp(grey, 1), 2);
  add("bmp: 4-bit", WriteBmp(grey, 4), 2);
  add("bmp: 8-bit", WriteBmp(grey, 8), 2);
  add("bmp: 24-bit", WriteBmp(rgb, 24), 2);
  add("bmp: 32-bit", WriteBmp(rgb, 32), 2);
  add("bmp: 24-bit top-down", WriteBmp(rgb, 24, true), 2);
  for (int kind : {4, 5, 6}) add("pnm: P" + std::to_string(kind), WritePnm(rgb, kind), 2);
  {
    Bytes p1 = WritePnm(rgb, 1);
    const size_t last_digit = p1.size() - 1;  // before the final newline
    add("pnm: P1", std::move(p1), 2, last_digit);
  }
  add("pnm: P5 maxval 65535", WritePnm(rgb, 5, 65535), 2);
  add("pnm: P6 maxval 1000", WritePnm(rgb, 6, 1000), 2);
  for (int kind : {2, 3}) {
    // A text raster cut inside its last number is a valid file with a
    // smaller last sample; cuts before the last number are truncations.
    Bytes b = WritePnm(rgb, kind, kind == 2 ? 15 : 255);
    size_t last = b.size() - 1;  // the final newline
    while (last > 0 && b[last - 1] >= '0' && b[last - 1] <= '9') --last;
    add("pnm: P" + std::to_string(kind), std::move(b), 2, last + 1);
  }
  for (int type : {1, 2, 3, 9, 10, 11}) add("tga: type " + std::to_string(type), WriteTga(rgb, type), 18);
  add("psd: raw 8-bit", WritePsd(rgb, 8, false), 4);
  add("psd: raw 16-bit", WritePsd(rgb, 16, false), 4);
  add("psd: RLE", WritePsd(rgb, 8, true), 4);
  return s;
}

std::vector<size_t> CutPoints(const Sample& s, size_t count) {
  std::set<size_t> cuts;
  const size_t lo = s.min_length, hi = s.complete_at;  // cuts in [lo, hi)
  if (hi <= lo) return {};
  const size_t edge = count / 4;
  for (size_t i = 0; i < edge && lo + i < hi; ++i) cuts.insert(lo + i);
  for (size_t i = 0; i < edge && i < hi - lo; ++i) cuts.insert(hi - 1 - i);
  for (size_t i = 1; i <= count - 2 * edge; ++i) cuts.insert(lo + (hi - lo) * i / (count - 2 * edge + 1));
  return std::vector<size_t>(cuts.begin(), cuts.end());
}

// ---- bombs ------------------------------------------------------------------

std::vector<uint8_t> FifteenBytePnm() {
  const std::string s = "P6\n512 512\n255\n";
  return Bytes(s.begin(), s.end());
}

std::vector<uint8_t> GifHugeCanvasTinyFrame() {
  Bytes b;
  Append(b, "GIF89a");
  Put16le(b, 10000);
  Put16le(b, 10000);
  b.insert(b.end(), {0x80, 0, 0, 0, 0, 0, 255, 255, 255});  // 2-entry global colour table
  b.push_back(0x2C);
  Put16le(b, 0), Put16le(b, 0), Put16le(b, 1), Put16le(b, 1);
  b.insert(b.end(), {0, 2, 2, 0x44, 0x01, 0, 0x3B});
  return b;
}

std::vector<uint8_t> AnimatedWebpHugeCanvasTinyFrame() {
  const Pixels one{1, 1, 3, Bytes(3, 200)};
  return AnimatedWebp(10000, 10000, 0, 0, WriteWebp(one, WebpKind::kLossless));
}

std::vector<Bomb> Bombs() {
  std::vector<Bomb> bombs;
  bombs.push_back({"gif: 10000x10000 canvas around a 1x1 frame", GifHugeCanvasTinyFrame()});
  {
    Bytes gif = GifHugeCanvasTinyFrame();
    gif[24] = gif[26] = 0x10, gif[25] = gif[27] = 0x27;  // the frame: 10000x10000
    bombs.push_back({"gif: 10000x10000 frame, 3 bytes of LZW data", gif});
  }
  bombs.push_back({"webp: animated, 10000x10000 canvas around a 1x1 frame", AnimatedWebpHugeCanvasTinyFrame()});
  {
    // A one-colour lossless image costs no bits per pixel: its 16x16
    // bitstream with the header saying 10000x10000 is a valid 100 MP image.
    Bytes webp = WriteWebp(Pixels{16, 16, 3, Bytes(768, 90)}, WebpKind::kLossless);
    const uint32_t dims = 9999u | 9999u << 14;  // width-1, height-1 (14 bits each), then alpha and version bits
    for (int i = 0; i < 4; ++i) webp[21 + i] = static_cast<uint8_t>(i < 3 ? dims >> (8 * i) : (webp[24] & 0xF0) | (dims >> 24 & 0x0F));
    bombs.push_back({"webp: lossless, one colour, 10000x10000", webp});
  }
  {
    Bytes webp = WriteWebp(Pixels{16, 16, 3, Bytes(768, 90)}, WebpKind::kLossy);
    webp[26] = 0x10, webp[27] = 0x27, webp[28] = 0x10, webp[29] = 0x27;  // VP8 key frame: 10000x10000, no scaling
    bombs.push_back({"webp: lossy, 10000x10000 header over a 16x16 frame", webp});
  }
  {
    Bytes psd;
    Append(psd, "8BPS");
    Put16be(psd, 1);
    psd.insert(psd.end(), 6, 0);
    Put16be(psd, 3), Put32be(psd, 10000), Put32be(psd, 10000), Put16be(psd, 8), Put16be(psd, 3);
    Put32be(psd, 0), Put32be(psd, 0), Put32be(psd, 0), Put16be(psd, 0);
    bombs.push_back({"psd: 10000x10000, header only", psd});
    psd[psd.size() - 1] = 1;  // RLE, and no row table
    bombs.push_back({"psd: 10000x10000 RLE, header only", psd});
  }
  {
    Bytes tga = {0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    Put16le(tga, 10000), Put16le(tga, 10000);
    tga.insert(tga.end(), {32, 0x20});
    bombs.push_back({"tga: 10000x10000, header only", tga});
    tga[2] = 10;  // RLE
    tga.insert(tga.end(), {0xFF, 1, 2, 3, 4});  // one packet of 128 pixels
    bombs.push_back({"tga: 10000x10000 RLE, one packet", tga});
  }
  {
    // 1 x 16,000,000 interlaced: 32 MB of scanlines, from 8 KB of zlib data.
    const Bytes z = Deflate(Bytes(8u << 20, 0));
    bombs.push_back({"png: 1x16000000 interlaced, " + std::to_string(z.size() / 1024) + " KB of IDAT",
                     PngWithIdat(1, 16'000'000, 8, 0, true, z)});
    bombs.push_back({"png: 1x16000000 interlaced, 4 zero bytes of IDAT", PngWithIdat(1, 16'000'000, 8, 0, true, Deflate(Bytes(4, 0)))});
  }
  {
    // A quantisation table, SOF0 10000x10000 with 3 components, then a scan
    // with no data (libjpeg-turbo supplies the standard Huffman tables).
    Bytes jpeg = {0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00};
    jpeg.insert(jpeg.end(), 64, 1);
    jpeg.insert(jpeg.end(), {0xFF, 0xC0, 0x00, 0x11, 0x08, 0x27, 0x10, 0x27, 0x10, 0x03, 0x01, 0x22, 0x00, 0x02,
                             0x11, 0x00, 0x03, 0x11, 0x00, 0xFF, 0xDA, 0x00, 0x0C, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11,
                             0x00, 0x3F, 0x00, 0x00, 0x00, 0xFF, 0xD9});
    bombs.push_back({"jpeg: 10000x10000, no scan data", jpeg});
  }
  {
    Bytes bmp(54, 0);
    bmp[0] = 'B', bmp[1] = 'M', bmp[10] = 54, bmp[14] = 40, bmp[26] = 1, bmp[28] = 24;
    bmp[18] = 0x10, bmp[19] = 0x27, bmp[22] = 0x10, bmp[23] = 0x27;
    bombs.push_back({"bmp: 10000x10000, header only", bmp});
  }
  bombs.push_back({"pnm: P6 512x512, header only", FifteenBytePnm()});
  {
    const std::string s = "P5\n9999 9999\n255\n";
    bombs.push_back({"pnm: P5 9999x9999, header only", Bytes(s.begin(), s.end())});
  }
  return bombs;
}

// ---- measurement ----------------------------------------------------------------

namespace {
int64_t StatusKb(const char* field) {
  std::ifstream status("/proc/self/status");
  const size_t n = std::strlen(field);
  for (std::string line; std::getline(status, line);)
    if (line.compare(0, n, field) == 0) {
      size_t from = n;
      while (from < line.size() && (line[from] == ' ' || line[from] == '\t')) ++from;
      int64_t kb = -1;
      std::from_chars(line.data() + from, line.data() + line.size(), kb);
      return kb;
    }
  return -1;
}
}  // namespace

ChildDecode DecodeInChild(std::span<const uint8_t> bytes) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    // Reset the high-water mark to the current RSS (Linux >= 4.0), so the
    // peak is this decode's; without it the fork's RSS is the baseline.
    // Return the parent's freed heap to the system first: glibc keeps it
    // resident, and reusing it would hide this decode's allocations.
    malloc_trim(0);
    const int clear = open("/proc/self/clear_refs", O_WRONLY);
    if (clear >= 0) {
      (void)!write(clear, "5", 1);
      close(clear);
    }
    const int64_t before = StatusKb("VmRSS:");
    hashing::ImageHashes h;
    const base::Status s = hashing::HashImage(bytes, hashing::HashOptions(), &h);
    const int64_t peak = StatusKb("VmHWM:");
    const int64_t growth = (peak - before) * 1024;
    const int code = static_cast<int>(s.code());
    const std::string& m = s.message();
    const uint32_t len = static_cast<uint32_t>(m.size());
    (void)!write(fds[1], &growth, sizeof growth);
    (void)!write(fds[1], &code, sizeof code);
    (void)!write(fds[1], &len, sizeof len);
    (void)!write(fds[1], m.data(), len);
    _exit(0);
  }
  close(fds[1]);
  ChildDecode r;
  auto read_all = [&](void* p, size_t n) {
    size_t got = 0;
    while (got < n) {
      const ssize_t k = read(fds[0], static_cast<char*>(p) + got, n - got);
      if (k <= 0) return false;
      got += static_cast<size_t>(k);
    }
    return true;
  };
  uint32_t len = 0;
  if (read_all(&r.peak_growth, sizeof r.peak_growth) && read_all(&r.code, sizeof r.code) && read_all(&len, sizeof len)) {
    r.message.resize(len);
    if (!read_all(r.message.data(), len)) r.code = -1;
  } else {
    r.peak_growth = -1, r.code = -1;
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return r;
}

}  // namespace hostile
