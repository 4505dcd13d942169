// WebP through libwebp: still images decoded straight to RGB (alpha dropped),
// animations through the demuxer's animation decoder, first frame only (as
// for GIF).
#include <string>
#include <vector>

#include <webp/decode.h>
#include <webp/demux.h>

#include "hashing/image_decoder.h"

namespace hashing {

namespace {

Status DecodeFirstFrame(std::span<const uint8_t> bytes, PixelSink* sink, DecodedInfo* info) {
  WebPData data = {bytes.data(), bytes.size()};
  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) return Status::Unsupported("libwebp version mismatch");
  options.color_mode = MODE_RGBA;
  options.use_threads = 0;
  WebPAnimDecoder* dec = WebPAnimDecoderNew(&data, &options);
  if (!dec) return Status::Corruption("cannot read the animated WebP container");
  WebPAnimInfo anim;
  uint8_t* rgba = nullptr;
  int timestamp = 0;
  Status s;
  if (!WebPAnimDecoderGetInfo(dec, &anim) || !WebPAnimDecoderGetNext(dec, &rgba, &timestamp)) {
    s = Status::Corruption("cannot decode the first frame of the animated WebP");
  } else {
    info->width = static_cast<int>(anim.canvas_width);
    info->height = static_cast<int>(anim.canvas_height);
    const size_t n = static_cast<size_t>(anim.canvas_width) * anim.canvas_height;
    std::vector<uint8_t> rgb(n * 3);
    for (size_t i = 0; i < n; ++i) {
      rgb[3 * i] = rgba[4 * i];
      rgb[3 * i + 1] = rgba[4 * i + 1];
      rgb[3 * i + 2] = rgba[4 * i + 2];
    }
    s = sink->Start(info->width, info->height, 3);
    if (s.ok()) sink->Rows(0, info->height, rgb.data());
  }
  WebPAnimDecoderDelete(dec);
  return s;
}

}  // namespace

Status DecodeWebp(std::span<const uint8_t> bytes, const DecodeLimits& limits, PixelSink* sink, DecodedInfo* info) {
  WebPBitstreamFeatures features;
  const VP8StatusCode rc = WebPGetFeatures(bytes.data(), bytes.size(), &features);
  if (rc == VP8_STATUS_NOT_ENOUGH_DATA) return Status::Corruption("truncated WebP header");
  if (rc != VP8_STATUS_OK) return Status::Corruption("cannot read the WebP header (libwebp status " + std::to_string(rc) + ")");
  info->width = features.width;
  info->height = features.height;
  HS_RETURN_IF_ERROR(CheckDimensions(static_cast<uint64_t>(features.width), static_cast<uint64_t>(features.height), limits));
  if (features.has_animation) return DecodeFirstFrame(bytes, sink, info);

  const size_t stride = static_cast<size_t>(features.width) * 3;
  std::vector<uint8_t> rgb(stride * features.height);
  if (!WebPDecodeRGBInto(bytes.data(), bytes.size(), rgb.data(), rgb.size(), static_cast<int>(stride))) {
    return Status::Corruption("cannot decode the WebP image (damaged or truncated)");
  }
  HS_RETURN_IF_ERROR(sink->Start(features.width, features.height, 3));
  sink->Rows(0, features.height, rgb.data());
  return Status::Ok();
}

}  // namespace hashing
