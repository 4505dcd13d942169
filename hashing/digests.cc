#include "hashing/digests.h"

#include <cstdio>
#include <cstdlib>

#include <openssl/evp.h>

namespace hashing {

namespace {
void Digest(const EVP_MD* md, std::span<const uint8_t> bytes, uint8_t* out) {
  unsigned int len = 0;
  if (!md || EVP_Digest(bytes.data(), bytes.size(), out, &len, md, nullptr) != 1) {
    std::fprintf(stderr, "hashscreen: OpenSSL cannot compute %s\n", md ? EVP_MD_get0_name(md) : "a digest");
    std::abort();
  }
}
}  // namespace

Digests ComputeDigests(std::span<const uint8_t> bytes) {
  Digests d;
  Digest(EVP_md5(), bytes, d.md5.data());
  Digest(EVP_sha256(), bytes, d.sha256.data());
  return d;
}

}  // namespace hashing
