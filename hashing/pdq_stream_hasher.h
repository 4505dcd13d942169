// PdqStreamHasher: a PixelSink that computes PDQ while the decoder runs, so a
// photo is never held as a full-size float plane (peak memory is the decoder's
// plus O(width * window)). The decoded pixels are converted to luma row by row
// and streamed through JaroszStream.
//
// The grey rule needs the whole image: an RGB image whose every pixel has
// R = G = B is hashed from the grey values, not the RGB formula. Rows are
// streamed optimistically with the formula; while every row so far is grey,
// their grey bytes are also kept (1 byte per pixel), and if the image ends
// grey the stream is replayed from them. A colour photo stops keeping them at
// its first colour row.
//
// Images the streaming path does not cover (under 5 px, exactly 64x64, or
// cli512 squashing) are collected as a plane and go through ComputePdq.
#pragma once

#include <memory>
#include <vector>

#include "hashing/jarosz_stream.h"
#include "hashing/luma_image.h"
#include "hashing/pdq.h"

namespace hashing {

using base::Status;

class PdqStreamHasher : public PixelSink {
 public:
  PdqStreamHasher(const PdqKernels& kernels, PdqMode mode, bool dihedral);
  Status Start(int width, int height, int channels) override;
  void Rows(int y, int n, const uint8_t* data) override;
  // After the decoder returned ok. Call once.
  PdqResult Finish();

 private:
  const PdqKernels& k_;
  const PdqMode mode_;
  const bool dihedral_;
  int width_ = 0, height_ = 0, channels_ = 0;
  std::unique_ptr<LumaBuilder> plane_;      // plane path
  std::unique_ptr<JaroszStream> stream_;    // streaming path
  bool all_grey_ = true;
  std::vector<uint8_t> grey_rows_;          // while all_grey_: the grey bytes so far
};

}  // namespace hashing
