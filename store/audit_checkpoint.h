// AuditCheckpoint: the audit chain's head at one moment (sequence number and
// entry hash) of one database (its instance id), with a MAC by the audit
// HMAC key when one is configured, as one line of text an operator stores
// away from the server (a ticket, another machine, paper):
//
//   audit-checkpoint:v1:<instance id>:<seq>:<entry hash, hex>:<MAC, hex | none>
//
// The MAC is HMAC-SHA256(key, "hashscreen audit checkpoint v1" || instance
// id || seq (8 bytes, big-endian) || entry hash). Its domain differs from the
// chain head's MAC (store/audit_log.h), so a checkpoint that leaked cannot be
// written back as a head to hide a cut tail. AuditLog::Verify(checkpoint)
// proves the log still holds the checkpoint's entry unchanged and that the
// chain from there to the head verifies: a tail cut back before the
// checkpoint, or a rewrite at or before it, fails.
//
// Thread-safety: plain value type; the functions are pure.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace store {

struct AuditCheckpoint {
  std::string instance_id;           // 32 lowercase hex characters (Database::instance_id)
  uint64_t seq = 0;                  // 0: the empty log
  std::array<uint8_t, 32> hash{};    // entry_hash of entry `seq` (zeros for seq 0)
  std::string mac;                   // 32 raw bytes, or empty when no HMAC key was configured

  std::string ToString() const;
  // Strict: the exact layout above (surrounding whitespace is ignored);
  // anything else is InvalidArgument saying what is wrong.
  static base::Status Parse(std::string_view text, AuditCheckpoint* out);
  // The MAC this checkpoint carries under `key`.
  static std::string MacFor(std::string_view key, std::string_view instance_id, uint64_t seq,
                            const std::array<uint8_t, 32>& hash);
};

}  // namespace store
