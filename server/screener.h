// Screener: one screening decision, from image bytes or from hashes to a
// durable audit entry. Hashing (bounded by the ScreenGate), index look-up,
// the verdict policy (allow-list suppression, server/verdict_policy.h), the
// audit append, which completes (synced) before the caller may answer, and
// the probing detector (server/probing_detector.h), which may block the key
// for its later requests.
//
// What the caller gets back is deliberately only the verdict and the audit
// seq: list, partner, distance and hashes stay in the audit entry, for
// reviewers. A held signal (suppressed or quarantined, store/signal_holds.h)
// never matches: its hit is recorded with list_kind "held", and a screen
// whose hits are all held is answered exactly as one that hit nothing. The
// flood detector (server/flood_detector.h) counts each match's block hits
// and quarantines a flooding signal for the screens after.
//
// Thread-safety: the functions may be called from any number of threads.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/crypto.h"
#include "server/hash_query.h"
#include "server/service.h"

namespace server {

// The error code and message of a screen refused for probing (403).
inline constexpr const char* kProbingSuspected = "probing_suspected";
inline constexpr const char* kProbingSuspectedMessage =
    "this key is blocked: its screens looked like probing for list hashes";

// The audit hit kind of a held signal's hit (store/signal_holds.h): a block
// list's signal that was suppressed or quarantined, so it did not match.
inline constexpr const char* kHeldHitKind = "held";

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

// Screens given hashes (server/hash_query.h; parsing already refused
// malformed or absent ones, which are not audited: nothing was screened).
// PermissionDenied as for ScreenImage.
Status ScreenHashes(Service& service, const store::ApiKey& key, const HashQuery& query, ScreenVerdict* verdict);

// One item of a hash batch (server/hash_batch.h). An item the index finds
// nothing for, on no list (block or allow), of a key the probing detector
// has not blocked, is answered no_match without an audit entry of its own:
// *pooled is set and the caller must audit it with the batch's other pooled
// items (AuditPooled) before the verdict leaves. Every other item is screened
// exactly as ScreenHashes screens it: its own audit entry, the probing
// detector's count and judgement, the same errors.
Status ScreenBatchItem(Service& service, const store::ApiKey& key, const HashQuery& query, ScreenVerdict* verdict,
                       bool* pooled);

// Audits pooled no-match items in one entry (store::AuditEntry::Kind::kBatch)
// holding their count and the Merkle root over their leaf hashes (in batch
// order). `leaves` must not be empty. On success *seq is the entry's id.
// NoSpace / IOError as for ScreenImage: then no verdict may be given.
Status AuditPooled(Service& service, const store::ApiKey& key, std::span<const base::Sha256Digest> leaves,
                   uint64_t* seq, base::Sha256Digest* root);

// The caller's reference: at most 256 bytes, no control characters.
Status ValidateCallerRef(const std::string& ref);

}  // namespace server
