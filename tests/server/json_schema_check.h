// A checker for the subset of JSON Schema (2020-12) that docs/openapi.json
// uses, so tests can hold real responses against the document:
//   type (a name or an array of names; "integer" = a number without a
//   fraction), properties, required, additionalProperties (false only),
//   items, enum, $ref to "#/..." inside the document.
// description, format and pattern are annotations here (not checked). Any
// other keyword is reported as a problem, so the document cannot use a
// keyword whose meaning the tests would silently skip.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace testing_support {

// "" when `value` satisfies `schema`, else the first problem with its JSON
// pointer (`where`). `root` is the whole document, for $ref.
std::string CheckJsonSchema(const nlohmann::json& root, const nlohmann::json& schema, const nlohmann::json& value,
                            const std::string& where = "");

// The node at "#/a/b" in `root` (JSON pointer), or null when there is none.
nlohmann::json ResolveRef(const nlohmann::json& root, const std::string& ref);

}  // namespace testing_support
