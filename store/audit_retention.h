// Audit retention: what AuditLog::Prune (store/audit_log.h) removes, and the
// two records by which the chain still verifies afterwards.
//
// Two horizons (docs/store.md "Retention and pruning"):
//  - retain: every entry older than it is cut, as a prefix of the log. The
//    last entry cut becomes the chain's *base*: a record in `meta` holding
//    its seq, entry hash and time, the same for each forwarded instance's
//    last entry cut, and (with the HMAC key) a MAC in its own domain.
//    Verify walks from the base as it walks from the genesis.
//  - retain_no_match: a no-match screening record (a screen with verdict
//    no_match or error, a batch entry; forwarded ones alike) older than it,
//    not yet inside the prefix and never reviewed, is replaced by a *stub*:
//    seq, time, kind, the entry's prev hash, entry hash and entry HMAC (for
//    a forwarded entry also its origin's seq and hashes), and a MAC over all
//    of these in a domain of its own. Its content (caller ref, hashes, hits,
//    key) is gone; the links through it still verify, and without the key
//    no one can turn a kept entry into a stub.
// The prefix never cuts a screen whose latest review is younger than the
// retain horizon (a match is kept while its reviews are), never cuts or
// stubs the newest entry, and leaves entries after `max_seq` alone (a
// follower's entries its primary does not hold yet).
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "base/status.h"

namespace store {

struct AuditEntry;

struct RetentionPolicy {
  int64_t retain_ms = 0;           // entries older are cut; 0 = kept forever
  int64_t retain_no_match_ms = 0;  // no-match records older are stubbed; 0 = kept whole until cut
  int64_t now_ms = 0;              // 0 = the clock's now
  uint64_t max_seq = UINT64_MAX;   // entries after it are left alone
  size_t batch = 1000;             // entries per atomic write (appends wait for at most one)
  bool dry_run = false;            // count only: nothing written, no event
  std::function<void(const std::string&)> progress{};
  // Asked between batches; true stops the prune there (shutdown). What was
  // written verifies, and the next prune continues.
  std::function<bool()> stop{};
};

struct PruneResult {
  int64_t horizon_ms = INT64_MIN;           // entries before it are cut (INT64_MIN: none)
  int64_t no_match_horizon_ms = INT64_MIN;  // no-match records before it are stubbed
  uint64_t cut = 0;           // entries removed with the prefix (stubs included)
  uint64_t stubbed = 0;       // entries reduced to stubs
  uint64_t base_seq = 0;      // the chain's base afterwards (0: the genesis)
  uint64_t held_by_review = 0;  // 0, or the screen whose young review stopped the prefix
  bool stopped = false;       // RetentionPolicy::stop ended it early
  std::string checkpoint;     // the base as an audit checkpoint line ("" while the base is the genesis)
};

namespace audit_retention {

// The first byte of a stub's stored value; canonical entries start with their
// format (1..3), so the two never read as each other.
inline constexpr uint8_t kStubMarker = 0xFE;

// The chain's base: the last entry cut, and each forwarded instance's last
// entry cut (its seq in that instance's chain and its entry hash).
struct Base {
  bool present = false;
  uint64_t seq = 0;
  std::array<uint8_t, 32> hash{};
  int64_t time_ms = 0;
  std::map<std::string, std::pair<uint64_t, std::array<uint8_t, 32>>> instances;
  std::string mac;  // 32 bytes, or empty when no key
};

// The base record of database `instance_id`, with a MAC under `key` when not empty.
std::string EncodeBase(const Base& base, std::string_view instance_id, std::string_view key);
base::Status DecodeBase(std::string_view value, Base* out);
// Whether `base.mac` is the MAC of `base` under `key`.
bool BaseMacValid(const Base& base, std::string_view instance_id, std::string_view key);

// A stub of stored entry `e` (decoded: seq, time, kind, hashes, HMAC, and a
// forwarded entry's instance and origin), its MAC under `key` if not empty.
std::string EncodeStub(const AuditEntry& e, std::string_view instance_id, std::string_view key);
// Decodes a stub into `e` (pruned = true). Corruption when damaged.
base::Status DecodeStub(std::string_view value, AuditEntry* e);
// Whether stub `e` carries the right stub MAC under `key`.
bool StubMacValid(const AuditEntry& e, std::string_view instance_id, std::string_view key);

// Whether `effective` is a no-match screening record (what retain_no_match covers).
bool IsNoMatchRecord(const AuditEntry& effective);

}  // namespace audit_retention
}  // namespace store
