// Lowercase hex encoding and strict decoding of byte strings (digests, hashes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "hashing/status.h"

namespace hashing {

// Lowercase hex of `bytes`, two characters per byte.
std::string HexEncode(std::span<const uint8_t> bytes);

// Decodes exactly out.size() bytes from `hex` (2*out.size() characters, either
// case). Anything else (wrong length, a non-hex character) is InvalidArgument
// naming the problem; `out` is then unspecified.
Status HexDecode(std::string_view hex, std::span<uint8_t> out);

}  // namespace hashing
