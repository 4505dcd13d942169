// The audit log's stored form as its own files share it (store/audit_log.cc,
// store/audit_retention.cc): decoding a stored entry and the `meta` keys that
// accompany entries. Not an interface for other layers.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace store {

struct AuditEntry;

namespace audit_stored {

// meta: the chain's base (store/audit_retention.h), and the seq through
// which the no-match records were examined for stubbing (a resume point,
// not part of what Verify proves).
inline constexpr char kBaseKey[] = "audit_base";
inline constexpr char kStubThroughKey[] = "audit_stub_through";

// A stored entry (canonical entry or stub) into `e`.
base::Status Decode(const std::string& stored, AuditEntry* e);
// meta prefix of the review records of screen `target`.
std::string ReviewPrefix(uint64_t target);
// meta key mapping forwarded instance `instance`'s entry `origin_seq` to its seq here.
std::string ForwardSeqKey(const std::string& instance, uint64_t origin_seq);

}  // namespace audit_stored
}  // namespace store
