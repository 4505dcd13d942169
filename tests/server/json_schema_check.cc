#include "tests/server/json_schema_check.h"

#include <cmath>
#include <set>

namespace testing_support {

using nlohmann::json;

json ResolveRef(const json& root, const std::string& ref) {
  if (ref.rfind("#/", 0) != 0) return json();
  const json::json_pointer pointer(ref.substr(1));
  return root.contains(pointer) ? root.at(pointer) : json();
}

namespace {

bool HasType(const json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    return v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
  }
  return false;
}

}  // namespace

std::string CheckJsonSchema(const json& root, const json& schema, const json& value, const std::string& where) {
  static const std::set<std::string> kChecked = {"type", "properties", "required", "additionalProperties", "items", "enum", "$ref"};
  static const std::set<std::string> kAnnotations = {"description", "format", "pattern"};
  const std::string at = where.empty() ? "/" : where;
  if (!schema.is_object()) return at + ": the schema is not an object";
  for (const auto& [k, unused] : schema.items()) {
    if (!kChecked.count(k) && !kAnnotations.count(k)) return at + ": schema keyword \"" + k + "\" is not supported by the checker";
  }
  if (schema.contains("$ref")) {
    const json target = ResolveRef(root, schema["$ref"].get<std::string>());
    if (target.is_null()) return at + ": unresolved $ref " + schema["$ref"].get<std::string>();
    if (std::string p = CheckJsonSchema(root, target, value, where); !p.empty()) return p;
  }
  if (schema.contains("type")) {
    const json& t = schema["type"];
    bool ok = false;
    if (t.is_string()) {
      ok = HasType(value, t.get<std::string>());
    } else {
      for (const auto& name : t) ok = ok || HasType(value, name.get<std::string>());
    }
    if (!ok) return at + ": " + value.dump() + " is not of type " + t.dump();
  }
  if (schema.contains("enum")) {
    bool found = false;
    for (const auto& e : schema["enum"]) found = found || e == value;
    if (!found) return at + ": " + value.dump() + " is not one of " + schema["enum"].dump();
  }
  if (value.is_object()) {
    if (schema.contains("required")) {
      for (const auto& name : schema["required"]) {
        if (!value.contains(name.get<std::string>())) return at + ": required member \"" + name.get<std::string>() + "\" is missing";
      }
    }
    const json properties = schema.value("properties", json::object());
    for (const auto& [k, v] : value.items()) {
      if (properties.contains(k)) {
        if (std::string p = CheckJsonSchema(root, properties[k], v, where + "/" + k); !p.empty()) return p;
      } else if (schema.contains("additionalProperties")) {
        if (schema["additionalProperties"] != false) return at + ": only additionalProperties: false is supported";
        return at + ": member \"" + k + "\" is not in the schema";
      }
    }
  }
  if (value.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < value.size(); ++i) {
      if (std::string p = CheckJsonSchema(root, schema["items"], value[i], where + "/" + std::to_string(i)); !p.empty()) return p;
    }
  }
  return "";
}

}  // namespace testing_support
