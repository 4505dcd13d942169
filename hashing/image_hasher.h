// HashImage: the whole of hashing/ behind one call. Image bytes in; format,
// size, PDQ hash (optionally all 8 dihedral variants), quality, MD5 and
// SHA-256 out. The bytes are only read; nothing is kept.
//
// With HashOptions::trim_borders, uniform borders and letterbox/pillarbox
// bars are looked for during the same decode (BorderDetector); when there
// are some, only the picture inside them is hashed too
// (ImageHashes::trimmed), exactly as if it had been uploaded alone. Its
// pixels come from a copy the first decode kept (CopySink), when the image
// takes at most trim_copy_max_bytes (8-bit RGB or grey), fits in the
// decode memory budget beside the decoder, and has a top or side bar (the
// copy is dropped once only a bottom bar could make a trim) or is a PNG
// (kept whole: inflating again costs ~15x the copy); otherwise the
// bytes are decoded a second time, after the first pass has ended. The hashes are the same
// bits either way (a decoder delivers the same pixels every time). Both
// passes are charged to one DecodeBudget: limits.max_decode_ms bounds them
// together, and limits.max_decode_memory what either holds on top of the
// other (the kept copy is charged as held memory).
//
// Errors (Status codes, which the server maps to HTTP):
//   kTooLarge     over `limits`: bytes, pixels, decode memory or decode time (413)
//   kUnsupported  not an image format we decode (415)
//   kCorruption   a known format, but truncated, damaged, or claiming more
//                 pixels than its bytes can encode (422)
// An error never comes with a hash: undecodable input is never the all-zero hash.
//
// Thread-safety: may be called from any number of threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "hashing/border_detector.h"
#include "hashing/decode_limits.h"
#include "hashing/image_decoder.h"
#include "hashing/pdq.h"
#include "hashing/pdq_kernels.h"
#include "base/pdq_hash.h"
#include "base/status.h"

namespace hashing {

using base::Status;
using base::PdqHash;

// The smallest side a fast-decoded JPEG keeps (DecodeScaling::jpeg_min_side):
// eight times PDQ's 64x64 grid, so each cell still averages 8x8 decoded
// pixels. docs/datasets.md "Fast decoding" has the drift this gives.
inline constexpr int kFastJpegMinSide = 512;

struct HashOptions {
  PdqMode mode = PdqMode::kFull;
  bool dihedral = false;  // fill all 8 variants, not only kOrig
  // Also hash the picture inside uniform borders and bars (ImageHashes::trimmed).
  bool trim_borders = false;
  BorderTrimOptions trim;
  // With trim_borders: the largest image (width x height x channels bytes)
  // whose pixels the first decode keeps for the trimmed picture (and only
  // while a trim that needs no bottom bar is possible: CopySink drops the
  // copy of an unbordered photo after its first rows); larger ones, and
  // pictures trimmed only at the bottom, are decoded twice. It must also fit
  // in limits.max_decode_memory with as much again to spare. 0: always twice.
  uint64_t trim_copy_max_bytes = 256ull << 20;
  DecodeLimits limits;
  // Opt-in fast decoding of large JPEGs (hashing/image_decoder.h,
  // DecodeScaling): the hashes are then close to, not equal to, the
  // reference's. kFastJpegMinSide is what `--fast` and screening.fast_jpeg use.
  DecodeScaling scaling;
  // Kernels to use; nullptr = ActivePdqKernels(). Tests and benchmarks
  // force one of PdqKernelFamily().
  const PdqKernels* kernels = nullptr;
};

struct ImageHashes {
  std::string format;  // "jpeg", "png", "gif", "bmp", "pnm", "tga", "psd", "webp"
  int width = 0;
  int height = 0;
  // 1 when the pixels were decoded at full size (exact); 2, 4 or 8 when a
  // JPEG was decoded at that fraction of its size (HashOptions::scaling).
  int decode_scale = 1;
  // pdq[kOrig] always; pdq[1..7] only when HashOptions::dihedral (the
  // reference's variants, bit-exact).
  std::array<PdqHash, kNumDihedral> pdq{};
  // With dihedral: the PDQ of the picture rotated or mirrored, computed from
  // the samples that picture would have (PdqResult::aligned); what the
  // screener queries. aligned[kOrig] == pdq[kOrig].
  std::array<PdqHash, kNumDihedral> aligned{};
  int quality = 0;  // 0..100; below 50 the PDQ hash is not reliable
  // With HashOptions::trim_borders: the picture inside the borders, when
  // some were found (present); its own hashes (variants as for pdq) and
  // quality, and where it lies in the image (in decoded pixels: with
  // decode_scale > 1, in the reduced image).
  struct Trimmed {
    bool present = false;
    TrimRect rect;
    std::array<PdqHash, kNumDihedral> pdq{};
    std::array<PdqHash, kNumDihedral> aligned{};
    int quality = 0;
    bool from_copy = false;  // hashed from the first decode's kept pixels, not a second decode
  } trimmed;
  std::array<uint8_t, 16> md5{};
  std::array<uint8_t, 32> sha256{};
};

Status HashImage(std::span<const uint8_t> bytes, const HashOptions& options, ImageHashes* out);

}  // namespace hashing
