#include <doctest/doctest.h>

#include "base/hex.h"
#include "base/pdq_hash.h"

using base::PdqHash;

TEST_CASE("PdqHash hex round trip keeps the reference bit order") {
  // Bit 0 is the last hex digit's lowest bit; bit 255 the first digit's highest.
  PdqHash h;
  h.SetBit(0);
  h.SetBit(255);
  h.SetBit(17);  // word 1, bit 1
  CHECK(h.ToHex() == "8000000000000000000000000000000000000000000000000000000000020001");
  CHECK(h.Word(0) == 0x0001);
  CHECK(h.Word(1) == 0x0002);
  CHECK(h.Word(15) == 0x8000);
  PdqHash back;
  REQUIRE(PdqHash::FromHex(h.ToHex(), &back).ok());
  CHECK(back == h);
  REQUIRE(PdqHash::FromHex("8000000000000000000000000000000000000000000000000000000000020001", &back).ok());
  CHECK(back == h);
  CHECK(base::Distance(h, PdqHash{}) == 3);
}

TEST_CASE("hex decoding rejects bad input with a message") {
  PdqHash h;
  auto s = PdqHash::FromHex("abc", &h);
  CHECK(s.code() == base::Status::Code::kInvalidArgument);
  CHECK(s.message().find("64") != std::string::npos);
  s = PdqHash::FromHex(std::string(63, '0') + "g", &h);
  CHECK(!s.ok());
  CHECK(s.message().find("position 63") != std::string::npos);
  CHECK(PdqHash::FromHex(std::string(64, 'F'), &h).ok());
  CHECK(base::Distance(h, PdqHash{}) == 256);
}
