// MediaType: a parsed Content-Type value (RFC 9110 section 8.3.1),
// `type/subtype *( ";" name "=" value )`. Type, subtype and parameter names
// are case-insensitive, so they are lower-cased here: `Image/PNG` is
// `image/png`. Parameter values keep their case (a multipart boundary is
// case-sensitive) and are unquoted.
//
// Thread-safety: pure functions over values.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace server::http {

struct MediaType {
  std::string type;     // "image"
  std::string subtype;  // "png"
  std::vector<std::pair<std::string, std::string>> params;  // names lower-cased, values unquoted

  // "type/subtype".
  std::string Essence() const { return type + "/" + subtype; }
  // The value of parameter `lower_name`, or nullptr.
  const std::string* Param(std::string_view lower_name) const;
};

// Parses `*( OWS ";" OWS name "=" ( token / quoted-string ) )`, the
// parameter list that follows a media type or a Content-Disposition type.
// Names are lower-cased; a repeated name is an error.
base::Status ParseHeaderParameters(std::string_view text, std::vector<std::pair<std::string, std::string>>* params);

// Parses a Content-Type value. InvalidArgument naming the problem for a
// missing subtype, a character outside the RFC's token set, an unterminated
// quoted string, or a repeated parameter.
base::Status ParseMediaType(std::string_view text, MediaType* out);

// ASCII case-insensitive equality (HTTP's field names, tokens, media types).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// `text` lower-cased (ASCII only).
std::string AsciiLower(std::string_view text);
// `text` without leading and trailing spaces and tabs.
std::string_view TrimSpace(std::string_view text);
// RFC 9110 token character (field names, media type names, parameter names).
bool IsTokenChar(char c);

}  // namespace server::http
