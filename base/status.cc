#include "base/status.h"

namespace base {

std::string_view Status::CodeName(Code c) {
  switch (c) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid_argument";
    case Code::kNotFound: return "not_found";
    case Code::kAlreadyExists: return "already_exists";
    case Code::kUnsupported: return "unsupported";
    case Code::kTooLarge: return "too_large";
    case Code::kCorruption: return "corruption";
    case Code::kIOError: return "io_error";
    case Code::kUnavailable: return "unavailable";
    case Code::kPermissionDenied: return "permission_denied";
    case Code::kNoSpace: return "no_space";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string s(CodeName(code_));
  for (char& ch : s) if (ch == '_') ch = ' ';
  return s + ": " + message_;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, std::string(context) + ": " + message_);
}

}  // namespace base
