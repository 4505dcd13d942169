// JPEG through libjpeg-turbo's libjpeg API at its defaults (ISLOW IDCT, fancy
// upsampling): byte-identical to `djpeg -pnm` and so to the reference's
// ImageMagick pixels. With DecodeScaling (opt-in) at 1/2, 1/4 or 1/8 of the
// size, as `djpeg -scale 1/N` decodes it: not the reference's pixels. Scanlines stream to the sink 16 at a time; the full RGB
// image is never held.
//
// Hostile input, from the header before jpeg_start_decompress: the
// dimensions against the limits; the pixel count against what the file's
// bytes can encode (compression_bounds.h); the memory libjpeg will need
// (whole-image coefficient arrays for progressive and multi-scan files, row
// buffers otherwise) charged to the budget, and libjpeg capped there
// (max_memory_to_use: it fails rather than use more). While decoding: a
// progressive file may have at most kMaxScans scans (each scan re-decodes
// the whole image, so thousands of empty scans are a CPU bomb), and the
// progress monitor checks the deadline. Premature end of data, an entropy
// segment cut short by a marker, lost restart markers and an AC scan
// before its DC scan are errors rather than an image padded with grey.
//
// libjpeg reports errors by longjmp. Everything that must survive it lives
// in a heap DecodeState created before setjmp; the code that runs between
// setjmp and a possible longjmp keeps no object with a destructor on the
// stack (messages are written into the state before jumping), so the jump
// skips no cleanup.
#include <csetjmp>
#include <memory>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>

#include "hashing/compression_bounds.h"
#include "hashing/format_decoders.h"

namespace hashing {

namespace {

constexpr int kMaxScans = 500;
constexpr int kChunkRows = 16;

struct ErrorManager {
  jpeg_error_mgr pub;
  jmp_buf jump;
  std::string message;
  Status::Code code = Status::Code::kOk;  // set when a failure jumps
  DecodeBudget* budget = nullptr;
};

ErrorManager* Errors(j_common_ptr cinfo) { return reinterpret_cast<ErrorManager*>(cinfo->err); }

[[noreturn]] void Fail(j_common_ptr cinfo, Status::Code code, const char* message) {
  ErrorManager* err = Errors(cinfo);
  err->code = code;
  err->message.assign(message);
  std::longjmp(err->jump, 1);
}

void OnError(j_common_ptr cinfo) {
  if (cinfo->err->msg_code == JERR_NO_BACKING_STORE || cinfo->err->msg_code == JERR_OUT_OF_MEMORY) {
    Fail(cinfo, Status::Code::kTooLarge, "JPEG needs more decoder memory than its dimensions justify (limits.max_decode_memory)");
  }
  char buf[JMSG_LENGTH_MAX + 16] = "damaged JPEG: ";
  (*cinfo->err->format_message)(cinfo, buf + 14);
  Fail(cinfo, Status::Code::kCorruption, buf);
}

void OnMessage(j_common_ptr cinfo, int level) {
  // Warnings are level -1. Those that mean the image would be padded with
  // grey (data missing or skipped) or that break the compression bound
  // are fatal for us; others (such as stray bytes before a marker) are
  // common in real files and the reference decodes through them.
  if (level >= 0) return;
  switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF: Fail(cinfo, Status::Code::kCorruption, "truncated JPEG (data ends before the image does)");
    case JWRN_HIT_MARKER: Fail(cinfo, Status::Code::kCorruption, "truncated JPEG (an entropy-coded segment ends early)");
    case JWRN_MUST_RESYNC: Fail(cinfo, Status::Code::kCorruption, "damaged JPEG (restart markers out of sequence)");
    case JWRN_BOGUS_PROGRESSION: Fail(cinfo, Status::Code::kCorruption, "damaged JPEG (an AC scan before its DC scan)");
    default: return;
  }
}

void OnProgress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  static_assert(kMaxScans == 500, "the message below names the limit");
  if (d->input_scan_number > kMaxScans) {
    Fail(cinfo, Status::Code::kCorruption, "JPEG has more than 500 scans (refused as a decoding bomb)");
  }
  // One call per row of MCUs read, or per jpeg_read_scanlines call.
  DecodeBudget* budget = Errors(cinfo)->budget;
  if (budget->Tick(uint64_t{d->image_width} * d->num_components * 16)) {
    Errors(cinfo)->message = budget->DeadlineExceeded().message();
    Errors(cinfo)->code = Status::Code::kTooLarge;
    std::longjmp(Errors(cinfo)->jump, 1);
  }
}

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

// The memory libjpeg allocates for this image once decompression starts:
// whole-image coefficient arrays (2 bytes per coefficient, 64 per block,
// blocks padded to the sampling factors) when the file has several scans,
// and row buffers (generously: 48 rows of every component at full width,
// enough for 4x4 sampling and fancy upsampling) plus fixed tables.
uint64_t LibjpegMemory(const jpeg_decompress_struct& cinfo) {
  uint64_t bytes = uint64_t{cinfo.image_width + 64} * cinfo.num_components * 48 + (1u << 20);
  const bool multi_scan = cinfo.progressive_mode || cinfo.comps_in_scan < cinfo.num_components;
  if (multi_scan) {
    for (int i = 0; i < cinfo.num_components; ++i) {
      const jpeg_component_info& c = cinfo.comp_info[i];
      const uint64_t w = (uint64_t{c.width_in_blocks} + c.h_samp_factor - 1) / c.h_samp_factor * c.h_samp_factor;
      const uint64_t h = (uint64_t{c.height_in_blocks} + c.v_samp_factor - 1) / c.v_samp_factor * c.v_samp_factor;
      bytes += w * h * DCTSIZE2 * sizeof(JCOEF);
    }
  }
  return bytes;
}

// Everything that must survive a longjmp lives here, on the heap, created
// before setjmp and never reassigned afterwards.
struct DecodeState {
  explicit DecodeState(const DecodeJob& j) : job(j) {}
  ~DecodeState() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
  DecodeState(const DecodeState&) = delete;
  DecodeState& operator=(const DecodeState&) = delete;

  // Runs between setjmp and the end; any libjpeg call may longjmp out of it,
  // so it keeps no object with a destructor alive across one.
  void Run();
  [[noreturn]] void Fail(const char* message) { hashing::Fail(reinterpret_cast<j_common_ptr>(&cinfo), Status::Code::kCorruption, message); }
  Status Result() const {
    if (!status.ok()) return status;
    if (err.code == Status::Code::kOk) return Status::Ok();
    return err.code == Status::Code::kTooLarge ? Status::TooLarge(err.message) : Status::Corruption(err.message);
  }

  const DecodeJob& job;
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  jpeg_progress_mgr progress;
  Status status;                 // a refusal of ours (limits, sink), not libjpeg's
  std::vector<uint8_t> samples;  // kChunkRows scanlines as libjpeg writes them
  std::vector<uint8_t> rgb;      // CMYK converted to RGB
  bool created = false;
};

void DecodeState::Run() {
  jpeg_create_decompress(&cinfo);
  created = true;
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, job.bytes.data(), static_cast<unsigned long>(job.bytes.size()));
  jpeg_save_markers(&cinfo, JPEG_APP0 + 14, 0);  // only so saw_Adobe_marker is set; contents unused
  jpeg_read_header(&cinfo, TRUE);

  status = CheckDimensions(cinfo.image_width, cinfo.image_height, job.limits);
  if (!status.ok()) return;
  job.info->width = static_cast<int>(cinfo.image_width);
  job.info->height = static_cast<int>(cinfo.image_height);
  const uint64_t pixels = uint64_t{cinfo.image_width} * cinfo.image_height;
  const uint64_t per_byte = cinfo.arith_code ? kUnboundedCodecMaxPixelsPerByte : kJpegHuffmanMaxPixelsPerByte;
  if (pixels > per_byte * job.bytes.size()) {
    status = Implausible("a " + std::to_string(cinfo.image_width) + "x" + std::to_string(cinfo.image_height) + " JPEG",
                         MinBytesFor(pixels, per_byte), "data",
                         cinfo.arith_code ? "an arithmetic-coded JPEG is refused above " + std::to_string(per_byte) + " pixels per byte"
                                          : "every block costs at least one bit",
                         job.bytes.size());
    return;
  }

  bool cmyk = false;
  switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo.out_color_space = JCS_CMYK, cmyk = true; break;
    default: cinfo.out_color_space = JCS_RGB; break;
  }
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  if (job.scaling.jpeg_min_side > 0) {
    // DCT scaling: the decoded size is ceil(side * 1 / denom) on each side.
    const uint64_t min_side = static_cast<uint64_t>(job.scaling.jpeg_min_side);
    for (unsigned denom : {8u, 4u, 2u}) {
      if ((cinfo.image_width + denom - 1) / denom >= min_side && (cinfo.image_height + denom - 1) / denom >= min_side) {
        cinfo.scale_num = 1;
        cinfo.scale_denom = denom;
        job.info->scale = static_cast<int>(denom);
        break;
      }
    }
  }
  const uint64_t libjpeg_bytes = LibjpegMemory(cinfo);
  status = job.budget.Charge(libjpeg_bytes, "libjpeg's buffers");
  if (!status.ok()) return;
  cinfo.mem->max_memory_to_use = static_cast<long>(libjpeg_bytes);

  jpeg_start_decompress(&cinfo);
  const int width = static_cast<int>(cinfo.output_width);
  const int in_channels = cinfo.output_components;
  const int out_channels = cmyk ? 3 : in_channels;
  if (in_channels != 1 && in_channels != 3 && in_channels != 4) Fail("unexpected JPEG component count");
  const size_t row_bytes = static_cast<size_t>(width) * in_channels;
  const uint64_t buffers = row_bytes * kChunkRows + (cmyk ? uint64_t{3} * width * kChunkRows : 0);
  status = job.budget.Charge(buffers, "the JPEG row buffers");
  if (!status.ok()) return;
  status = job.sink->Start(width, static_cast<int>(cinfo.output_height), out_channels);
  if (!status.ok()) return;

  samples.resize(row_bytes * kChunkRows);
  if (cmyk) rgb.resize(static_cast<size_t>(width) * 3 * kChunkRows);
  JSAMPROW rows[kChunkRows];
  for (int i = 0; i < kChunkRows; ++i) rows[i] = samples.data() + i * row_bytes;
  while (cinfo.output_scanline < cinfo.output_height) {
    const int y0 = static_cast<int>(cinfo.output_scanline);
    int got = 0;
    while (got < kChunkRows && cinfo.output_scanline < cinfo.output_height) {
      const JDIMENSION n = jpeg_read_scanlines(&cinfo, rows + got, kChunkRows - got);
      if (n == 0) Fail("JPEG decoder made no progress");
      got += static_cast<int>(n);
    }
    if (cmyk) {
      CmykToRgb(samples.data(), static_cast<size_t>(got) * width, cinfo.saw_Adobe_marker, rgb.data());
      job.sink->Rows(y0, got, rgb.data());
    } else {
      job.sink->Rows(y0, got, samples.data());
    }
    if (job.sink->Satisfied()) return;  // a second decode (PixelSink::Satisfied): the rest is known good
  }
  jpeg_finish_decompress(&cinfo);
}

}  // namespace

Status DecodeJpeg(const DecodeJob& job) {
  auto state = std::make_unique<DecodeState>(job);
  state->cinfo.err = jpeg_std_error(&state->err.pub);
  state->err.pub.error_exit = OnError;
  state->err.pub.emit_message = OnMessage;
  state->err.budget = &job.budget;
  state->progress.progress_monitor = OnProgress;
  if (setjmp(state->err.jump) == 0) state->Run();
  return state->Result();
}

}  // namespace hashing
