// Screener: one screening decision, from image bytes or from hashes to a
// durable audit entry. Hashing (bounded by the ScreenGate), index look-up,
// the verdict policy (allow-list suppression, server/verdict_policy.h), the
// audit append, which completes (synced) before the caller may answer, and
// the probing detector (server/probing_detector.h), which may block the key
// for its later requests.
//
// What the caller gets back is deliberately only the verdict and the audit
// seq: list, partner, distance and hashes stay in the audit entry, for
// reviewers.
//
// Thread-safety: the functions may be called from any number of threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "server/service.h"

namespace server {

// The error code and message of a screen refused for probing (403).
inline constexpr const char* kProbingSuspected = "probing_suspected";
inline constexpr const char* kProbingSuspectedMessage =
    "this key is blocked: its screens looked like probing for list hashes";

struct ScreenVerdict {
  bool match = false;
  uint64_t audit_seq = 0;
};

// Screens an image. A decode failure (TooLarge, Unsupported, Corruption) is
// audited as verdict "error" and returned with verdict->audit_seq set.
// Unavailable when the screen queue is full (nothing audited). NoSpace (disk
// full) or IOError if the audit entry could not be written: then no verdict
// is given. PermissionDenied (kProbingSuspected) when the key was blocked for
// probing by this screen or while it ran: the screen is audited as verdict
// "error" with error_code probing_suspected and no verdict is given.
Status ScreenImage(Service& service, const store::ApiKey& key, std::string_view bytes, const std::string& ref,
                   ScreenVerdict* verdict);

// Records a screen refused before hashing (e.g. a body over the size limit).
Status AuditRefusal(Service& service, const store::ApiKey& key, const std::string& ref, uint64_t size_bytes,
                    const Status& why, ScreenVerdict* verdict);

// Screens given hashes (any of pdq, md5, sha256, hex). InvalidArgument for
// malformed or absent hashes (not audited: nothing was screened);
// PermissionDenied as for ScreenImage.
Status ScreenHashes(Service& service, const store::ApiKey& key, const std::string& pdq_hex, const std::string& md5_hex,
                    const std::string& sha256_hex, const std::string& ref, ScreenVerdict* verdict);

// The caller's reference: at most 256 bytes, no control characters.
Status ValidateCallerRef(const std::string& ref);

}  // namespace server
