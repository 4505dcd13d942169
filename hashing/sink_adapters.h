// PixelSink adapters, so one decode can feed more than one consumer and a
// consumer can see part of an image as if it were the whole one:
//   TeeSink   forwards every call to two sinks (PDQ and the border detector
//             see the same rows of one decode);
//   CropSink  forwards only the rectangle `rect` of the image, renumbered
//             from (0, 0): the consumer sees exactly the pixels it would get
//             from decoding a file holding that rectangle alone.
//   CopySink  keeps a copy of the decoded pixels, when they fit, so that a
//             rectangle of them can be fed to another sink later (Replay)
//             without decoding the bytes again.
// None owns the sinks it forwards to. Not thread-safe (as any sink).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "hashing/border_detector.h"
#include "hashing/decode_budget.h"
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

// Keeps the image only when its pixels take at most `max_bytes` and fit in
// `budget` with as much again to spare; the budget is charged from Start
// until the sink is destroyed (a decode on the same budget sees the copy as
// held memory). When they do not fit it keeps nothing, and the decode goes
// on unaffected: Start never fails.
class CopySink : public PixelSink {
 public:
  CopySink(DecodeBudget* budget, uint64_t max_bytes) : budget_(budget), max_bytes_(max_bytes) {}
  ~CopySink() override;
  CopySink(const CopySink&) = delete;
  CopySink& operator=(const CopySink&) = delete;

  Status Start(int width, int height, int channels) override;
  void Rows(int y, int n, const uint8_t* data) override;

  // True when every row of the image was kept, each exactly once.
  bool complete() const;
  // Feeds rectangle `rect` of the kept image to `sink` as a decode of a file
  // holding that rectangle alone would (Start, then rows top first), with
  // no copy. Requires complete(); InvalidArgument if `rect` is not inside.
  Status Replay(const TrimRect& rect, PixelSink* sink) const;

 private:
  DecodeBudget* const budget_;
  const uint64_t max_bytes_;
  int width_ = 0, height_ = 0, channels_ = 0;
  uint64_t charged_ = 0;  // the copy's bytes; 0 = nothing kept
  int64_t rows_kept_ = 0;
  bool out_of_order_ = false;
  std::unique_ptr<uint8_t[]> pixels_;  // not zeroed: every byte is written before it is read
};

}  // namespace hashing
