// LumaImage: the float luma plane PDQ works on, and LumaBuilder, the
// PixelSink that fills it while the decoder runs.
//
// Colour policy (what the reference's decoder path feeds its core): RGB
// pixels become (0.299R + 0.587G) + 0.114B in float; grey pixels are used
// as they are. An RGB image whose every pixel has R = G = B counts as grey
// (ImageMagick writes it as P5), so its luma is the grey value, which differs
// from the RGB formula for 35 of the 256 values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "hashing/pdq_kernels.h"
#include "hashing/pixel_sink.h"

namespace hashing {

using base::Status;

// A 64-byte aligned float buffer; contents start uninitialised.
class FloatBuffer {
 public:
  FloatBuffer() = default;
  explicit FloatBuffer(size_t n);
  float* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float[], Free> data_;
  size_t size_ = 0;
};

struct LumaImage {
  int width = 0;
  int height = 0;
  FloatBuffer pixels;  // row-major, width * height
  float* row(int y) const { return pixels.data() + static_cast<size_t>(y) * width; }
};

class LumaBuilder : public PixelSink {
 public:
  explicit LumaBuilder(const PdqKernels& kernels) : kernels_(kernels) {}
  Status Start(int width, int height, int channels) override;
  void Rows(int y, int n, const uint8_t* data) override;
  // Applies the grey rule and hands over the image. Call once, after decoding.
  LumaImage Finish();

 private:
  const PdqKernels& kernels_;
  LumaImage image_;
  int channels_ = 0;
  bool all_grey_ = true;
};

}  // namespace hashing
