#include "base/number_parse.h"

#include <charconv>
#include <cstdio>
#include <string>

namespace base {

namespace {
template <class T>
Status Parse(std::string_view text, const char* what, T min, T max, T* out) {
  T v{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  const bool plus = !text.empty() && text.front() == '+';
  if (text.empty() || plus || ec != std::errc() || p != text.data() + text.size() || v < min || v > max) {
    return Status::InvalidArgument(std::string(what) + " must be an integer in " + std::to_string(min) + ".." +
                                   std::to_string(max) + " (got '" + std::string(text.substr(0, 40)) + "')");
  }
  *out = v;
  return Status::Ok();
}
}  // namespace

Status ParseUint(std::string_view text, const char* what, uint64_t min, uint64_t max, uint64_t* out) {
  return Parse<uint64_t>(text, what, min, max, out);
}

Status ParseInt(std::string_view text, const char* what, int64_t min, int64_t max, int64_t* out) {
  return Parse<int64_t>(text, what, min, max, out);
}

Status ParseDouble(std::string_view text, const char* what, double min, double max, double* out) {
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::general);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || !(v >= min && v <= max)) {
    char range[64];
    std::snprintf(range, sizeof range, "%g..%g", min, max);
    return Status::InvalidArgument(std::string(what) + " must be a number in " + range + " (got '" +
                                   std::string(text.substr(0, 40)) + "')");
  }
  *out = v;
  return Status::Ok();
}

Status ParseDurationMs(std::string_view text, const char* what, int64_t max_ms, int64_t* out) {
  const Status bad = Status::InvalidArgument(std::string(what) + " must be a duration like 3600s, 30m, 12h or 90d, at most " +
                                             std::to_string(max_ms / 86400000) + "d (got '" +
                                             std::string(text.substr(0, 40)) + "')");
  if (text.size() < 2) return bad;
  int64_t unit_ms = 0;
  switch (text.back()) {
    case 's': unit_ms = 1000; break;
    case 'm': unit_ms = 60'000; break;
    case 'h': unit_ms = 3'600'000; break;
    case 'd': unit_ms = 86'400'000; break;
    default: return bad;
  }
  int64_t n = 0;
  if (!ParseInt(text.substr(0, text.size() - 1), what, 1, max_ms / unit_ms, &n).ok()) return bad;
  *out = n * unit_ms;
  return Status::Ok();
}

}  // namespace base
