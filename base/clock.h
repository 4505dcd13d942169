// Clock: the one source of wall-clock time (Unix milliseconds, what audit
// entries, list records and keys store) and of monotonic time (deadlines,
// rates: never goes back when the wall clock is set).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace base {

// Milliseconds since the Unix epoch (UTC).
int64_t NowMs();
// Milliseconds on a monotonic clock with an arbitrary origin.
int64_t MonotonicMs();
// "2026-11-29T16:40:02Z" (ISO 8601, UTC, second precision; the
// milliseconds are dropped).
std::string FormatIso8601(int64_t unix_ms);
// FormatIso8601 for display: "-" for 0 (a time never set).
std::string FormatUtc(int64_t unix_ms);
// The Unix ms of a UTC calendar time, or false for a time that does not
// exist (month 13, hour 24, February 31, a year before 1970; second 60 is
// a leap second and counts as the next minute's 0).
bool UtcToUnixMs(int year, int month, int day, int hour, int minute, int second, int ms, int64_t* out);

}  // namespace base
