// PixelSink: where a decoder delivers 8-bit pixels, top row first, so that
// consumers (PDQ luma, tests checking the decoded pixels) need not hold a
// full RGB copy of the image.
#pragma once

#include <cstdint>

#include "base/status.h"

namespace hashing {

using base::Status;

class PixelSink {
 public:
  virtual ~PixelSink() = default;
  // Called once, before any row. channels: 1 (grey) or 3 (interleaved RGB).
  // An error stops the decode and is returned by it.
  virtual Status Start(int width, int height, int channels) = 0;
  // Rows [y, y + n), packed: row i starts at data + i * width * channels.
  virtual void Rows(int y, int n, const uint8_t* data) = 0;
  // True once the sink wants no more rows. The JPEG and (non-interlaced)
  // PNG decoders then stop and return ok without reading the rest of the
  // file, so a truncated or damaged tail goes unseen: only a sink fed a
  // second decode of bytes that already decoded whole may say so
  // (CropSink with stop_early, in HashImage's trimmed pass).
  virtual bool Satisfied() const { return false; }
};

}  // namespace hashing
