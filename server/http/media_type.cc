#include "server/http/media_type.h"

namespace server::http {

using base::Status;

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view TrimSpace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

const std::string* MediaType::Param(std::string_view lower_name) const {
  for (const auto& [name, value] : params) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

namespace {

// Consumes a token from the front of *text; empty when none.
std::string_view TakeToken(std::string_view* text) {
  size_t n = 0;
  while (n < text->size() && IsTokenChar((*text)[n])) ++n;
  std::string_view token = text->substr(0, n);
  text->remove_prefix(n);
  return token;
}

}  // namespace

Status ParseMediaType(std::string_view text, MediaType* out) {
  *out = MediaType();
  std::string_view rest = TrimSpace(text);
  std::string_view type = TakeToken(&rest);
  if (type.empty() || rest.empty() || rest.front() != '/') {
    return Status::InvalidArgument("media type '" + std::string(text) + "' is not type/subtype");
  }
  rest.remove_prefix(1);
  std::string_view subtype = TakeToken(&rest);
  if (subtype.empty()) return Status::InvalidArgument("media type '" + std::string(text) + "' has no subtype");
  out->type = AsciiLower(type);
  out->subtype = AsciiLower(subtype);
  Status s = ParseHeaderParameters(rest, &out->params);
  if (!s.ok()) return Status::InvalidArgument("media type '" + std::string(text) + "': " + s.message());
  return Status::Ok();
}

Status ParseHeaderParameters(std::string_view rest, std::vector<std::pair<std::string, std::string>>* params) {
  params->clear();
  for (;;) {
    rest = TrimSpace(rest);
    if (rest.empty()) return Status::Ok();
    if (rest.front() != ';') return Status::InvalidArgument("unexpected text where ';' was expected");
    rest.remove_prefix(1);
    rest = TrimSpace(rest);
    if (rest.empty()) return Status::Ok();  // a trailing ';' is tolerated (RFC 9110 allows empty parameters)
    std::string_view name = TakeToken(&rest);
    if (name.empty() || rest.empty() || rest.front() != '=') return Status::InvalidArgument("a parameter is not name=value");
    rest.remove_prefix(1);
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      rest.remove_prefix(1);
      bool closed = false;
      while (!rest.empty()) {
        char c = rest.front();
        rest.remove_prefix(1);
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (rest.empty()) break;
          c = rest.front();
          rest.remove_prefix(1);
        }
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
          return Status::InvalidArgument("control character in a parameter value");
        }
        value.push_back(c);
      }
      if (!closed) return Status::InvalidArgument("unterminated quoted string");
    } else {
      std::string_view token = TakeToken(&rest);
      if (token.empty()) return Status::InvalidArgument("parameter '" + std::string(name) + "' has no value");
      value = std::string(token);
    }
    std::string lower = AsciiLower(name);
    for (const auto& [n, v] : *params) {
      if (n == lower) return Status::InvalidArgument("parameter '" + lower + "' given twice");
    }
    params->emplace_back(std::move(lower), std::move(value));
  }
}

}  // namespace server::http
