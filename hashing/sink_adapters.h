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
  // stop_early: Satisfied() once the rectangle's last row is through, so the
  // decoder may stop there (only for bytes that already decoded whole:
  // PixelSink::Satisfied).
  CropSink(PixelSink* inner, const TrimRect& rect, bool stop_early = false)
      : inner_(inner), rect_(rect), stop_early_(stop_early) {}
  // InvalidArgument if `rect` is not inside the image.
  Status Start(int width, int height, int channels) override;
  void Rows(int y, int n, const uint8_t* data) override;
  bool Satisfied() const override { return stop_early_ && rows_seen_ >= rect_.top + rect_.height; }

 private:
  PixelSink* inner_;
  const TrimRect rect_;
  const bool stop_early_;
  int64_t rows_seen_ = 0;  // the image's rows delivered so far (top first)
  int width_ = 0, channels_ = 0;
  std::vector<uint8_t> rows_;  // the cropped rows of one call
};

// Keeps the image only when its pixels take at most `max_bytes` and fit in
// `budget` with as much again to spare; the budget is charged from Start
// until the sink is destroyed (a decode on the same budget sees the copy as
// held memory). When they do not fit it keeps nothing, and the decode goes
// on unaffected: Start never fails.
//
// With `detector` (which must see every row before this sink does, and
// outlive the decode), the copy is dropped, its memory and charge given back
// at once, as soon as the detector says no trim can do without a bottom bar
// (BorderDetector::MayTrimWithoutBottom): an unbordered photo then costs a
// row or two of copying, not a copy of the whole image.
//
// A copy of 2 MiB or more lives in an anonymous mapping, touched only as rows arrive, with
// transparent huge pages asked for (madvise): on 4 KiB pages the copy of a
// 6 MP photo cost ~63 ms of page faults, on huge pages ~12 ms
// (docs/robustness.md "Where the cost goes", `robustness --breakdown`).
// Without huge pages it still works, at the small pages' cost.
class CopySink : public PixelSink {
 public:
  CopySink(DecodeBudget* budget, uint64_t max_bytes, const BorderDetector* detector = nullptr)
      : budget_(budget), max_bytes_(max_bytes), detector_(detector) {}
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
  // Gives the copy's memory and charge back; nothing is kept afterwards.
  void Drop();

  DecodeBudget* const budget_;
  const uint64_t max_bytes_;
  const BorderDetector* const detector_;
  int width_ = 0, height_ = 0, channels_ = 0;
  uint64_t charged_ = 0;  // the copy's bytes; 0 = nothing kept
  int64_t rows_kept_ = 0;
  bool out_of_order_ = false;
  void* mapping_ = nullptr;  // mapping_bytes_ of anonymous memory, pixels_ inside it
  size_t mapping_bytes_ = 0;
  std::unique_ptr<uint8_t[]> heap_;  // a copy under 2 MiB: from the heap instead
  uint8_t* pixels_ = nullptr;  // not zeroed: every byte is written before it is read
};

}  // namespace hashing
