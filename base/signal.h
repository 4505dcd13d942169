// Signals: the things a hash list holds. A signal is a typed hash (PDQ 32
// bytes, MD5 16 bytes, SHA-256 32 bytes) with the partner's own opaque
// reference. This file holds the vocabulary shared by the store, the index and
// the server: list kinds, signal types, their names on the wire and their
// byte lengths.
//
// Thread-safety: free functions, no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace base {


// block: a hit means match. allow: known false positives; a hit suppresses
// block hits on the same query (DESIGN.md section 2).
enum class ListKind : uint8_t { kBlock = 0, kAllow = 1 };

// Values are stored on disk (signal and change keys): never renumber.
enum class SignalType : uint8_t { kPdq = 1, kMd5 = 2, kSha256 = 3 };

inline constexpr int kDefaultPdqThreshold = 31;
inline constexpr int kMaxPdqThreshold = 63;
// Longest partner reference accepted, in bytes.
inline constexpr size_t kMaxRefBytes = 256;

// "block" / "allow".
const char* ListKindName(ListKind kind);
Status ParseListKind(std::string_view name, ListKind* out);

// "pdq" / "md5" / "sha256".
const char* SignalTypeName(SignalType type);
Status ParseSignalType(std::string_view name, SignalType* out);
// Raw byte length of a hash of `type` (32, 16, 32).
size_t SignalHashBytes(SignalType type);
// True for the three known values (a byte read from disk or a caller).
bool IsValidSignalType(uint8_t value);

struct SignalEntry {
  SignalType type = SignalType::kPdq;
  std::string hash;  // raw bytes, SignalHashBytes(type) long
  std::string ref;   // partner's reference, <= kMaxRefBytes
};

// Builds an entry from wire text: type name, hex hash (either case), ref.
// InvalidArgument naming the problem (unknown type, bad hex, wrong length,
// reference too long).
Status ParseSignal(std::string_view type, std::string_view hex, std::string_view ref, SignalEntry* out);

// Checks an entry built by a caller: known type, hash length, ref length.
Status ValidateSignal(const SignalEntry& entry);

}  // namespace base
