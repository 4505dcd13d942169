// Strict number parsing for flags, query parameters and config values:
// decimal digits only (a leading '-' for signed values), no spaces, no
// trailing text, within [min, max]. Anything else is InvalidArgument naming
// `what` and the accepted range, never a wrapped or truncated value.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace base {

Status ParseUint(std::string_view text, const char* what, uint64_t min, uint64_t max, uint64_t* out);
Status ParseInt(std::string_view text, const char* what, int64_t min, int64_t max, int64_t* out);
// A decimal number ("50", "0.5", "1e3"; no inf or nan) in [min, max].
Status ParseDouble(std::string_view text, const char* what, double min, double max, double* out);
// A duration: a whole number and a unit s, m, h or d ("90d", "12h"), in
// milliseconds, 1 s .. max_ms.
Status ParseDurationMs(std::string_view text, const char* what, int64_t max_ms, int64_t* out);

}  // namespace base
