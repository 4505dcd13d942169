// HashImage: the whole of hashing/ behind one call. Image bytes in; format,
// size, PDQ hash (optionally all 8 dihedral variants), quality, MD5 and
// SHA-256 out. The bytes are only read; nothing is kept.
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

#include "hashing/decode_limits.h"
#include "hashing/pdq.h"
#include "hashing/pdq_kernels.h"
#include "base/pdq_hash.h"
#include "base/status.h"

namespace hashing {

using base::Status;
using base::PdqHash;

struct HashOptions {
  PdqMode mode = PdqMode::kFull;
  bool dihedral = false;  // fill all 8 variants, not only kOrig
  DecodeLimits limits;
  // Kernels to use; nullptr = ActivePdqKernels(). Tests and benchmarks
  // force one of PdqKernelFamily().
  const PdqKernels* kernels = nullptr;
};

struct ImageHashes {
  std::string format;  // "jpeg", "png", "gif", "bmp", "pnm", "tga", "psd", "webp"
  int width = 0;
  int height = 0;
  // pdq[kOrig] always; pdq[1..7] only when HashOptions::dihedral.
  std::array<PdqHash, kNumDihedral> pdq{};
  int quality = 0;  // 0..100; below 50 the PDQ hash is not reliable
  std::array<uint8_t, 16> md5{};
  std::array<uint8_t, 32> sha256{};
};

Status HashImage(std::span<const uint8_t> bytes, const HashOptions& options, ImageHashes* out);

}  // namespace hashing
