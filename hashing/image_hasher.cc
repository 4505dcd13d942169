#include "hashing/image_hasher.h"

#include "hashing/digests.h"
#include "hashing/image_decoder.h"
#include "hashing/pdq_stream_hasher.h"

namespace hashing {

Status HashImage(std::span<const uint8_t> bytes, const HashOptions& options, ImageHashes* out) {
  const PdqKernels* kernels = options.simd ? PdqKernelsFor(*options.simd) : &ActivePdqKernels();
  if (!kernels) return Status::Unsupported(std::string("this CPU has no ") + SimdLevelName(*options.simd));

  PdqStreamHasher hasher(*kernels, options.mode, options.dihedral);
  DecodedInfo info;
  HS_RETURN_IF_ERROR(DecodeImage(bytes, options.limits, &hasher, &info));
  const PdqResult pdq = hasher.Finish();
  const Digests digests = ComputeDigests(bytes);

  *out = ImageHashes();
  out->format = ImageFormatName(info.format);
  out->width = info.width;
  out->height = info.height;
  out->pdq = pdq.hashes;
  out->quality = pdq.quality;
  out->md5 = digests.md5;
  out->sha256 = digests.sha256;
  return Status::Ok();
}

}  // namespace hashing
