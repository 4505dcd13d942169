// StatusError: how a base::Status (or a server's JSON error) becomes a Python
// exception. C++ code of the module throws StatusError (never across a C++
// module boundary: pybind11 turns it into the Python exception before control
// returns to Python). The Python classes form one hierarchy:
//
//   hashscreen.Error(Exception)         .code (str), .message (str)
//     InvalidArgument, NotFound, AlreadyExists, Unsupported, TooLarge,
//     Corruption, IOFailure, Unavailable, PermissionDenied, NoSpace
//
// one per base::Status code; .code is Status::CodeName ("too_large",
// "corruption", ...), the names the server's JSON errors and `hashscreen
// scan`'s error lines use. A server error whose code is not a Status name
// ("probing_suspected", "unauthorized", "rate_limited") keeps its own .code
// and gets the class its HTTP status means (401/403 PermissionDenied,
// 429/5xx Unavailable, 413 TooLarge, 415 Unsupported, 422 Corruption,
// 404 NotFound, other 4xx InvalidArgument).
#pragma once

#include <exception>
#include <string>

#include <pybind11/pybind11.h>

#include "base/status.h"

namespace pyhs {

class StatusError : public std::exception {
 public:
  explicit StatusError(const base::Status& s);
  // A server's answer: its JSON error code and message, and the HTTP status.
  StatusError(std::string code, std::string message, int http_status);
  const char* what() const noexcept override { return message_.c_str(); }
  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }
  // The Python class's name (without the module): "TooLarge", "Error", ...
  const char* class_name() const { return class_name_; }

 private:
  std::string code_, message_;
  const char* class_name_;
};

// Throws StatusError when `s` is not ok.
inline void ThrowIfError(const base::Status& s) {
  if (!s.ok()) throw StatusError(s);
}

// A Python exception instance (not raised) for `s`, as `list_tar` returns a
// damaged shard's error next to the members before the damage.
pybind11::object ErrorObject(const base::Status& s);

}  // namespace pyhs
