// Compression bounds: the most an input of n bytes can honestly describe in
// each format, from the codec's maximum possible compression. A header that
// claims more (a 35-byte GIF with a 100-megapixel frame) is refused as
// kCorruption before any pixel buffer exists, so the cost of a decode is
// proportional to its input. docs/hashing.md ("Hostile input") has the table.
//
// Derivations (each a bound no valid file can exceed, not a statistic):
//   PNG   deflate emits at most 258 bytes per 2 bits: a length-258 match is
//         a literal/length code (>= 1 bit: that alphabet always holds the
//         end-of-block code too) and a distance code (>= 1 bit: RFC 1951
//         codes a lone distance with one bit, never zero). So the inflated
//         scanlines (per row a filter byte and the packed samples, per
//         Adam7 pass) are at most 1032 times the bytes of the file.
//   GIF   an LZW code of b bits names a dictionary entry below 2^b, whose
//         string is at most 2^b pixels; 2^b / b is largest at b = 12:
//         4096 pixels per 12 bits, 2731 per byte of the frame's LZW data.
//   JPEG  (Huffman) every block of a component's first DC scan has a
//         Huffman code, and JPEG codes are 1 to 16 bits long; a block
//         covers at most 32x32 pixels (sampling factors are 1 to 4): at most
//         8192 pixels per byte. A file without such a scan is refused (a
//         bogus progression, an entropy segment cut short and running out of
//         data are fatal warnings), so the bound holds for every file
//         decoded.
//   WebP  (lossy, VP8) key frames code each 16x16 macroblock's prediction
//         modes with fixed probabilities (RFC 6386 section 11; libwebp's
//         kBModesProba): the cheapest macroblock costs 3.42 bits (a
//         16x16 mode: -log2(111/256) - log2(156/256) - log2(163/256), plus
//         a DC chroma mode: -log2(142/256)); with sixteen 4x4 modes at least
//         4.04. libwebp stops at the end of a partition rather than
//         reading zeros, so at most 256 / 3.42 * 8 = 598 pixels per byte
//         (libwebp's own encoder reaches 561 on a white image).
//   TGA   (RLE) a packet is a header byte and one pixel, repeated at most
//         128 times.
//   PSD   (RLE, PackBits) two bytes repeat a byte at most 128 times, and
//         the row table lists every row's compressed length.
//   PNM, BMP, uncompressed TGA and PSD  exact: the header gives the size.
// Two codecs have no useful bound: VP8L (lossless WebP) allows prefix codes
// of a single zero-length symbol, so a one-colour image of any size costs
// no bits per pixel, and JPEG's arithmetic coder spends 0.00004 bits on a
// near-certain decision. For them the bound is a policy:
// kUnboundedCodecMaxPixelsPerByte, about 1.4 times what libwebp's own encoder
// makes of a white 4000x4000 image (23529 pixels per byte); a larger
// near-blank image (which carries no perceptual content: PDQ quality 0) is
// refused.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace hashing {

using base::Status;

inline constexpr uint64_t kDeflateMaxExpansion = 1032;
inline constexpr uint64_t kGifMaxPixelsPerLzwByte = 2731;
inline constexpr uint64_t kJpegHuffmanMaxPixelsPerByte = 8192;
// VP8 key frame: the cheapest macroblock, in thousandths of a bit (3.4217).
inline constexpr uint64_t kVp8MinMillibitsPerMacroblock = 3421;
inline constexpr uint64_t kTgaRleMaxPixelsPerPacket = 128;
inline constexpr uint64_t kPackBitsMaxBytesPerPair = 128;
inline constexpr uint64_t kUnboundedCodecMaxPixelsPerByte = 32768;

// ceil(units / per_byte): the fewest input bytes that can describe `units`.
constexpr uint64_t MinBytesFor(uint64_t units, uint64_t per_byte) { return units / per_byte + (units % per_byte != 0); }

// The kCorruption a decoder returns when `have` bytes cannot hold what the
// header claims: "a 10000x10000 GIF frame needs at least 36617 bytes of LZW
// data (at most 2731 pixels per byte); the file has 21".
inline Status Implausible(const std::string& claim, uint64_t need, const std::string& of_what, const std::string& why,
                          uint64_t have) {
  return Status::Corruption(claim + " needs at least " + std::to_string(need) + " bytes of " + of_what + " (" + why +
                            "); the file has " + std::to_string(have));
}

}  // namespace hashing
