// Lowercase hex encoding and strict decoding of byte strings (digests, hashes).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace base {

// Lowercase hex of `bytes`, two characters per byte.
std::string HexEncode(std::span<const uint8_t> bytes);
// The same for raw bytes held in a string (stored hashes).
std::string HexEncode(std::string_view bytes);

// Decodes exactly out.size() bytes from `hex` (2*out.size() characters, either
// case). Anything else (wrong length, a non-hex character) is InvalidArgument
// naming the problem; `out` is then unspecified. Table-driven: list imports
// decode millions of hashes.
Status HexDecode(std::string_view hex, std::span<uint8_t> out);

// True when `s` is non-empty and all hex digits.
bool IsHex(std::string_view s);

}  // namespace base
