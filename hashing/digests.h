// Exact digests of the submitted bytes, through OpenSSL's EVP interface
// (hardware SHA extensions where the CPU has them). MD5 is what NCMEC and
// StopNCII lists share; SHA-256 is the collision-resistant one.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace hashing {

struct Digests {
  std::array<uint8_t, 16> md5{};
  std::array<uint8_t, 32> sha256{};
};

// Thread-safe. Aborts only if OpenSSL cannot provide MD5/SHA-256 at all
// (a broken installation, not an input problem).
Digests ComputeDigests(std::span<const uint8_t> bytes);

}  // namespace hashing
