// ExchangeState: what an exchange keeps between fetches, in the meta family
// under "exchange/NAME", always written in the same atomic write as the list
// changes it accounts for (HashLists::ApplyBatch with a meta record), so a
// process killed at any point restarts either before or after a whole
// fetch's changes, never between.
//
//   value: u8 version (1), u64 generation (batches applied: the next batch id
//          is "exchange:NAME:<generation + 1>"), i64 last_success_ms,
//          u64 entries, then length-prefixed checkpoint bytes (the kind's
//          own: url keeps ETag and Last-Modified, file its size and mtime).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace hsync {

struct ExchangeState {
  uint64_t generation = 0;
  int64_t last_success_ms = 0;  // 0 = never
  uint64_t entries = 0;         // signals in the list after the last success
  std::string checkpoint;
};

std::string ExchangeStateKey(const std::string& name);
std::string EncodeExchangeState(const ExchangeState& state);
// Corruption for a damaged record or an unknown version.
base::Status DecodeExchangeState(std::string_view value, ExchangeState* out);

// The url and file kinds' checkpoint: two strings (ETag/Last-Modified, or
// size/mtime) length-prefixed; a damaged one reads as empty (a full fetch).
std::string EncodeValidators(const std::string& a, const std::string& b);
void DecodeValidators(std::string_view checkpoint, std::string* a, std::string* b);

}  // namespace hsync
