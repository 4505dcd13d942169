// RoutePattern: a route's path template, matched segment by segment.
//
// A template is "/"-separated segments, each either literal text or one
// typed placeholder that captures the whole segment:
//   {n}    1 to 20 decimal digits (a sequence number or id)
//   {hex16} exactly 16 lower-case hexadecimal digits (a key id)
// e.g. "/v1/lists/{n}/batches". A path matches when it has the same number
// of segments, every literal is equal byte for byte (case and
// percent-encoding are not folded: "/V1/AUDIT" and "%2e%2e" match nothing),
// and every placeholder's segment has its type. The captured segments are
// the handler's path_args, in order.
//
// Why not std::regex: a route table needs only this, matching is a few
// comparisons instead of a backtracking engine per request, and GCC 12's
// <regex> raises -Wmaybe-uninitialized false positives in sanitizer builds.
//
// Thread-safety: immutable after Parse; Match is const and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace server {

class RoutePattern {
 public:
  // Parses `text`; an empty segment, an unknown placeholder or a brace
  // inside a literal is InvalidArgument naming it.
  static base::Status Parse(std::string_view text, RoutePattern* out);

  // True if `path` matches; *args receives the placeholders' segments.
  bool Match(std::string_view path, std::vector<std::string>* args) const;

 private:
  enum class Kind { kLiteral, kDecimal, kHex16 };
  struct Segment {
    Kind kind;
    std::string text;  // kLiteral only
  };
  std::vector<Segment> segments_;
};

}  // namespace server
