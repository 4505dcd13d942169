#include "hashing/image_hasher.h"

#include <optional>

#include "base/crypto.h"
#include "hashing/decode_budget.h"
#include "hashing/image_decoder.h"
#include "hashing/image_format.h"
#include "hashing/pdq_stream_hasher.h"
#include "hashing/sink_adapters.h"

namespace hashing {

Status HashImage(std::span<const uint8_t> bytes, const HashOptions& options, ImageHashes* out) {
  const PdqKernels& kernels = options.kernels ? *options.kernels : ActivePdqKernels();
  // One budget for both decodes: the trimmed pass costs no more time or
  // memory than limits allow the upload as a whole.
  DecodeBudget budget(options.limits);
  DecodedInfo info;
  PdqResult pdq;
  std::optional<TrimRect> trim;
  // The first decode's pixels, kept (when they fit) for the trimmed picture.
  // Declared before it: the copy watches the detector while rows stream.
  BorderDetector detector(options.trim, kernels);
  std::optional<CopySink> copy;
  {
    PdqStreamHasher hasher(kernels, options.mode, options.dihedral);
    if (options.trim_borders) {
      // A PNG's copy is kept whole: inflating it again costs ~15x the copy
      // (docs/robustness.md, "A PNG keeps its copy whole"), so even a
      // bottom-only trim is cheaper from memory. Other formats drop the
      // copy once only a bottom bar could make a trim (most uploads have none).
      const bool keep_whole = SniffFormat(bytes) == ImageFormat::kPng;
      copy.emplace(&budget, options.trim_copy_max_bytes, keep_whole ? nullptr : &detector);
      TeeSink look(&detector, &*copy);
      TeeSink tee(&hasher, &look);
      HS_RETURN_IF_ERROR(DecodeImage(bytes, options.limits, &budget, &tee, &info, options.scaling));
      trim = detector.Result();
    } else {
      HS_RETURN_IF_ERROR(DecodeImage(bytes, options.limits, &budget, &hasher, &info, options.scaling));
    }
    pdq = hasher.Finish();
  }
  PdqResult trimmed;
  const bool from_copy = trim && copy->complete();
  if (from_copy) {
    // The same pixels a second decode would deliver, from memory.
    PdqStreamHasher hasher(kernels, options.mode, options.dihedral);
    HS_RETURN_IF_ERROR(copy->Replay(*trim, &hasher).WithContext("trimmed picture"));
    trimmed = hasher.Finish();
  } else if (trim) {
    // Not kept (over trim_copy_max_bytes or the budget, or dropped because
    // only a bottom bar could make a trim): the same bytes
    // decoded again, on what is left of the budget. An upload whose two
    // passes together exceed a limit is refused (kTooLarge) as not fully
    // screened, never answered from the first pass alone.
    copy.reset();
    PdqStreamHasher hasher(kernels, options.mode, options.dihedral);
    // The first pass decoded these bytes whole: the second may stop after
    // the rectangle's last row (a bottom bar's rows are not decoded again).
    CropSink crop(&hasher, *trim, /*stop_early=*/true);
    DecodedInfo again;
    HS_RETURN_IF_ERROR(DecodeImage(bytes, options.limits, &budget, &crop, &again, options.scaling).WithContext("trimmed picture"));
    trimmed = hasher.Finish();
  }
  copy.reset();

  *out = ImageHashes();
  out->format = ImageFormatName(info.format);
  out->width = info.width;
  out->height = info.height;
  out->decode_scale = info.scale;
  out->pdq = pdq.hashes;
  out->aligned = pdq.aligned;
  out->quality = pdq.quality;
  if (trim) {
    out->trimmed.present = true;
    out->trimmed.rect = *trim;
    out->trimmed.pdq = trimmed.hashes;
    out->trimmed.aligned = trimmed.aligned;
    out->trimmed.quality = trimmed.quality;
    out->trimmed.from_copy = from_copy;
  }
  // MD5 is what NCMEC and StopNCII lists share; SHA-256 the collision-resistant one.
  out->md5 = base::Md5(bytes);
  out->sha256 = base::Sha256(bytes);
  return Status::Ok();
}

}  // namespace hashing
