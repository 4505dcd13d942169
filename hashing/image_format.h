// ImageFormat: what a byte string is, judged by its content (magic bytes),
// never by a file name or a Content-Type header.
#pragma once

#include <cstdint>
#include <span>

namespace hashing {

enum class ImageFormat { kUnknown, kJpeg, kPng, kGif, kBmp, kPnm, kPsd, kTga, kWebp };

// "jpeg", "png", ... or "unknown".
const char* ImageFormatName(ImageFormat f);

// By magic bytes. TGA has none; it is recognised only by the stb decoder's
// header check, so SniffFormat never returns kTga.
ImageFormat SniffFormat(std::span<const uint8_t> bytes);

}  // namespace hashing
