#include "sync/exchange/exchange_state.h"

#include "base/coding.h"

namespace hsync {

namespace {
constexpr uint8_t kVersion = 1;
constexpr size_t kMaxCheckpointBytes = 1 << 20;
}  // namespace

std::string ExchangeStateKey(const std::string& name) { return "exchange/" + name; }

std::string EncodeExchangeState(const ExchangeState& s) {
  std::string v;
  v.push_back(static_cast<char>(kVersion));
  base::PutU64(&v, s.generation);
  base::PutU64(&v, static_cast<uint64_t>(s.last_success_ms));
  base::PutU64(&v, s.entries);
  base::PutLengthPrefixed(&v, s.checkpoint);
  return v;
}

base::Status DecodeExchangeState(std::string_view value, ExchangeState* out) {
  base::ByteReader in(value);
  if (in.U8() != kVersion) return base::Status::Corruption("exchange state record has an unknown version");
  ExchangeState s;
  s.generation = in.U64();
  s.last_success_ms = static_cast<int64_t>(in.U64());
  s.entries = in.U64();
  s.checkpoint = std::string(in.LengthPrefixed(kMaxCheckpointBytes));
  if (!in.done()) return base::Status::Corruption("exchange state record is damaged");
  *out = std::move(s);
  return base::Status::Ok();
}

std::string EncodeValidators(const std::string& a, const std::string& b) {
  std::string v;
  base::PutLengthPrefixed(&v, a);
  base::PutLengthPrefixed(&v, b);
  return v;
}

void DecodeValidators(std::string_view checkpoint, std::string* a, std::string* b) {
  base::ByteReader in(checkpoint);
  std::string x(in.LengthPrefixed(4096)), y(in.LengthPrefixed(4096));
  if (!in.done()) x.clear(), y.clear();
  *a = std::move(x);
  *b = std::move(y);
}

}  // namespace hsync
