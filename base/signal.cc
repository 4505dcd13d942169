#include "base/signal.h"

#include <span>

#include "base/hex.h"

namespace base {

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


Status ParseSignal(std::string_view type, std::string_view hex, std::string_view ref, SignalEntry* out) {
  HS_RETURN_IF_ERROR(ParseSignalType(type, &out->type));
  out->hash.resize(SignalHashBytes(out->type));
  HS_RETURN_IF_ERROR(
      HexDecode(hex, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out->hash.data()), out->hash.size())));
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

}  // namespace base
