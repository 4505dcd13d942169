// DecodeLimits: what an image may cost before we refuse it. Checked against
// the header before any pixel is decoded, so a hostile file cannot make the
// decoder allocate more than the limits imply.
#pragma once

#include <cstdint>

namespace hashing {

struct DecodeLimits {
  uint64_t max_bytes = 256ull << 20;      // encoded size
  uint64_t max_pixels = 100'000'000;      // width * height (100 MP)
};

}  // namespace hashing
