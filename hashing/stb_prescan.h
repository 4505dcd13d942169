// StbPrescan: what the header of a GIF, BMP, TGA or PSD file commits to,
// read before stb_image runs. stb_image allocates its output from the header
// and only then reads the pixels (reading zeros past the end of the data),
// so everything that makes a decode expensive or dishonest is refused here,
// before that allocation:
//   GIF  the first frame: its image descriptor inside the canvas, its colour
//        tables and LZW data up to the block terminator present, and its
//        pixel count at most kGifMaxPixelsPerLzwByte times its LZW bytes.
//        The frame, not the canvas, is what gets decoded: `rewritten` is the
//        file with the canvas equal to the frame, placed at 0,0.
//   BMP  an uncompressed pixel array (rows padded to 4 bytes) inside the
//        file, and every colour index of a paletted image naming one of
//        the entries stb_image reads (it would index past its palette).
//   TGA  recognised by stb_image's own header test (TGA has no magic); the
//        pixel data present: w*h pixels uncompressed, at least one packet
//        per 128 pixels with RLE.
//   PSD  the sections before the image data, and the data itself: every
//        channel uncompressed, or the RLE row table, each row at least its
//        shortest PackBits length, and the bytes the table lists. A file
//        with more than 3 channels is `rewritten` as its first 3 (R, G, B):
//        alpha is dropped as for every format, and stb_image's "white matte"
//        removal, which runs on 4+ channels, divides by alpha and converts
//        out-of-range floats to bytes (undefined behaviour) when a colour is
//        darker than the matte allows.
// What stb_image then reads is checked exactly by stb_decoder.cc (any read
// past the end is truncation); this is what must be known before it runs.
// Cheap: walks headers (and the indices of paletted BMPs).
//
// Errors: kTooLarge (dimensions over the limits), kUnsupported (not one of these formats, or a variant stb_image
// does not decode), kCorruption (truncated, damaged, or claiming more than
// its bytes hold). Thread-safe: pure.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "hashing/decode_limits.h"
#include "hashing/image_format.h"

namespace hashing {

using base::Status;

struct StbPrescan {
  ImageFormat format = ImageFormat::kUnknown;  // kGif, kBmp, kTga or kPsd
  uint64_t width = 0, height = 0;              // what will be decoded (a GIF's first frame)
  uint64_t canvas_width = 0, canvas_height = 0;  // as declared (a GIF's logical screen)
  int channels = 3;                            // what to ask stb_image for: 1 (grey) or 3 (RGB)
  std::vector<uint8_t> rewritten;  // when not empty, what stb_image decodes instead: a GIF's
                                   // first frame as a file of its own; a PSD's first 3 channels
};

// `sniffed` is SniffFormat's verdict; kUnknown is tried as TGA. The declared
// and the decoded dimensions are checked against `limits` (kTooLarge) before
// anything that depends on them.
Status PrescanForStb(ImageFormat sniffed, std::span<const uint8_t> bytes, const DecodeLimits& limits, StbPrescan* out);

}  // namespace hashing
