#include "base/number_parse.h"

#include <charconv>
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

}  // namespace base
