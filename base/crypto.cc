#include "base/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace base {

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "hashscreen: OpenSSL cannot %s (broken installation or out of memory); stopping\n", what);
  std::abort();
}

template <size_t N>
std::array<uint8_t, N> Digest(const EVP_MD* md, std::initializer_list<std::string_view> parts, const char* what) {
  std::array<uint8_t, N> out{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned int len = 0;
  bool ok = ctx && md && EVP_DigestInit_ex(ctx, md, nullptr) == 1;
  for (std::string_view p : parts) ok = ok && EVP_DigestUpdate(ctx, p.data(), p.size()) == 1;
  ok = ok && EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == N;
  EVP_MD_CTX_free(ctx);
  if (!ok) Die(what);
  return out;
}

std::string_view View(std::span<const uint8_t> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

}  // namespace

Md5Digest Md5(std::span<const uint8_t> bytes) { return Digest<16>(EVP_md5(), {View(bytes)}, "compute MD5"); }

Sha256Digest Sha256(std::span<const uint8_t> bytes) { return Sha256(View(bytes)); }

Sha256Digest Sha256(std::string_view bytes) { return Digest<32>(EVP_sha256(), {bytes}, "compute SHA-256"); }

Sha256Digest Sha256Of(std::initializer_list<std::string_view> parts) {
  return Digest<32>(EVP_sha256(), parts, "compute SHA-256");
}

Sha256Digest HmacSha256(std::string_view key, std::string_view message) {
  Sha256Digest out{};
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
            message.size(), out.data(), &len) ||
      len != out.size()) {
    Die("compute HMAC-SHA256");
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void RandomBytes(std::span<uint8_t> out) {
  if (!out.empty() && RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) Die("produce random bytes");
}

}  // namespace base
