// PixelSink adapters, so one decode can feed more than one consumer and a
// consumer can see part of an image as if it were the whole one:
//   TeeSink   forwards every call to two sinks (PDQ and the border detector
//             see the same rows of one decode);
//   CropSink  forwards only the rectangle `rect` of the image, renumbered
//             from (0, 0): the consumer sees exactly the pixels it would get
//             from decoding a file holding that rectangle alone.
// Neither owns the sinks it forwards to. Not thread-safe (as any sink).
#pragma once

#include <cstdint>
#include <vector>

#include "hashing/border_detector.h"
#include "hashing/pixel_sink.h"

namespace hashing {

class TeeSink : public PixelSink {
 public:
  TeeSink(PixelSink* a, PixelSink* b) : a_(a), b_(b) {}
  Status Start(int width, int height, int channels) override;
  void Rows(int y, int n, const uint8_t* data) override;

 private:
  PixelSink* a_;
  PixelSink* b_;
};

class CropSink : public PixelSink {
 public:
  CropSink(PixelSink* inner, const TrimRect& rect) : inner_(inner), rect_(rect) {}
  // InvalidArgument if `rect` is not inside the image.
  Status Start(int width, int height, int channels) override;
  void Rows(int y, int n, const uint8_t* data) override;

 private:
  PixelSink* inner_;
  const TrimRect rect_;
  int width_ = 0, channels_ = 0;
  std::vector<uint8_t> rows_;  // the cropped rows of one call
};

}  // namespace hashing
