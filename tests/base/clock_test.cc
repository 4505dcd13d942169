// base/clock.h: UtcToUnixMs, the one calendar-to-epoch conversion (the CLI's
// --since/--until and NCMEC's timestamps): exact values, leap years, and
// dates that do not exist refused rather than normalised.
#include <doctest/doctest.h>

#include "base/clock.h"

TEST_CASE("UtcToUnixMs converts UTC calendar times and refuses ones that do not exist") {
  int64_t ms = -1;
  REQUIRE(base::UtcToUnixMs(1970, 1, 1, 0, 0, 0, 0, &ms));
  CHECK(ms == 0);
  REQUIRE(base::UtcToUnixMs(2026, 11, 29, 16, 40, 2, 123, &ms));
  CHECK(ms == 1795970402123);
  CHECK(base::FormatUtc(ms) == "2026-11-29T16:40:02Z");
  CHECK(base::FormatIso8601(ms) == "2026-11-29T16:40:02Z");
  CHECK(base::FormatIso8601(0) == "1970-01-01T00:00:00Z");
  CHECK(base::FormatUtc(0) == "-");  // never set
  CHECK(base::UtcToUnixMs(2024, 2, 29, 0, 0, 0, 0, &ms));  // leap year
  CHECK(base::UtcToUnixMs(2000, 2, 29, 0, 0, 0, 0, &ms));  // divisible by 400
  CHECK_FALSE(base::UtcToUnixMs(2100, 2, 29, 0, 0, 0, 0, &ms));
  CHECK_FALSE(base::UtcToUnixMs(2026, 2, 29, 0, 0, 0, 0, &ms));
  CHECK_FALSE(base::UtcToUnixMs(2026, 2, 31, 0, 0, 0, 0, &ms));
  CHECK_FALSE(base::UtcToUnixMs(2026, 4, 31, 0, 0, 0, 0, &ms));
  CHECK_FALSE(base::UtcToUnixMs(2026, 13, 1, 0, 0, 0, 0, &ms));
  CHECK_FALSE(base::UtcToUnixMs(2026, 0, 1, 0, 0, 0, 0, &ms));
  CHECK_FALSE(base::UtcToUnixMs(2026, 1, 0, 0, 0, 0, 0, &ms));
  CHECK_FALSE(base::UtcToUnixMs(2026, 1, 1, 24, 0, 0, 0, &ms));
  CHECK_FALSE(base::UtcToUnixMs(2026, 1, 1, 0, 60, 0, 0, &ms));
  CHECK_FALSE(base::UtcToUnixMs(2026, 1, 1, 0, 0, 61, 0, &ms));
  CHECK_FALSE(base::UtcToUnixMs(2026, 1, 1, 0, 0, 0, 1000, &ms));
  CHECK_FALSE(base::UtcToUnixMs(1969, 12, 31, 23, 59, 59, 0, &ms));
  // A leap second is the next minute's 0.
  int64_t next = 0;
  REQUIRE(base::UtcToUnixMs(2016, 12, 31, 23, 59, 60, 0, &ms));
  REQUIRE(base::UtcToUnixMs(2017, 1, 1, 0, 0, 0, 0, &next));
  CHECK(ms == next);
}
