// libFuzzer target: the hash-list codec in every format, line by line, on
// arbitrary text. The first byte picks the format and the type of plain
// lines. A parsed entry must be a valid signal (ValidateSignal), and the
// parser must never grow `used` on an error.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "codec/hash_list_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr codec::ListFormat kFormats[] = {codec::ListFormat::kAuto,     codec::ListFormat::kCsv,
                                                   codec::ListFormat::kPlain,    codec::ListFormat::kHasher,
                                                   codec::ListFormat::kJsonLines, codec::ListFormat::kTeCsv};
  static constexpr base::SignalType kTypes[] = {base::SignalType::kPdq, base::SignalType::kMd5,
                                                base::SignalType::kSha256};
  codec::ListCodecOptions options;
  options.format = kFormats[data[0] % 6];
  options.type = kTypes[(data[0] / 6) % 3];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  codec::HashListParser parser(options);
  std::vector<base::SignalEntry> out;
  size_t used = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const size_t before = used;
    if (!parser.ParseLine(line, &out, &used).ok() && used != before) std::abort();
  }
  for (size_t i = 0; i < used; ++i) {
    if (!base::ValidateSignal(out[i]).ok()) std::abort();
  }
  return 0;
}
