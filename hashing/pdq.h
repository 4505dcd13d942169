// ComputePdq: the PDQ core on a luma plane, exactly as Meta's reference
// (pdqhashing.cpp, downscaling.cpp) computes it, restructured for memory:
//
//   pass A  box filter along rows, in place on the luma plane;
//   pass B  box filter along columns, as running column sums, streamed
//           16 rows at a time into a strip buffer;
//   pass C  box filter along the rows of each strip; only the 64 columns
//           the decimation samples are kept (transposed, 64 x height);
//   pass D  box filter along those 64 columns only;
//   then decimation to 64x64, quality, DCT 64->16, median, bits.
//
// Every float operation is the reference's, in its order, so the hash is
// bit-identical; the restructuring only skips outputs nobody reads. Peak
// memory is the luma plane plus O(width + height) rows of workspace.
#pragma once

#include <array>

#include "hashing/jarosz_stream.h"
#include "hashing/luma_image.h"
#include "base/pdq_hash.h"
#include "hashing/pdq_kernels.h"

namespace hashing {

using base::PdqHash;

// kFull: full resolution (pdqhash wheel, python-threatexchange, HMA; what
// partner lists hold). kCli512: Meta's pdq-photo-hasher, which first squashes
// any image over 512 px to exactly 512x512 by nearest neighbour.
enum class PdqMode { kFull, kCli512 };

// The 8 dihedral variants, in the reference CLI's order.
enum Dihedral { kOrig, kRot90, kRot180, kRot270, kFlipX, kFlipY, kFlipPlus1, kFlipMinus1, kNumDihedral };

struct PdqResult {
  // hashes[kOrig] always; the other 7 only when computed with dihedral.
  std::array<PdqHash, kNumDihedral> hashes{};
  // With dihedral: variant d computed from the downsample the turned picture
  // itself has (JaroszStream's mirrors), not from this picture's turned, so
  // it is what PDQ gives the rotated or mirrored image. Equal to hashes[d]
  // where the windows are odd. hashes[] stay the reference's variants.
  std::array<PdqHash, kNumDihedral> aligned{};
  int quality = 0;
};

// Hashes `luma`, whose buffer is used as workspace (its contents are
// destroyed). Images under 5 px on a side hash to zero with quality 0, as in
// the reference. A 64x64 image skips the filter for hashes[kOrig] (the
// reference's pdqHash256FromFloatLuma); the reference's dihedral entry point
// has no such shortcut, so for 64x64 the other variants come from the
// filtered image. Thread-safe: touches only its arguments.
PdqResult ComputePdq(LumaImage luma, PdqMode mode, bool dihedral, const PdqKernels& kernels);

// The end of PDQ from a 64x64 downsample `a`: quality, DCT, median, bits, and
// with `dihedral` the other 7 variants (all from `a`) and, from `a` and the
// mirror downsamples `m` (nullptr: `a` for all), the aligned variants.
PdqResult PdqFromDownsample(const float a[64 * 64], bool dihedral, const PdqKernels& kernels,
                            const MirrorDownsamples* m = nullptr);

// Exposed for tests: the 64x64 downsample (passes A-D + decimation) and the
// quality metric on it; with `mirrors` also the mirror images' downsamples.
void PdqDownsample64(const LumaImage& luma, const PdqKernels& kernels, float out[64 * 64],
                     MirrorDownsamples* mirrors = nullptr);
int PdqQuality(const float a[64 * 64]);

}  // namespace hashing
