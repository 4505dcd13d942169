// Crypto: the digests, MACs and randomness hashscreen uses, through one
// OpenSSL interface (EVP; hardware SHA extensions where the CPU has them).
//
// One failure policy: these operations cannot fail on valid input; OpenSSL
// failing to provide them means a broken installation or exhausted memory,
// so they print why and abort the process rather than return a result that
// could be mistaken for a real digest or secret. Inputs are never the cause.
//
// Thread-safety: every function may be called from any number of threads.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace base {

using Md5Digest = std::array<uint8_t, 16>;
using Sha256Digest = std::array<uint8_t, 32>;

Md5Digest Md5(std::span<const uint8_t> bytes);
Sha256Digest Sha256(std::span<const uint8_t> bytes);
Sha256Digest Sha256(std::string_view bytes);
// SHA-256 of the concatenation of `parts` (without building it).
Sha256Digest Sha256Of(std::initializer_list<std::string_view> parts);
// HMAC-SHA256(key, message).
Sha256Digest HmacSha256(std::string_view key, std::string_view message);

// Equality that takes the same time wherever the first difference is
// (secrets, MACs). Different lengths compare unequal.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Fills `out` from the OS-seeded CSPRNG.
void RandomBytes(std::span<uint8_t> out);

// A digest as a byte string (for keys and comparisons).
template <size_t N>
std::string_view AsBytes(const std::array<uint8_t, N>& a) {
  return std::string_view(reinterpret_cast<const char*>(a.data()), N);
}

}  // namespace base
