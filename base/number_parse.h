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

}  // namespace base
