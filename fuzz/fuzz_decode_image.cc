// libFuzzer target: the whole hashing pipeline (format sniffing, every
// decoder, PDQ with all 8 variants, digests) on arbitrary bytes. Built once
// per format with FUZZ_FORMAT naming it: an input that does not sniff as that
// format gets the format's signature prepended, so the fuzzer spends its time
// inside that decoder (TGA has no signature: its build takes inputs as they
// are). Any crash, sanitizer report, leak, or an error that comes with a
// result is a finding; errors themselves are expected.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "hashing/image_format.h"
#include "hashing/image_hasher.h"

namespace {
// The signature that makes SniffFormat answer `f`.
std::string Signature(hashing::ImageFormat f) {
  using F = hashing::ImageFormat;
  switch (f) {
    case F::kJpeg: return "\xFF\xD8\xFF";
    case F::kPng: return std::string("\x89PNG\r\n\x1A\n", 8);
    case F::kGif: return "GIF89a";
    case F::kBmp: return "BM";
    case F::kPnm: return "P6";
    case F::kPsd: return "8BPS";
    case F::kWebp: return std::string("RIFF\0\0\0\0WEBP", 12);
    default: return "";
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr hashing::ImageFormat kFormat = hashing::ImageFormat::FUZZ_FORMAT;
  std::vector<uint8_t> bytes;
  if (kFormat != hashing::ImageFormat::kUnknown && hashing::SniffFormat({data, size}) != kFormat) {
    const std::string sig = Signature(kFormat);
    bytes.assign(sig.begin(), sig.end());
  }
  bytes.insert(bytes.end(), data, data + size);
  hashing::HashOptions options;
  options.dihedral = true;
  // Small enough that each input stays fast; large enough for real images.
  options.limits.max_pixels = 4'000'000;
  // Well inside libFuzzer's per-input timeout (run.sh: 10 s), so a slow
  // decode is refused by the decoders' own time budget and a timeout
  // report means a path that budget does not bound.
  options.limits.max_decode_ms = 2'000;
  hashing::ImageHashes out;
  base::Status s = hashing::HashImage(bytes, options, &out);
  if (!s.ok() && !out.format.empty()) std::abort();  // an error never comes with a result
  return 0;
}
