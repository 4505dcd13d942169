// DecodeLimits: what decoding one image may cost before we refuse it
// (kTooLarge). The size and pixel limits are checked against the header
// before any pixel buffer exists; the memory budget is charged before each
// big allocation a decoder makes; the time budget is checked in the
// decoders' progress hooks. docs/hashing.md ("Hostile input") says where
// each is enforced and why the defaults are what they are.
//
// Independent of these limits, every format refuses a header that claims
// more pixels than its payload could encode at the codec's maximum
// compression (hashing/compression_bounds.h), so a tiny file never costs a
// large decode.
#pragma once

#include <cstdint>

namespace hashing {

struct DecodeLimits {
  uint64_t max_bytes = 256ull << 20;         // encoded size
  uint64_t max_pixels = 100'000'000;         // width * height (100 MP)
  uint64_t max_decode_memory = 512ull << 20; // bytes a decoder may hold at once (pixel buffers, decoder state)
  uint64_t max_decode_ms = 10'000;           // wall-clock time of one decode
};

}  // namespace hashing
