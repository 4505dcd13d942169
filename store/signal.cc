#include "store/signal.h"

#include <array>
#include <span>

#include "hashing/hex.h"

namespace store {

const char* ListKindName(ListKind kind) { return kind == ListKind::kAllow ? "allow" : "block"; }

Status ParseListKind(std::string_view name, ListKind* out) {
  if (name == "block") {
    *out = ListKind::kBlock;
  } else if (name == "allow") {
    *out = ListKind::kAllow;
  } else {
    return Status::InvalidArgument("unknown list kind '" + std::string(name) + "' (block, allow)");
  }
  return Status::Ok();
}

const char* SignalTypeName(SignalType type) {
  switch (type) {
    case SignalType::kPdq: return "pdq";
    case SignalType::kMd5: return "md5";
    case SignalType::kSha256: return "sha256";
  }
  return "?";
}

Status ParseSignalType(std::string_view name, SignalType* out) {
  if (name == "pdq") {
    *out = SignalType::kPdq;
  } else if (name == "md5") {
    *out = SignalType::kMd5;
  } else if (name == "sha256") {
    *out = SignalType::kSha256;
  } else {
    return Status::InvalidArgument("unknown signal type '" + std::string(name) + "' (pdq, md5, sha256)");
  }
  return Status::Ok();
}

size_t SignalHashBytes(SignalType type) { return type == SignalType::kMd5 ? 16 : 32; }

bool IsValidSignalType(uint8_t value) { return value >= 1 && value <= 3; }

namespace {

// Hex digit values, -1 for anything else.
constexpr std::array<int8_t, 256> kHexValue = [] {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<int8_t>(c);
  for (int c = 0; c < 6; ++c) t['a' + c] = t['A' + c] = static_cast<int8_t>(10 + c);
  return t;
}();

// hashing::HexDecode's result, table-driven for the common valid case (file
// imports decode millions of hashes); errors come from HexDecode itself, so
// the messages are the same.
Status DecodeHex(std::string_view hex, std::span<uint8_t> out) {
  if (hex.size() == out.size() * 2) {
    int bad = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      const int hi = kHexValue[static_cast<uint8_t>(hex[2 * i])], lo = kHexValue[static_cast<uint8_t>(hex[2 * i + 1])];
      bad |= hi | lo;
      out[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    if (bad >= 0) return Status::Ok();
  }
  return hashing::HexDecode(hex, out);
}

}  // namespace

Status ParseSignal(std::string_view type, std::string_view hex, std::string_view ref, SignalEntry* out) {
  HS_RETURN_IF_ERROR(ParseSignalType(type, &out->type));
  out->hash.resize(SignalHashBytes(out->type));
  HS_RETURN_IF_ERROR(
      DecodeHex(hex, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out->hash.data()), out->hash.size())));
  if (ref.size() > kMaxRefBytes) {
    return Status::InvalidArgument("reference of " + std::to_string(ref.size()) + " bytes (at most " +
                                   std::to_string(kMaxRefBytes) + ")");
  }
  out->ref.assign(ref);
  return Status::Ok();
}

Status ValidateSignal(const SignalEntry& entry) {
  if (!IsValidSignalType(static_cast<uint8_t>(entry.type))) {
    return Status::InvalidArgument("unknown signal type " + std::to_string(static_cast<int>(entry.type)));
  }
  if (entry.hash.size() != SignalHashBytes(entry.type)) {
    return Status::InvalidArgument(std::string(SignalTypeName(entry.type)) + " hash of " +
                                   std::to_string(entry.hash.size()) + " bytes (expected " +
                                   std::to_string(SignalHashBytes(entry.type)) + ")");
  }
  if (entry.ref.size() > kMaxRefBytes) {
    return Status::InvalidArgument("reference of " + std::to_string(entry.ref.size()) + " bytes (at most " +
                                   std::to_string(kMaxRefBytes) + ")");
  }
  return Status::Ok();
}

}  // namespace store
