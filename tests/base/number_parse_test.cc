#include <doctest/doctest.h>

#include "base/number_parse.h"

TEST_CASE("strict number parsing rejects signs, spaces, junk, overflow and out-of-range values, naming them") {
  uint64_t u = 7;
  CHECK(base::ParseUint("0", "x", 0, 10, &u).ok());
  CHECK(u == 0);
  CHECK(base::ParseUint("18446744073709551615", "x", 0, UINT64_MAX, &u).ok());
  CHECK(u == UINT64_MAX);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1x", "0x10", "18446744073709551616", "1e3", "11"}) {
    CAPTURE(bad);
    base::Status s = base::ParseUint(bad, "--list", 0, 10, &u);
    CHECK(s.code() == base::Status::Code::kInvalidArgument);
    CHECK(s.message().find("--list") != std::string::npos);
  }
  int64_t i = 0;
  CHECK(base::ParseInt("-5", "t", -10, 10, &i).ok());
  CHECK(i == -5);
  CHECK(!base::ParseInt("-11", "t", -10, 10, &i).ok());
  CHECK(!base::ParseInt("1e-300", "t", -10, 10, &i).ok());
}
