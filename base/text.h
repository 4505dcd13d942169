// Text: small helpers for the separated lists and padded values that HTTP
// headers and config settings hold ("a, b ,c"). Spaces and tabs are the
// blanks (HTTP's optional whitespace).
//
// Thread-safety: pure functions; the views point into the caller's text.
#pragma once

#include <string_view>
#include <vector>

namespace base {

// `s` without its leading and trailing spaces and tabs.
std::string_view TrimBlanks(std::string_view s);

// The items of a `sep`-separated list, each trimmed. Empty items are kept
// (",a,," gives "", "a", "", ""), so a caller can refuse them; an empty
// `s` gives one empty item.
std::vector<std::string_view> SplitTrimmed(std::string_view s, char sep);

}  // namespace base
