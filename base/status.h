// Status: the one error path of hashscreen. Every fallible operation returns a
// Status (ok, or a code plus a message); callers check it. No exceptions cross
// a module boundary, and no error codes are mixed into output values.
//
// The codes are domain-level, so the server can map them to HTTP statuses
// without knowing which layer failed.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace base {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,   // the caller's input is malformed
    kNotFound,          // the thing asked for does not exist
    kAlreadyExists,     // a create that collides
    kUnsupported,       // well-formed input we do not handle (format, mode)
    kTooLarge,          // input over a configured limit (bytes, pixels)
    kCorruption,        // stored data or an input file is damaged
    kIOError,           // the OS or the database failed
    kUnavailable,       // try again later (overload, shutting down)
    kPermissionDenied,  // authenticated but not allowed
    kNoSpace,           // the disk is full: nothing was written; retry once space returns
  };

  Status() = default;  // ok
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
  static Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status AlreadyExists(std::string m) { return Status(Code::kAlreadyExists, std::move(m)); }
  static Status Unsupported(std::string m) { return Status(Code::kUnsupported, std::move(m)); }
  static Status TooLarge(std::string m) { return Status(Code::kTooLarge, std::move(m)); }
  static Status Corruption(std::string m) { return Status(Code::kCorruption, std::move(m)); }
  static Status IOError(std::string m) { return Status(Code::kIOError, std::move(m)); }
  static Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
  static Status PermissionDenied(std::string m) { return Status(Code::kPermissionDenied, std::move(m)); }
  static Status NoSpace(std::string m) { return Status(Code::kNoSpace, std::move(m)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid argument: <message>", or "ok".
  std::string ToString() const;
  // A stable lower_snake name for the code ("invalid_argument"), used in JSON errors.
  static std::string_view CodeName(Code c);

  // Returns a copy whose message is prefixed with `context` and ": ".
  Status WithContext(std::string_view context) const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace base

// Returns early from the enclosing function when `expr` is not ok.
#define HS_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::base::Status hs_status_ = (expr);    \
    if (!hs_status_.ok()) return hs_status_;  \
  } while (0)
