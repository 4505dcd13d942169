#include "server/request_id.h"

#include <array>
#include <cstdint>

#include "base/crypto.h"
#include "base/hex.h"

namespace server {

namespace {

thread_local std::string t_current;

bool TokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdBytes) return false;
  for (char c : id) {
    if (!TokenChar(c)) return false;
  }
  return true;
}

std::string NewRequestId() {
  std::array<uint8_t, 16> bytes;
  base::RandomBytes(bytes);
  return base::HexEncode(bytes);
}

std::string AcceptRequestId(std::string_view offered) {
  return ValidRequestId(offered) ? std::string(offered) : NewRequestId();
}

std::string RequestIdOf(const std::vector<std::pair<std::string, std::string>>& headers) {
  const std::string* offered = nullptr;
  for (const auto& [name, value] : headers) {
    if (name != "x-request-id") continue;
    if (offered) return NewRequestId();
    offered = &value;
  }
  return offered ? AcceptRequestId(*offered) : NewRequestId();
}

std::string_view CurrentRequestId() { return t_current; }

ScopedRequestId::ScopedRequestId(std::string_view id) : previous_(std::move(t_current)) { t_current = std::string(id); }

ScopedRequestId::~ScopedRequestId() { t_current = std::move(previous_); }

}  // namespace server
