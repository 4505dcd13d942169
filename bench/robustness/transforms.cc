#include "bench/robustness/transforms.h"

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstring>
#include <memory>

#include <png.h>
#include <turbojpeg.h>

#include "hashing/image_decoder.h"

namespace robustness {

namespace {

uint8_t Clamp8(double v) { return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

// Collects decoded rows as RGB.
class RgbSink : public hashing::PixelSink {
 public:
  explicit RgbSink(Image* out) : out_(out) {}
  Status Start(int width, int height, int channels) override {
    channels_ = channels;
    *out_ = Image(width, height);
    return Status::Ok();
  }
  void Rows(int y, int n, const uint8_t* data) override {
    const size_t pixels = static_cast<size_t>(n) * out_->width;
    uint8_t* dst = out_->at(0, y);
    if (channels_ == 3) {
      std::memcpy(dst, data, pixels * 3);
      return;
    }
    for (size_t i = 0; i < pixels; ++i) dst[3 * i] = dst[3 * i + 1] = dst[3 * i + 2] = data[i];
  }

 private:
  Image* out_;
  int channels_ = 0;
};

// splitmix64: a small, well-mixed, seedable generator (deterministic noise).
class Random {
 public:
  explicit Random(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double Uniform() { return (static_cast<double>(Next() >> 11) + 0.5) * 0x1.0p-53; }  // (0, 1)
  double Gaussian() {
    if (have_spare_) {
      have_spare_ = false;
      return spare_;
    }
    const double r = std::sqrt(-2.0 * std::log(Uniform())), t = 2.0 * M_PI * Uniform();
    spare_ = r * std::sin(t);
    have_spare_ = true;
    return r * std::cos(t);
  }

 private:
  uint64_t s_;
  double spare_ = 0;
  bool have_spare_ = false;
};

// Per output position of a 1-D resampling: first input index and weights.
struct Taps {
  std::vector<int> first;
  std::vector<int> count;
  std::vector<float> weights;  // count[i] weights from offset[i]
  std::vector<size_t> offset;
};

Taps TriangleTaps(int in, int out) {
  Taps t;
  const double scale = static_cast<double>(in) / out;
  const double support = std::max(scale, 1.0);
  for (int i = 0; i < out; ++i) {
    const double centre = (i + 0.5) * scale;
    const int lo = std::max(0, static_cast<int>(std::floor(centre - support)));
    const int hi = std::min(in, static_cast<int>(std::ceil(centre + support)));
    t.first.push_back(lo);
    t.offset.push_back(t.weights.size());
    double sum = 0;
    std::vector<double> w;
    for (int x = lo; x < hi; ++x) {
      const double d = std::abs((x + 0.5 - centre) / support);
      w.push_back(d < 1 ? 1 - d : 0);
      sum += w.back();
    }
    if (sum <= 0) {  // cannot happen for in, out >= 1; keep the nearest pixel if it did
      w.assign(w.size(), 0);
      w[0] = sum = 1;
    }
    for (double v : w) t.weights.push_back(static_cast<float>(v / sum));
    t.count.push_back(hi - lo);
  }
  return t;
}

// 5x7 glyphs, one byte per row, bit 4 = leftmost column.
struct Glyph {
  char c;
  uint8_t rows[7];
};
constexpr Glyph kFont[] = {
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}}, {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}}, {'D', {0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}}, {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}}, {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}}, {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}}, {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}}, {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}}, {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}}, {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}}, {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}}, {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}}, {',', {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}}, {'!', {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04}},
    {'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}}, {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {'\'', {0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00}}, {'/', {0x01, 0x02, 0x02, 0x04, 0x08, 0x08, 0x10}},
};
constexpr int kGlyphW = 5, kGlyphH = 7, kAdvance = 6;

const Glyph* FindGlyph(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (const Glyph& g : kFont) {
    if (g.c == c) return &g;
  }
  return nullptr;
}

void FillRect(Image* image, int x0, int y0, int x1, int y1, Rgb c) {
  x0 = std::max(x0, 0), y0 = std::max(y0, 0);
  x1 = std::min(x1, image->width), y1 = std::min(y1, image->height);
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      uint8_t* p = image->at(x, y);
      p[0] = c.r, p[1] = c.g, p[2] = c.b;
    }
  }
}

// Largest scale (>= 1) at which `text` fits in `width` x `height`.
int FitScale(std::string_view text, int width, int height) {
  int scale = 1;
  while (TextWidth(text, scale + 1) <= width && TextHeight(scale + 1) <= height) ++scale;
  return scale;
}

Image Mirror(const Image& in, bool horizontal) {
  Image out(in.width, in.height);
  for (int y = 0; y < in.height; ++y) {
    for (int x = 0; x < in.width; ++x) {
      const int sx = horizontal ? in.width - 1 - x : x, sy = horizontal ? y : in.height - 1 - y;
      std::memcpy(out.at(x, y), in.at(sx, sy), 3);
    }
  }
  return out;
}

// out(x, y) = in(y, x), or with `anti` the transverse out(x, y) = in(W-1-y, H-1-x).
Image Transpose(const Image& in, bool anti) {
  Image out(in.height, in.width);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      const int sx = anti ? in.width - 1 - y : y, sy = anti ? in.height - 1 - x : x;
      std::memcpy(out.at(x, y), in.at(sx, sy), 3);
    }
  }
  return out;
}

int Percent(int size, double percent) { return std::max(1, static_cast<int>(std::lround(size * percent / 100.0))); }

using Apply = std::function<Status(const Image&, uint64_t, std::vector<uint8_t>*)>;

// A pixel edit written losslessly.
Apply Png(std::function<Image(const Image&, uint64_t)> edit) {
  return [edit](const Image& in, uint64_t seed, std::vector<uint8_t>* out) { return EncodePng(edit(in, seed), out); };
}
Apply Jpeg(int quality, std::function<Image(const Image&, uint64_t)> edit) {
  return [edit, quality](const Image& in, uint64_t seed, std::vector<uint8_t>* out) {
    return EncodeJpeg(edit(in, seed), quality, out);
  };
}
Image Same(const Image& in, uint64_t) { return in; }

constexpr Rgb kBlack{0, 0, 0}, kWhite{255, 255, 255}, kColour{30, 110, 200};

std::vector<Transform> BuildCatalogue() {
  std::vector<Transform> c;
  auto add = [&](std::string name, std::string group, std::string what, Apply apply) {
    c.push_back({std::move(name), std::move(group), std::move(what), std::move(apply)});
  };
  add("png", "control", "the decoded pixels written as PNG (nothing changed)", Png(Same));

  for (int q : {90, 70, 50, 30}) {
    add("jpeg-" + std::to_string(q), "benign", "JPEG quality " + std::to_string(q) + ", 4:2:0", Jpeg(q, Same));
  }
  for (int p : {50, 25}) {
    add("resize-" + std::to_string(p), "benign", "resized to " + std::to_string(p) + "% of each side",
        Png([p](const Image& in, uint64_t) { return Resize(in, Percent(in.width, p), Percent(in.height, p)); }));
  }
  add("grey", "benign", "greyscale (luma in R, G and B)", Png([](const Image& in, uint64_t) { return Greyscale(in); }));
  for (int s : {1, 2}) {
    add("blur-" + std::to_string(s), "benign", "Gaussian blur, sigma " + std::to_string(s) + " px",
        Png([s](const Image& in, uint64_t) { return GaussianBlur(in, s); }));
  }
  add("noise", "benign", "Gaussian noise, sigma 10 levels per channel",
      Png([](const Image& in, uint64_t seed) { return AddNoise(in, 10, seed); }));
  for (int sign : {+1, -1}) {
    const std::string s = sign > 0 ? "+20" : "-20";
    add("brightness" + s, "benign", "brightness " + s + "% (v x " + (sign > 0 ? "1.2" : "0.8") + ")",
        Png([sign](const Image& in, uint64_t) { return Brightness(in, 1 + 0.2 * sign); }));
    add("contrast" + s, "benign", "contrast " + s + "% around the mean luma",
        Png([sign](const Image& in, uint64_t) { return Contrast(in, 1 + 0.2 * sign); }));
  }
  for (double g : {0.7, 1.4}) {
    const std::string gs = g < 1 ? "0.7" : "1.4";
    add("gamma-" + gs, "benign", "gamma " + gs, Png([g](const Image& in, uint64_t) { return Gamma(in, g); }));
  }

  add("flip-h", "dihedral", "mirrored left-right", Png([](const Image& in, uint64_t) { return Mirror(in, true); }));
  add("flip-v", "dihedral", "mirrored top-bottom", Png([](const Image& in, uint64_t) { return Mirror(in, false); }));
  for (int o : {6, 3, 8}) {
    const std::string deg = o == 6 ? "90" : o == 3 ? "180" : "270";
    add("rot-" + deg, "dihedral", "rotated " + deg + " degrees clockwise (pixels)",
        Png([o](const Image& in, uint64_t) { return ApplyOrientation(in, o); }));
  }

  for (int o = 2; o <= 8; ++o) {
    add("exif-" + std::to_string(o), "exif",
        "JPEG 95 of the unchanged pixels, EXIF orientation " + std::to_string(o) + " (shows turned)",
        [o](const Image& in, uint64_t, std::vector<uint8_t>* out) {
          HS_RETURN_IF_ERROR(EncodeJpeg(in, 95, out));
          return SetExifOrientation(o, out);
        });
  }
  for (int o = 2; o <= 8; ++o) {
    add("exif-" + std::to_string(o) + "-upright", "exif",
        "JPEG 95 of the pixels turned so that orientation " + std::to_string(o) + " shows them upright (a phone)",
        [o](const Image& in, uint64_t, std::vector<uint8_t>* out) {
          HS_RETURN_IF_ERROR(EncodeJpeg(ApplyOrientation(in, InverseOrientation(o)), 95, out));
          return SetExifOrientation(o, out);
        });
  }

  for (int p : {2, 5, 10}) {
    add("crop-side-" + std::to_string(p), "crop", std::to_string(p) + "% of the width cut from the right",
        Png([p](const Image& in, uint64_t) { return Crop(in, 0, 0, in.width - Percent(in.width, p), in.height); }));
  }
  for (int p : {2, 5, 10}) {
    add("crop-centre-" + std::to_string(p), "crop",
        "centred crop: " + std::to_string(p) + "% of each side's length cut, half at each end",
        Png([p](const Image& in, uint64_t) {
          const int cx = Percent(in.width, p / 2.0), cy = Percent(in.height, p / 2.0);
          return Crop(in, cx, cy, in.width - 2 * cx, in.height - 2 * cy);
        }));
  }
  for (int d : {1, 2, 4}) {
    add("rotate-" + std::to_string(d), "rotate",
        "rotated " + std::to_string(d) + " degrees, same canvas, black corners",
        Png([d](const Image& in, uint64_t) { return Rotate(in, d, kBlack); }));
  }

  for (int p : {5, 10, 20}) {
    for (auto [name, colour] : {std::pair{"black", kBlack}, std::pair{"white", kWhite}, std::pair{"colour", kColour}}) {
      add("border-" + std::to_string(p) + "-" + name, "border",
          std::string(name) + " border, each side " + std::to_string(p) + "% of the picture's width/height",
          Png([p, colour](const Image& in, uint64_t) {
            const int bx = Percent(in.width, p), by = Percent(in.height, p);
            return AddBorder(in, bx, by, bx, by, colour);
          }));
    }
  }
  add("letterbox", "bar", "black bars above and below, each 1/6 of the height (picture = 3/4 of the canvas)",
      Png([](const Image& in, uint64_t) {
        const int b = std::max(1, in.height / 6);
        return AddBorder(in, 0, b, 0, b, kBlack);
      }));
  add("pillarbox", "bar", "black bars left and right, each 1/6 of the width (picture = 3/4 of the canvas)",
      Png([](const Image& in, uint64_t) {
        const int b = std::max(1, in.width / 6);
        return AddBorder(in, b, 0, b, 0, kBlack);
      }));
  add("caption-10", "bar", "white caption bar with black text below, 10% of the height",
      Png([](const Image& in, uint64_t) { return AddCaptionBar(in, 0.10, false); }));
  add("caption-10-top", "bar", "white caption bar with black text above, 10% of the height",
      Png([](const Image& in, uint64_t) { return AddCaptionBar(in, 0.10, true); }));

  add("logo", "overlay", "opaque logo badge bottom-right, 15% of the width",
      Png([](const Image& in, uint64_t) { return OverlayLogo(in, 0.15); }));
  add("watermark", "overlay", "large half-transparent white text across the middle",
      Png([](const Image& in, uint64_t) { return OverlayWatermark(in); }));

  add("border-10-black+jpeg-50", "combo", "black border 10% per side, then JPEG 50",
      Jpeg(50, [](const Image& in, uint64_t) {
        const int bx = Percent(in.width, 10), by = Percent(in.height, 10);
        return AddBorder(in, bx, by, bx, by, kBlack);
      }));
  add("border-10-white+jpeg-70", "combo", "white border 10% per side, then JPEG 70",
      Jpeg(70, [](const Image& in, uint64_t) {
        const int bx = Percent(in.width, 10), by = Percent(in.height, 10);
        return AddBorder(in, bx, by, bx, by, kWhite);
      }));
  add("letterbox+jpeg-70", "combo", "letterbox bars, then JPEG 70", Jpeg(70, [](const Image& in, uint64_t) {
        const int b = std::max(1, in.height / 6);
        return AddBorder(in, 0, b, 0, b, kBlack);
      }));
  add("letterbox+resize-50", "combo", "letterbox bars, then resized to 50%", Png([](const Image& in, uint64_t) {
        const int b = std::max(1, in.height / 6);
        const Image boxed = AddBorder(in, 0, b, 0, b, kBlack);
        return Resize(boxed, Percent(boxed.width, 50), Percent(boxed.height, 50));
      }));
  add("flip-h+resize-50", "combo", "mirrored left-right, then resized to 50%", Png([](const Image& in, uint64_t) {
        const Image m = Mirror(in, true);
        return Resize(m, Percent(m.width, 50), Percent(m.height, 50));
      }));
  add("rot-90+jpeg-70", "combo", "rotated 90 degrees, then JPEG 70",
      Jpeg(70, [](const Image& in, uint64_t) { return ApplyOrientation(in, 6); }));
  return c;
}

}  // namespace

Image::Image(int w, int h, Rgb fill) : width(w), height(h), rgb(static_cast<size_t>(w) * h * 3) {
  if (fill.r == fill.g && fill.g == fill.b) {
    std::memset(rgb.data(), fill.r, rgb.size());
    return;
  }
  for (size_t i = 0; i < rgb.size(); i += 3) rgb[i] = fill.r, rgb[i + 1] = fill.g, rgb[i + 2] = fill.b;
}

Status DecodeToRgb(std::span<const uint8_t> bytes, Image* out) {
  RgbSink sink(out);
  hashing::DecodedInfo info;
  return hashing::DecodeImage(bytes, hashing::DecodeLimits(), &sink, &info);
}

Status EncodeJpeg(const Image& image, int quality, std::vector<uint8_t>* out) {
  if (quality < 1 || quality > 100) return Status::InvalidArgument("JPEG quality must be 1..100");
  std::unique_ptr<void, int (*)(tjhandle)> tj(tjInitCompress(), tjDestroy);
  if (!tj) return Status::IOError("tjInitCompress failed");
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  if (tjCompress2(tj.get(), image.rgb.data(), image.width, 0, image.height, TJPF_RGB, &buf, &size, TJSAMP_420, quality,
                  TJFLAG_ACCURATEDCT) != 0) {
    tjFree(buf);
    return Status::IOError(std::string("TurboJPEG: ") + tjGetErrorStr2(tj.get()));
  }
  out->assign(buf, buf + size);
  tjFree(buf);
  return Status::Ok();
}

Status EncodePng(const Image& image, std::vector<uint8_t>* out) {
  // Stored (level 0) deflate, no row filters: the pixels are what matter,
  // and compressing millions of test images would dominate the benchmark.
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (!png) return Status::IOError("png_create_write_struct failed");
  png_infop info = png_create_info_struct(png);
  out->clear();
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, info ? &info : nullptr);
    return Status::IOError("libpng could not write the image");
  }
  png_set_write_fn(
      png, out,
      [](png_structp p, png_bytep data, png_size_t n) {
        auto* v = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(p));
        v->insert(v->end(), data, data + n);
      },
      nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 0);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  png_write_info(png, info);
  for (int y = 0; y < image.height; ++y) png_write_row(png, image.at(0, y));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return Status::Ok();
}

Status SetExifOrientation(int orientation, std::vector<uint8_t>* jpeg) {
  if (orientation < 1 || orientation > 8) return Status::InvalidArgument("EXIF orientation must be 1..8");
  if (jpeg->size() < 2 || (*jpeg)[0] != 0xFF || (*jpeg)[1] != 0xD8) return Status::InvalidArgument("not a JPEG");
  // Big-endian TIFF: header, IFD0 at 8 with one SHORT entry, no next IFD.
  const uint8_t tiff[] = {'M', 'M', 0, 42, 0, 0, 0, 8,                                          // header
                          0, 1,                                                                 // 1 entry
                          0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, static_cast<uint8_t>(orientation), 0, 0,  // Orientation
                          0, 0, 0, 0};                                                          // no IFD1
  std::vector<uint8_t> app1 = {0xFF, 0xE1, 0, 0, 'E', 'x', 'i', 'f', 0, 0};
  app1.insert(app1.end(), std::begin(tiff), std::end(tiff));
  const size_t len = app1.size() - 2;
  app1[2] = static_cast<uint8_t>(len >> 8), app1[3] = static_cast<uint8_t>(len);
  jpeg->insert(jpeg->begin() + 2, app1.begin(), app1.end());
  return Status::Ok();
}

Image Resize(const Image& in, int width, int height) {
  width = std::max(1, width), height = std::max(1, height);
  const Taps tx = TriangleTaps(in.width, width), ty = TriangleTaps(in.height, height);
  // Rows first into floats, then columns.
  std::vector<float> mid(static_cast<size_t>(width) * in.height * 3);
  for (int y = 0; y < in.height; ++y) {
    for (int x = 0; x < width; ++x) {
      float acc[3] = {0, 0, 0};
      const float* w = tx.weights.data() + tx.offset[x];
      for (int k = 0; k < tx.count[x]; ++k) {
        const uint8_t* p = in.at(tx.first[x] + k, y);
        for (int c = 0; c < 3; ++c) acc[c] += w[k] * p[c];
      }
      float* m = mid.data() + (static_cast<size_t>(y) * width + x) * 3;
      m[0] = acc[0], m[1] = acc[1], m[2] = acc[2];
    }
  }
  Image out(width, height);
  for (int y = 0; y < height; ++y) {
    const float* w = ty.weights.data() + ty.offset[y];
    for (int x = 0; x < width; ++x) {
      float acc[3] = {0, 0, 0};
      for (int k = 0; k < ty.count[y]; ++k) {
        const float* m = mid.data() + (static_cast<size_t>(ty.first[y] + k) * width + x) * 3;
        for (int c = 0; c < 3; ++c) acc[c] += w[k] * m[c];
      }
      uint8_t* p = out.at(x, y);
      for (int c = 0; c < 3; ++c) p[c] = Clamp8(acc[c]);
    }
  }
  return out;
}

Image Greyscale(const Image& in) {
  Image out(in.width, in.height);
  for (size_t i = 0; i < in.rgb.size(); i += 3) {
    const uint8_t v = Clamp8(0.299 * in.rgb[i] + 0.587 * in.rgb[i + 1] + 0.114 * in.rgb[i + 2]);
    out.rgb[i] = out.rgb[i + 1] = out.rgb[i + 2] = v;
  }
  return out;
}

Image GaussianBlur(const Image& in, double sigma) {
  const int r = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
  std::vector<float> k(2 * r + 1);
  double sum = 0;
  for (int i = -r; i <= r; ++i) sum += k[i + r] = static_cast<float>(std::exp(-0.5 * i * i / (sigma * sigma)));
  for (float& v : k) v = static_cast<float>(v / sum);
  const int w = in.width, h = in.height;
  std::vector<float> mid(in.rgb.size());
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      float acc[3] = {0, 0, 0};
      for (int i = -r; i <= r; ++i) {
        const uint8_t* p = in.at(std::clamp(x + i, 0, w - 1), y);
        for (int c = 0; c < 3; ++c) acc[c] += k[i + r] * p[c];
      }
      float* m = mid.data() + (static_cast<size_t>(y) * w + x) * 3;
      m[0] = acc[0], m[1] = acc[1], m[2] = acc[2];
    }
  }
  Image out(w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      float acc[3] = {0, 0, 0};
      for (int i = -r; i <= r; ++i) {
        const float* m = mid.data() + (static_cast<size_t>(std::clamp(y + i, 0, h - 1)) * w + x) * 3;
        for (int c = 0; c < 3; ++c) acc[c] += k[i + r] * m[c];
      }
      uint8_t* p = out.at(x, y);
      for (int c = 0; c < 3; ++c) p[c] = Clamp8(acc[c]);
    }
  }
  return out;
}

Image AddNoise(const Image& in, double sigma, uint64_t seed) {
  Random rnd(seed);
  Image out = in;
  for (uint8_t& v : out.rgb) v = Clamp8(v + sigma * rnd.Gaussian());
  return out;
}

Image Brightness(const Image& in, double factor) {
  Image out = in;
  for (uint8_t& v : out.rgb) v = Clamp8(v * factor);
  return out;
}

Image Contrast(const Image& in, double factor) {
  double mean = 0;
  for (size_t i = 0; i < in.rgb.size(); i += 3) mean += 0.299 * in.rgb[i] + 0.587 * in.rgb[i + 1] + 0.114 * in.rgb[i + 2];
  mean /= std::max<size_t>(1, in.rgb.size() / 3);
  Image out = in;
  for (uint8_t& v : out.rgb) v = Clamp8(mean + factor * (v - mean));
  return out;
}

Image Gamma(const Image& in, double gamma) {
  uint8_t lut[256];
  for (int v = 0; v < 256; ++v) lut[v] = Clamp8(255.0 * std::pow(v / 255.0, gamma));
  Image out = in;
  for (uint8_t& v : out.rgb) v = lut[v];
  return out;
}

Image ApplyOrientation(const Image& in, int orientation) {
  switch (orientation) {
    case 2: return Mirror(in, true);
    case 3: return Mirror(Mirror(in, true), false);
    case 4: return Mirror(in, false);
    case 5: return Transpose(in, false);
    case 6: return Mirror(Transpose(in, false), true);   // 90 clockwise
    case 7: return Transpose(in, true);
    case 8: return Mirror(Transpose(in, false), false);  // 90 counter-clockwise
    default: return in;
  }
}

int InverseOrientation(int orientation) {
  if (orientation == 6) return 8;
  if (orientation == 8) return 6;
  return orientation;
}

Image Crop(const Image& in, int x, int y, int w, int h) {
  x = std::clamp(x, 0, in.width - 1), y = std::clamp(y, 0, in.height - 1);
  w = std::clamp(w, 1, in.width - x), h = std::clamp(h, 1, in.height - y);
  Image out(w, h);
  for (int r = 0; r < h; ++r) std::memcpy(out.at(0, r), in.at(x, y + r), static_cast<size_t>(w) * 3);
  return out;
}

Image Rotate(const Image& in, double degrees, Rgb fill) {
  const double t = degrees * M_PI / 180, c = std::cos(t), s = std::sin(t);
  const double cx = in.width / 2.0, cy = in.height / 2.0;
  Image out(in.width, in.height, fill);
  for (int y = 0; y < in.height; ++y) {
    for (int x = 0; x < in.width; ++x) {
      // Visually counter-clockwise with y pointing down: the source of an
      // output point is the output offset turned clockwise.
      const double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      const double sx = cx + c * dx - s * dy - 0.5, sy = cy + s * dx + c * dy - 0.5;
      if (sx < -0.5 || sy < -0.5 || sx > in.width - 0.5 || sy > in.height - 0.5) continue;
      const int x0 = static_cast<int>(std::floor(sx)), y0 = static_cast<int>(std::floor(sy));
      const double fx = sx - x0, fy = sy - y0;
      const int xa = std::clamp(x0, 0, in.width - 1), xb = std::clamp(x0 + 1, 0, in.width - 1);
      const int ya = std::clamp(y0, 0, in.height - 1), yb = std::clamp(y0 + 1, 0, in.height - 1);
      uint8_t* p = out.at(x, y);
      for (int ch = 0; ch < 3; ++ch) {
        const double top = in.at(xa, ya)[ch] * (1 - fx) + in.at(xb, ya)[ch] * fx;
        const double bottom = in.at(xa, yb)[ch] * (1 - fx) + in.at(xb, yb)[ch] * fx;
        p[ch] = Clamp8(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return out;
}

Image AddBorder(const Image& in, int left, int top, int right, int bottom, Rgb fill) {
  Image out(in.width + left + right, in.height + top + bottom, fill);
  for (int y = 0; y < in.height; ++y) std::memcpy(out.at(left, top + y), in.at(0, y), static_cast<size_t>(in.width) * 3);
  return out;
}

int TextWidth(std::string_view text, int scale) {
  return text.empty() ? 0 : (static_cast<int>(text.size()) * kAdvance - (kAdvance - kGlyphW)) * scale;
}
int TextHeight(int scale) { return kGlyphH * scale; }

void DrawText(Image* image, int x, int y, int scale, std::string_view text, Rgb colour, double alpha) {
  const double a = std::clamp(alpha, 0.0, 1.0);
  for (size_t i = 0; i < text.size(); ++i) {
    const Glyph* g = FindGlyph(text[i]);
    if (!g) continue;
    const int gx = x + static_cast<int>(i) * kAdvance * scale;
    for (int row = 0; row < kGlyphH; ++row) {
      for (int col = 0; col < kGlyphW; ++col) {
        if (!(g->rows[row] >> (kGlyphW - 1 - col) & 1)) continue;
        for (int py = y + row * scale; py < y + (row + 1) * scale; ++py) {
          for (int px = gx + col * scale; px < gx + (col + 1) * scale; ++px) {
            if (px < 0 || py < 0 || px >= image->width || py >= image->height) continue;
            uint8_t* p = image->at(px, py);
            p[0] = Clamp8(p[0] * (1 - a) + colour.r * a);
            p[1] = Clamp8(p[1] * (1 - a) + colour.g * a);
            p[2] = Clamp8(p[2] * (1 - a) + colour.b * a);
          }
        }
      }
    }
  }
}

Image AddCaptionBar(const Image& in, double fraction, bool top) {
  const int bar = std::max(1, static_cast<int>(std::lround(in.height * fraction)));
  Image out = AddBorder(in, 0, top ? bar : 0, 0, top ? 0 : bar, kWhite);
  const std::string_view text = "WHEN THE WEEKEND FINALLY ARRIVES";
  const int scale = FitScale(text, out.width * 9 / 10, bar * 6 / 10);
  const int x = (out.width - TextWidth(text, scale)) / 2;
  const int y = (top ? 0 : in.height) + (bar - TextHeight(scale)) / 2;
  DrawText(&out, x, y, scale, text, kBlack);
  return out;
}

Image OverlayLogo(const Image& in, double fraction) {
  Image out = in;
  const int w = std::max(4, static_cast<int>(std::lround(in.width * fraction)));
  const int h = std::max(3, w * 2 / 5);
  const int margin = std::max(1, in.width / 40);
  const int x0 = in.width - margin - w, y0 = in.height - margin - h;
  FillRect(&out, x0, y0, x0 + w, y0 + h, kWhite);
  // A red disc on the left, two letters on the right.
  const int r = h * 2 / 5, cx = x0 + h / 2, cy = y0 + h / 2;
  for (int y = cy - r; y <= cy + r; ++y) {
    for (int x = cx - r; x <= cx + r; ++x) {
      if ((x - cx) * (x - cx) + (y - cy) * (y - cy) > r * r) continue;
      if (x < 0 || y < 0 || x >= out.width || y >= out.height) continue;
      uint8_t* p = out.at(x, y);
      p[0] = 220, p[1] = 30, p[2] = 40;
    }
  }
  const int scale = FitScale("TV", w - h - 2, h * 7 / 10);
  DrawText(&out, x0 + h, y0 + (h - TextHeight(scale)) / 2, scale, "TV", kBlack);
  return out;
}

Image OverlayWatermark(const Image& in) {
  Image out = in;
  const std::string_view text = "SAMPLE";
  const int scale = FitScale(text, in.width * 8 / 10, in.height / 5);
  DrawText(&out, (in.width - TextWidth(text, scale)) / 2, (in.height - TextHeight(scale)) / 2, scale, text, kWhite, 0.5);
  return out;
}

const std::vector<Transform>& Catalogue() {
  static const std::vector<Transform> catalogue = BuildCatalogue();
  return catalogue;
}

const Transform* FindTransform(std::string_view name) {
  for (const Transform& t : Catalogue()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace robustness
