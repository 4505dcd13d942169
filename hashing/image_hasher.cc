#include "hashing/image_hasher.h"

#include "hashing/digests.h"
#include "hashing/image_decoder.h"
#include "hashing/luma_image.h"

namespace hashing {

Status HashImage(std::span<const uint8_t> bytes, const HashOptions& options, ImageHashes* out) {
  const PdqKernels* kernels = options.simd ? PdqKernelsFor(*options.simd) : &ActivePdqKernels();
  if (!kernels) return Status::Unsupported(std::string("this CPU has no ") + SimdLevelName(*options.simd));

  LumaBuilder luma(*kernels);
  DecodedInfo info;
  HS_RETURN_IF_ERROR(DecodeImage(bytes, options.limits, &luma, &info));
  const PdqResult pdq = ComputePdq(luma.Finish(), options.mode, options.dihedral, *kernels);
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
