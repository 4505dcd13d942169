#include <doctest/doctest.h>

#include "base/text.h"

using base::SplitTrimmed;
using base::TrimBlanks;
using V = std::vector<std::string_view>;

TEST_CASE("TrimBlanks drops spaces and tabs at both ends only") {
  CHECK(TrimBlanks("") == "");
  CHECK(TrimBlanks(" \t ") == "");
  CHECK(TrimBlanks("\t a b \t") == "a b");
  CHECK(TrimBlanks("\na\r") == "\na\r");  // not blanks: a caller refuses them
}

TEST_CASE("SplitTrimmed keeps empty items so callers can refuse them") {
  CHECK(SplitTrimmed("", ',') == V{""});
  CHECK(SplitTrimmed("a", ',') == V{"a"});
  CHECK(SplitTrimmed(" a , b\t,c ", ',') == V{"a", "b", "c"});
  CHECK(SplitTrimmed(",a,,", ',') == V{"", "a", "", ""});
  CHECK(SplitTrimmed("W/\"x\", \"y\"", ',') == V{"W/\"x\"", "\"y\""});
}
