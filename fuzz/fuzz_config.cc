// libFuzzer target: hashscreend's TOML configuration (toml++ and our settings
// table: types, ranges, choices, unknown keys), then the cross-field checks.
#include <cstdint>
#include <string>

#include "server/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  server::ServerConfig config;
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (server::LoadConfigText(text, "fuzz.toml", &config).ok()) (void)server::ValidateConfig(config);
  return 0;
}
