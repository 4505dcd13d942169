#include "hashing/image_hasher.h"

#include "base/crypto.h"
#include "hashing/image_decoder.h"
#include "hashing/pdq_stream_hasher.h"

namespace hashing {

Status HashImage(std::span<const uint8_t> bytes, const HashOptions& options, ImageHashes* out) {
  const PdqKernels& kernels = options.kernels ? *options.kernels : ActivePdqKernels();
  PdqStreamHasher hasher(kernels, options.mode, options.dihedral);
  DecodedInfo info;
  HS_RETURN_IF_ERROR(DecodeImage(bytes, options.limits, &hasher, &info));
  const PdqResult pdq = hasher.Finish();

  *out = ImageHashes();
  out->format = ImageFormatName(info.format);
  out->width = info.width;
  out->height = info.height;
  out->pdq = pdq.hashes;
  out->quality = pdq.quality;
  // MD5 is what NCMEC and StopNCII lists share; SHA-256 the collision-resistant one.
  out->md5 = base::Md5(bytes);
  out->sha256 = base::Sha256(bytes);
  return Status::Ok();
}

}  // namespace hashing
