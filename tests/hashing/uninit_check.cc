// uninit_check: every decoder on truncated inputs of every format, the
// review's 15-byte PNM, the 100-megapixel bombs and the complete files,
// meant to run under Valgrind's memcheck (CTest runs it through
// run_under_valgrind.sh with --error-exitcode and --track-origins).
//
// Every row a decoder delivers is checked with memcheck's client request
// (VALGRIND_CHECK_MEM_IS_DEFINED), so a pixel computed from memory nobody
// wrote is an error at the row that carries it, with the allocation it came
// from; memcheck also reports any other use of uninitialised memory on the
// way, and definite leaks. Independently of Valgrind, the program exits 1
// naming any truncated input that was hashed, or any complete one that was
// not. Outside Valgrind the client requests do nothing.
#include <valgrind/memcheck.h>

#include <cstdio>
#include <string>

#include "hashing/image_decoder.h"
#include "hashing/image_hasher.h"
#include "tests/hashing/hostile_inputs.h"

namespace {

class CheckedSink : public hashing::PixelSink {
 public:
  base::Status Start(int width, int height, int channels) override {
    row_bytes_ = static_cast<size_t>(width) * channels;
    (void)height;
    return base::Status::Ok();
  }
  void Rows(int, int n, const uint8_t* data) override {
    (void)VALGRIND_CHECK_MEM_IS_DEFINED(data, row_bytes_ * static_cast<size_t>(n));
  }

 private:
  size_t row_bytes_ = 0;
};

// Decodes through the checked sink, then hashes; both must agree with `ok`.
bool Check(const std::string& what, std::span<const uint8_t> bytes, bool ok) {
  CheckedSink sink;
  hashing::DecodedInfo info;
  const base::Status decoded = hashing::DecodeImage(bytes, hashing::DecodeLimits(), &sink, &info);
  hashing::ImageHashes h;
  const base::Status hashed = hashing::HashImage(bytes, hashing::HashOptions(), &h);
  if (decoded.ok() == ok && hashed.ok() == ok) return true;
  std::fprintf(stderr, "uninit_check: %s (%zu bytes): expected %s, got %s / %s\n", what.c_str(), bytes.size(),
               ok ? "a hash" : "an error", decoded.ToString().c_str(), hashed.ToString().c_str());
  return false;
}

}  // namespace

int main() {
  int failures = 0, decodes = 0;
  for (const auto& s : hostile::FormatSamples()) {
    failures += !Check(s.name, s.bytes, true);
    ++decodes;
    for (size_t n : hostile::CutPoints(s, 24)) {
      failures += !Check(s.name + " cut at " + std::to_string(n), std::span(s.bytes).first(n), false);
      ++decodes;
    }
  }
  failures += !Check("the 15-byte PNM", hostile::FifteenBytePnm(), false);
  for (const auto& b : hostile::Bombs()) {
    hashing::ImageHashes h;
    CheckedSink sink;
    hashing::DecodedInfo info;
    (void)hashing::DecodeImage(b.bytes, hashing::DecodeLimits(), &sink, &info);
    (void)hashing::HashImage(b.bytes, hashing::HashOptions(), &h);
    ++decodes;
  }
  std::printf("uninit_check: %d inputs decoded and hashed, %d wrong answers%s\n", decodes + 1, failures,
              RUNNING_ON_VALGRIND ? " (under Valgrind: memcheck reports undefined pixels)" : " (not under Valgrind)");
  return failures == 0 ? 0 : 1;
}
