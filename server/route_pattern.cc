#include "server/route_pattern.h"

namespace server {

namespace {

bool IsDecimal(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsHex16(std::string_view s) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

base::Status RoutePattern::Parse(std::string_view text, RoutePattern* out) {
  auto bad = [&](const std::string& why) {
    return base::Status::InvalidArgument("route pattern \"" + std::string(text) + "\": " + why);
  };
  if (text.empty() || text[0] != '/') return bad("must start with /");
  RoutePattern p;
  std::string_view rest = text.substr(1);
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    if (seg.empty()) return bad("empty segment");
    if (seg == "{n}") {
      p.segments_.push_back({Kind::kDecimal, {}});
    } else if (seg == "{hex16}") {
      p.segments_.push_back({Kind::kHex16, {}});
    } else if (seg.find_first_of("{}") != std::string_view::npos) {
      return bad("unknown placeholder in segment \"" + std::string(seg) + "\"");
    } else {
      p.segments_.push_back({Kind::kLiteral, std::string(seg)});
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  *out = std::move(p);
  return base::Status::Ok();
}

bool RoutePattern::Match(std::string_view path, std::vector<std::string>* args) const {
  if (path.empty() || path[0] != '/') return false;
  std::string_view rest = path.substr(1);
  std::vector<std::string> captured;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const size_t slash = rest.find('/');
    const bool last = i + 1 == segments_.size();
    // The last segment takes the rest (a further "/" makes it fail to match);
    // any other must be followed by one.
    if (!last && slash == std::string_view::npos) return false;
    const std::string_view seg = last ? rest : rest.substr(0, slash);
    const Segment& s = segments_[i];
    switch (s.kind) {
      case Kind::kLiteral:
        if (seg != s.text) return false;
        break;
      case Kind::kDecimal:
        if (!IsDecimal(seg)) return false;
        captured.emplace_back(seg);
        break;
      case Kind::kHex16:
        if (!IsHex16(seg)) return false;
        captured.emplace_back(seg);
        break;
    }
    if (!last) rest.remove_prefix(slash + 1);
  }
  *args = std::move(captured);
  return true;
}

}  // namespace server
