#include <doctest/doctest.h>

#include <cstring>

#include "base/crypto.h"
#include "base/hex.h"

TEST_CASE("digests and HMAC equal the published test vectors") {
  CHECK(base::HexEncode(base::Md5(std::span<const uint8_t>())) == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(base::HexEncode(base::Sha256(std::string_view("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const bool same = base::Sha256Of({"a", "bc"}) == base::Sha256(std::string_view("abc"));
  CHECK(same);
  // RFC 4231 test case 2.
  CHECK(base::HexEncode(base::HmacSha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("constant-time equality and randomness") {
  CHECK(base::ConstantTimeEquals("abc", "abc"));
  CHECK(!base::ConstantTimeEquals("abc", "abd"));
  CHECK(!base::ConstantTimeEquals("abc", "abcd"));
  CHECK(base::ConstantTimeEquals("", ""));
  uint8_t a[32] = {}, b[32] = {};
  base::RandomBytes(a);
  base::RandomBytes(b);
  CHECK(std::memcmp(a, b, 32) != 0);  // 2^-256 to fail
}
