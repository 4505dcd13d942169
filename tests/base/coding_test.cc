#include <doctest/doctest.h>

#include "base/coding.h"

TEST_CASE("big-endian integers round-trip and sort bytewise in numeric order") {
  for (uint64_t v : {0ull, 1ull, 255ull, 256ull, 0x0102030405060708ull, ~0ull}) {
    std::string s;
    base::PutU64(&s, v);
    REQUIRE(s.size() == 8);
    CHECK(base::GetU64(s.data()) == v);
    CHECK(base::EncodeU64(v) == s);
  }
  CHECK(base::EncodeU64(255) < base::EncodeU64(256));
  CHECK(base::EncodeU64(1) < base::EncodeU64(1ull << 40));
  std::string s;
  base::PutU16(&s, 0xbeef);
  base::PutU32(&s, 0xdeadbeef);
  CHECK(s == std::string("\xbe\xef\xde\xad\xbe\xef", 6));
  CHECK(base::GetU16(s.data()) == 0xbeef);
  CHECK(base::GetU32(s.data() + 2) == 0xdeadbeef);
}

TEST_CASE("ByteReader reads what was written and turns every overrun into bad(), never a read past the end") {
  std::string s;
  s.push_back(7);
  base::PutU64(&s, 42);
  base::PutLengthPrefixed(&s, "hello");
  base::ByteReader r(s);
  CHECK(r.U8() == 7);
  CHECK(r.U64() == 42);
  CHECK(r.LengthPrefixed() == "hello");
  CHECK(r.done());
  CHECK(r.U8() == 0);
  CHECK(r.bad());

  // A length prefix that claims more than is there, or more than allowed.
  std::string lie;
  base::PutU64(&lie, 1000);
  lie += "abc";
  base::ByteReader r2(lie);
  CHECK(r2.LengthPrefixed().empty());
  CHECK(r2.bad());
  std::string big;
  base::PutLengthPrefixed(&big, "abcdef");
  base::ByteReader r3(big);
  CHECK(r3.LengthPrefixed(3).empty());
  CHECK(r3.bad());
  base::ByteReader r4(std::string_view("\x01\x02", 2));
  CHECK(r4.U32() == 0);
  CHECK(r4.bad());
  CHECK(!r4.done());
}
