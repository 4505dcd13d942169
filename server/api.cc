#include "server/api.h"

#include "base/number_parse.h"
#include "server/request_id.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <vector>

namespace server {

std::string DumpJson(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void ApiResponse::Json(int s, const json& j) {
  status = s;
  body = DumpJson(j);
  content_type = "application/json";
}

void ApiResponse::Error(int s, const std::string& code, const std::string& message, const json& details) {
  json error = details.is_object() ? details : json::object();
  error["code"] = code;
  error["message"] = message;
  if (std::string_view id = CurrentRequestId(); !id.empty()) error["request_id"] = id;
  Json(s, json{{"error", std::move(error)}});
}

int HttpStatusFor(const Status& s) {
  using C = Status::Code;
  switch (s.code()) {
    case C::kOk: return 200;
    case C::kInvalidArgument: return 400;
    case C::kNotFound: return 404;
    case C::kAlreadyExists: return 409;
    case C::kUnsupported: return 415;
    case C::kTooLarge: return 413;
    case C::kCorruption: return 422;
    case C::kUnavailable: return 503;
    case C::kPermissionDenied: return 403;
    case C::kIOError: return 500;
    case C::kNoSpace: return 507;
  }
  return 500;
}

void ApiResponse::FromStatus(const Status& s) {
  int code = HttpStatusFor(s);
  // Internal failures say nothing of the store's insides (files, paths) to
  // the caller; the details go to the log instead (the caller of FromStatus
  // logs them).
  std::string message = s.message();
  if (code == 500) message = "internal error";
  if (s.code() == Status::Code::kNoSpace) {
    message = "the server's disk is full: nothing was written (a screen gets no verdict); retry once /readyz answers 200";
  }
  Error(code, std::string(Status::CodeName(s.code())), message);
}

Status RefuseUnknownFields(const json& j, std::initializer_list<std::string_view> fields, const std::string& where) {
  for (const auto& [name, value] : j.items()) {
    if (std::find(fields.begin(), fields.end(), name) == fields.end()) {
      return Status::InvalidArgument(where + "unknown field \"" + name + "\"");
    }
  }
  return Status::Ok();
}

Status ParseJsonBody(const std::string& body, std::initializer_list<std::string_view> fields, json* out) {
  // nlohmann keeps the last of duplicate keys; the parser callback sees each
  // key as it is read, so one set of keys per open object finds them.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto callback = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: open_objects.emplace_back(); break;
      case json::parse_event_t::object_end: if (!open_objects.empty()) open_objects.pop_back(); break;
      case json::parse_event_t::key:
        if (!open_objects.empty() && !open_objects.back().insert(parsed.get<std::string>()).second &&
            duplicate.empty()) {
          duplicate = parsed.get<std::string>();
        }
        break;
      default: break;
    }
    return true;
  };
  *out = json::parse(body, callback, /*allow_exceptions=*/false);
  if (out->is_discarded()) return Status::InvalidArgument("the body is not valid JSON");
  if (!duplicate.empty()) return Status::InvalidArgument("field \"" + duplicate + "\" appears more than once");
  if (!out->is_object()) return Status::InvalidArgument("the body must be a JSON object");
  return RefuseUnknownFields(*out, fields);
}

Status JsonString(const json& j, const char* field, bool required, std::string* out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    return required ? Status::InvalidArgument(std::string("missing field \"") + field + "\"") : Status::Ok();
  }
  if (!it->is_string()) return Status::InvalidArgument(std::string("field \"") + field + "\" must be a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

Status JsonInt(const json& j, const char* field, bool required, int64_t* out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    return required ? Status::InvalidArgument(std::string("missing field \"") + field + "\"") : Status::Ok();
  }
  if (!it->is_number_integer()) return Status::InvalidArgument(std::string("field \"") + field + "\" must be an integer");
  *out = it->get<int64_t>();
  return Status::Ok();
}

Status JsonBool(const json& j, const char* field, bool required, bool* out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    return required ? Status::InvalidArgument(std::string("missing field \"") + field + "\"") : Status::Ok();
  }
  if (!it->is_boolean()) return Status::InvalidArgument(std::string("field \"") + field + "\" must be true or false");
  *out = it->get<bool>();
  return Status::Ok();
}

Status ParseU64(const std::string& text, const char* what, uint64_t* out) {
  return base::ParseUint(text, what, 0, UINT64_MAX, out);
}

}  // namespace server
