#include "python/status_error.h"

#include <array>
#include <utility>

#include <pybind11/eval.h>

#include "python/bindings.h"

namespace py = pybind11;

namespace pyhs {

namespace {

using Code = base::Status::Code;

struct ClassOf {
  Code code;
  const char* name;
  const char* doc;
};

// IOFailure, not IOError: Python's builtin IOError is OSError's alias.
constexpr std::array<ClassOf, 10> kClasses = {{
    {Code::kInvalidArgument, "InvalidArgument", "The input or request is malformed."},
    {Code::kNotFound, "NotFound", "The file, member or thing asked for does not exist."},
    {Code::kAlreadyExists, "AlreadyExists", "A create that collides."},
    {Code::kUnsupported, "Unsupported", "Not an image format hashscreen decodes."},
    {Code::kTooLarge, "TooLarge", "Over a limit: bytes, pixels, decode memory or time, batch size."},
    {Code::kCorruption, "Corruption", "A known format, but truncated or damaged (images, tar shards)."},
    {Code::kIOError, "IOFailure", "The operating system failed to read or write."},
    {Code::kUnavailable, "Unavailable", "The server cannot be reached or is overloaded: retry later."},
    {Code::kPermissionDenied, "PermissionDenied", "The key is refused, lacks a permission, or is blocked."},
    {Code::kNoSpace, "NoSpace", "The disk (the server's) is full."},
}};

const char* ClassForStatus(Code c) {
  for (const auto& k : kClasses) {
    if (k.code == c) return k.name;
  }
  return "Error";
}

const char* ClassForServer(const std::string& code, int http) {
  for (const auto& k : kClasses) {
    if (base::Status::CodeName(k.code) == code) return k.name;
  }
  if (http == 401 || http == 403) return "PermissionDenied";
  if (http == 429 || http >= 500) return "Unavailable";
  if (http == 413) return "TooLarge";
  if (http == 415) return "Unsupported";
  if (http == 422) return "Corruption";
  if (http == 404) return "NotFound";
  if (http == 507) return "NoSpace";
  if (http >= 400) return "InvalidArgument";
  return "Error";
}

// The module, kept for the translator (set once at import; the module lives
// as long as the interpreter).
PyObject* g_module = nullptr;

py::object MakeError(const char* class_name, const std::string& message, const std::string& code) {
  py::object cls = py::reinterpret_borrow<py::module_>(g_module).attr(class_name);
  return cls(message, code);
}

constexpr const char* kHierarchy = R"(
class Error(Exception):
    """A hashscreen error: .code is the error's name ("too_large",
    "corruption", "probing_suspected", ...) as the server's JSON errors and
    `hashscreen scan` error lines spell it; .message says what happened."""

    code = "error"

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __reduce__(self):  # picklable, so Dask/Spark/Ray can ship it between processes
        return (type(self), (self.message, self.code))
)";

}  // namespace

StatusError::StatusError(const base::Status& s)
    : code_(base::Status::CodeName(s.code())), message_(s.message()), class_name_(ClassForStatus(s.code())) {}

StatusError::StatusError(std::string code, std::string message, int http_status)
    : code_(std::move(code)), message_(std::move(message)), class_name_(ClassForServer(code_, http_status)) {}

py::object ErrorObject(const base::Status& s) {
  return MakeError(ClassForStatus(s.code()), s.message(), std::string(base::Status::CodeName(s.code())));
}

void RegisterErrors(py::module_& m) {
  g_module = m.ptr();
  py::dict scope = m.attr("__dict__");
  scope["__builtins__"] = py::module_::import("builtins");
  py::exec(kHierarchy, scope);
  py::object error = m.attr("Error");
  error.attr("__module__") = "hashscreen";
  py::object type = py::module_::import("builtins").attr("type");
  for (const auto& k : kClasses) {
    py::dict body;
    body["code"] = std::string(base::Status::CodeName(k.code));
    body["__doc__"] = k.doc;
    body["__module__"] = "hashscreen";
    m.attr(k.name) = type(k.name, py::make_tuple(error), body);
  }
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      py::object err = MakeError(e.class_name(), e.message(), e.code());
      PyErr_SetObject(err.get_type().ptr(), err.ptr());
    }
  });
}

}  // namespace pyhs
