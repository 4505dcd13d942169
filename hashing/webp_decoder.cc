// WebP through libwebp: still images decoded to RGB (alpha dropped, never
// composited); an animation's first frame within its own bounds, as
// ImageMagick reads a frame (and as for GIF): its bitstream is taken from
// the demuxer and decoded like a still image, so a huge canvas around a tiny
// frame costs nothing.
//
// Hostile input: the canvas and the frame against the limits; the frame's
// pixels against what its bytes can encode (compression_bounds.h: lossy VP8
// at most 598 pixels per byte; lossless VP8L has no codec bound, so the
// policy bound); the output buffer and libwebp's own buffers (an estimate
// from the header: libwebp takes no allocator) charged to the budget before
// decoding. The incremental decoder is fed kChunkBytes at a time and the
// deadline checked between chunks. A file shorter than its RIFF header says
// is truncated.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <webp/decode.h>
#include <webp/demux.h>

#include "hashing/compression_bounds.h"
#include "hashing/format_decoders.h"

namespace hashing {

namespace {

constexpr size_t kChunkBytes = 16 << 10;

struct IDecoderDeleter {
  void operator()(WebPIDecoder* d) const { WebPIDelete(d); }
};
struct DemuxDeleter {
  void operator()(WebPDemuxer* d) const { WebPDemuxDelete(d); }
};
struct IteratorReleaser {
  void operator()(WebPIterator* it) const { WebPDemuxReleaseIterator(it); }
};

// What libwebp allocates besides our output (src/dec: VP8L keeps the whole
// image as ARGB plus 16-row caches; VP8 keeps per-macroblock state and a
// row cache, and decompresses an alpha plane whole).
uint64_t LibwebpMemory(const WebPBitstreamFeatures& f) {
  const uint64_t w = static_cast<uint64_t>(f.width), h = static_cast<uint64_t>(f.height);
  if (f.format == 2) return 4 * w * h + 4 * 32 * w + (1u << 20);
  return (f.has_alpha ? w * h : 0) + 64 * (w + 16) + (1u << 20);
}

std::string Size(const WebPBitstreamFeatures& f) { return std::to_string(f.width) + "x" + std::to_string(f.height); }

// One still bitstream: a whole file, or an animation frame's fragment.
Status DecodeStill(const DecodeJob& job, std::span<const uint8_t> data, const char* what) {
  WebPBitstreamFeatures f;
  const VP8StatusCode rc = WebPGetFeatures(data.data(), data.size(), &f);
  if (rc == VP8_STATUS_NOT_ENOUGH_DATA) return Status::Corruption(std::string("truncated ") + what + " header");
  if (rc != VP8_STATUS_OK) {
    return Status::Corruption(std::string("cannot read the ") + what + " header (libwebp status " + std::to_string(rc) + ")");
  }
  HS_RETURN_IF_ERROR(CheckDimensions(static_cast<uint64_t>(f.width), static_cast<uint64_t>(f.height), job.limits));
  job.info->width = f.width;
  job.info->height = f.height;
  const uint64_t pixels = uint64_t(f.width) * uint64_t(f.height);
  if (f.format == 2) {
    if (pixels > kUnboundedCodecMaxPixelsPerByte * data.size()) {
      return Implausible(std::string("a ") + Size(f) + " lossless " + what, MinBytesFor(pixels, kUnboundedCodecMaxPixelsPerByte),
                         "data", "a lossless WebP is refused above " + std::to_string(kUnboundedCodecMaxPixelsPerByte) + " pixels per byte",
                         data.size());
    }
  } else {
    const uint64_t macroblocks = uint64_t((f.width + 15) / 16) * uint64_t((f.height + 15) / 16);
    if (macroblocks * kVp8MinMillibitsPerMacroblock > uint64_t{data.size()} * 8000) {
      return Implausible(std::string("a ") + Size(f) + " lossy " + what,
                         MinBytesFor(macroblocks * kVp8MinMillibitsPerMacroblock, 8000), "data",
                         "every 16x16 macroblock costs at least 3.42 bits", data.size());
    }
  }

  const size_t stride = static_cast<size_t>(f.width) * 3;
  HS_RETURN_IF_ERROR(job.budget.Charge(pixels * 3, "the " + Size(f) + " RGB output"));
  HS_RETURN_IF_ERROR(job.budget.Charge(LibwebpMemory(f), "libwebp's buffers"));
  std::vector<uint8_t> rgb(stride * static_cast<size_t>(f.height));
  std::unique_ptr<WebPIDecoder, IDecoderDeleter> idec(WebPINewRGB(MODE_RGB, rgb.data(), rgb.size(), static_cast<int>(stride)));
  if (!idec) return Status::IOError("libwebp could not create a decoder");
  VP8StatusCode status = VP8_STATUS_SUSPENDED;
  size_t fed = 0;
  while (status == VP8_STATUS_SUSPENDED && fed < data.size()) {
    fed = std::min(data.size(), fed + kChunkBytes);
    status = WebPIUpdate(idec.get(), data.data(), fed);
    if (job.budget.Tick(DecodeBudget::kTickWork)) return job.budget.DeadlineExceeded();
  }
  switch (status) {
    case VP8_STATUS_OK: break;
    case VP8_STATUS_SUSPENDED:
    case VP8_STATUS_NOT_ENOUGH_DATA: return Status::Corruption(std::string("truncated ") + what + " (data ends before the image does)");
    case VP8_STATUS_OUT_OF_MEMORY: return Status::TooLarge(std::string("libwebp ran out of memory decoding the ") + what);
    default:
      return Status::Corruption(std::string("cannot decode the ") + what + ": damaged (libwebp status " + std::to_string(status) + ")");
  }
  HS_RETURN_IF_ERROR(job.sink->Start(f.width, f.height, 3));
  job.sink->Rows(0, f.height, rgb.data());
  return Status::Ok();
}

Status DecodeFirstFrame(const DecodeJob& job) {
  const WebPData data = {job.bytes.data(), job.bytes.size()};
  WebPDemuxState state = WEBP_DEMUX_PARSING_HEADER;
  std::unique_ptr<WebPDemuxer, DemuxDeleter> demux(WebPDemuxPartial(&data, &state));
  if (!demux || state == WEBP_DEMUX_PARSE_ERROR) return Status::Corruption("damaged animated WebP container");
  if (state != WEBP_DEMUX_DONE) return Status::Corruption("truncated animated WebP (the file is shorter than its header says)");
  WebPIterator iter;
  if (!WebPDemuxGetFrame(demux.get(), 1, &iter)) return Status::Corruption("animated WebP has no frame");
  std::unique_ptr<WebPIterator, IteratorReleaser> release(&iter);
  if (!iter.complete) return Status::Corruption("truncated animated WebP (its first frame is incomplete)");
  return DecodeStill(job, std::span<const uint8_t>(iter.fragment.bytes, iter.fragment.size), "first frame of the animated WebP");
}

}  // namespace

Status DecodeWebp(const DecodeJob& job) {
  WebPBitstreamFeatures features;
  const VP8StatusCode rc = WebPGetFeatures(job.bytes.data(), job.bytes.size(), &features);
  if (rc == VP8_STATUS_NOT_ENOUGH_DATA) return Status::Corruption("truncated WebP header");
  if (rc != VP8_STATUS_OK) return Status::Corruption("cannot read the WebP header (libwebp status " + std::to_string(rc) + ")");
  // SniffFormat saw "RIFF" size "WEBP": the RIFF size says how long the file is.
  const uint64_t riff_size = uint64_t{job.bytes[4]} | uint64_t{job.bytes[5]} << 8 | uint64_t{job.bytes[6]} << 16 |
                             uint64_t{job.bytes[7]} << 24;
  if (riff_size + 8 > job.bytes.size()) {
    return Status::Corruption("truncated WebP: its RIFF header says " + std::to_string(riff_size + 8) + " bytes, the file has " +
                              std::to_string(job.bytes.size()));
  }
  // The canvas as declared, as for GIF: a header claiming more than the
  // limit is refused even when only a small frame would be decoded.
  job.info->width = features.width;
  job.info->height = features.height;
  HS_RETURN_IF_ERROR(CheckDimensions(static_cast<uint64_t>(features.width), static_cast<uint64_t>(features.height), job.limits));
  if (features.has_animation) return DecodeFirstFrame(job);
  return DecodeStill(job, job.bytes, "WebP");
}

}  // namespace hashing
