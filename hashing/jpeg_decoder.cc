// JPEG through libjpeg-turbo's libjpeg API at its defaults (ISLOW IDCT, fancy
// upsampling): byte-identical to `djpeg -pnm` and so to the reference's
// ImageMagick pixels. Scanlines stream to the sink 16 at a time; the full RGB
// image is never held.
//
// Hostile input: dimensions are checked before start_decompress; libjpeg's
// memory is capped at what an honest image of those dimensions needs; a
// progressive file may have at most kMaxScans scans (each scan re-decodes the
// whole image, so thousands of empty scans are a CPU bomb); premature end of
// data is an error rather than an image padded with grey.
#include <csetjmp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>

#include "hashing/image_decoder.h"

namespace hashing {

namespace {

constexpr int kMaxScans = 500;
constexpr int kChunkRows = 16;

struct ErrorManager {
  jpeg_error_mgr pub;
  jmp_buf jump;
  std::string message;
  Status::Code code = Status::Code::kCorruption;
};

struct ProgressMonitor {
  jpeg_progress_mgr pub;
};

[[noreturn]] void Fail(j_common_ptr cinfo, std::string message, Status::Code code = Status::Code::kCorruption) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  err->message = std::move(message);
  err->code = code;
  std::longjmp(err->jump, 1);
}

void OnError(j_common_ptr cinfo) {
  char buf[JMSG_LENGTH_MAX];
  if (cinfo->err->msg_code == JERR_NO_BACKING_STORE) {
    Fail(cinfo, "JPEG needs more decoder memory than its dimensions justify", Status::Code::kTooLarge);
  }
  (*cinfo->err->format_message)(cinfo, buf);
  Fail(cinfo, std::string("damaged JPEG: ") + buf);
}

void OnMessage(j_common_ptr cinfo, int level) {
  // Warnings are level -1. Running out of data is fatal for us; other
  // warnings (such as stray bytes before a marker) are common in real files
  // and the reference decodes through them, so they are tolerated.
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) Fail(cinfo, "truncated JPEG (data ends before the image does)");
}

void OnProgress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > kMaxScans) {
    Fail(cinfo, "JPEG has more than " + std::to_string(kMaxScans) + " scans (refused as a decoding bomb)");
  }
}

// Everything that must survive a longjmp lives here, on the heap, created
// before setjmp and never reassigned afterwards.
struct DecodeState {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  ProgressMonitor progress;
  std::vector<uint8_t> samples;  // kChunkRows scanlines as libjpeg writes them
  std::vector<uint8_t> rgb;      // CMYK converted to RGB
  bool created = false;
  ~DecodeState() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

// ImageMagick's CMYK -> RGB without ICC: R = 255 (1-C)(1-K). Adobe files store
// inverted samples (s = 255 (1-C)), the convention ImageMagick assumes, so
// R = round(s_c * s_k / 255). No exact .5 ties exist, so integer rounding is exact.
void CmykToRgb(const uint8_t* cmyk, size_t n, bool inverted, uint8_t* rgb) {
  for (size_t i = 0; i < n; ++i) {
    unsigned c = cmyk[4 * i], m = cmyk[4 * i + 1], y = cmyk[4 * i + 2], k = cmyk[4 * i + 3];
    if (!inverted) {
      c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
    }
    rgb[3 * i] = static_cast<uint8_t>((c * k + 127) / 255);
    rgb[3 * i + 1] = static_cast<uint8_t>((m * k + 127) / 255);
    rgb[3 * i + 2] = static_cast<uint8_t>((y * k + 127) / 255);
  }
}

}  // namespace

Status DecodeJpeg(std::span<const uint8_t> bytes, const DecodeLimits& limits, PixelSink* sink, DecodedInfo* info) {
  auto state = std::make_unique<DecodeState>();
  jpeg_decompress_struct& cinfo = state->cinfo;
  cinfo.err = jpeg_std_error(&state->err.pub);
  state->err.pub.error_exit = OnError;
  state->err.pub.emit_message = OnMessage;
  state->progress.pub.progress_monitor = OnProgress;
  Status sink_status;

  if (setjmp(state->err.jump)) {
    if (!sink_status.ok()) return sink_status;
    return state->err.code == Status::Code::kTooLarge ? Status::TooLarge(state->err.message)
                                                       : Status::Corruption(state->err.message);
  }
  jpeg_create_decompress(&cinfo);
  state->created = true;
  cinfo.progress = &state->progress.pub;
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_save_markers(&cinfo, JPEG_APP0 + 14, 0);  // only so saw_Adobe_marker is set; contents unused
  jpeg_read_header(&cinfo, TRUE);

  info->width = static_cast<int>(cinfo.image_width);
  info->height = static_cast<int>(cinfo.image_height);
  Status dims = CheckDimensions(cinfo.image_width, cinfo.image_height, limits);
  if (!dims.ok()) return dims;

  bool cmyk = false;
  switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo.out_color_space = JCS_CMYK, cmyk = true; break;
    default: cinfo.out_color_space = JCS_RGB; break;
  }
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  // An honest image needs at most 2 bytes per coefficient (whole-image
  // buffers exist only for progressive/multi-scan files) plus row buffers.
  const uint64_t padded = (uint64_t{cinfo.image_width} + 16) * (uint64_t{cinfo.image_height} + 16);
  cinfo.mem->max_memory_to_use = static_cast<long>(padded * 2 * cinfo.num_components + (32u << 20));

  jpeg_start_decompress(&cinfo);
  const int width = static_cast<int>(cinfo.output_width);
  const int in_channels = cinfo.output_components;
  const int out_channels = cmyk ? 3 : in_channels;
  if (in_channels != 1 && in_channels != 3 && in_channels != 4) Fail(reinterpret_cast<j_common_ptr>(&cinfo), "unexpected JPEG component count");
  sink_status = sink->Start(width, static_cast<int>(cinfo.output_height), out_channels);
  if (!sink_status.ok()) Fail(reinterpret_cast<j_common_ptr>(&cinfo), sink_status.message());

  const size_t row_bytes = static_cast<size_t>(width) * in_channels;
  state->samples.resize(row_bytes * kChunkRows);
  if (cmyk) state->rgb.resize(static_cast<size_t>(width) * 3 * kChunkRows);
  JSAMPROW rows[kChunkRows];
  for (int i = 0; i < kChunkRows; ++i) rows[i] = state->samples.data() + i * row_bytes;
  while (cinfo.output_scanline < cinfo.output_height) {
    const int y0 = static_cast<int>(cinfo.output_scanline);
    int got = 0;
    while (got < kChunkRows && cinfo.output_scanline < cinfo.output_height) {
      const JDIMENSION n = jpeg_read_scanlines(&cinfo, rows + got, kChunkRows - got);
      if (n == 0) Fail(reinterpret_cast<j_common_ptr>(&cinfo), "JPEG decoder made no progress");
      got += static_cast<int>(n);
    }
    if (cmyk) {
      CmykToRgb(state->samples.data(), static_cast<size_t>(got) * width, cinfo.saw_Adobe_marker, state->rgb.data());
      sink->Rows(y0, got, state->rgb.data());
    } else {
      sink->Rows(y0, got, state->samples.data());
    }
  }
  jpeg_finish_decompress(&cinfo);
  return Status::Ok();
}

}  // namespace hashing
