// AuditLog: the append-only, tamper-evident record of every screening decision
// and every reviewer disposition (DESIGN.md section 3), kept in the `audit`
// column family under the big-endian sequence number.
//
// Each entry carries the hash of its predecessor and its own hash
//   entry_hash = SHA-256(prev_hash || canonical bytes)
// so altering, removing or reordering a stored entry breaks Verify(). With an
// HMAC key configured, each entry also carries an HMAC of its entry_hash:
// someone with only disk access cannot then rebuild a consistent chain.
//
// The chain head (last seq + hash) lives in the `meta` family, written in the
// same WriteBatch as the entries; with a key it carries
//   HMAC-SHA256(key, "hashscreen audit head v1" || seq || hash),
// so removing the newest entries and pointing the head at the new last entry
// is detected: the head's MAC cannot be made without the key. Entries
// written since head MACs exist use a MAC with its own domain
// (HMAC(key, "hashscreen audit entry v2" || entry_hash)); entries of older
// logs carry HMAC(key, entry_hash), which still verifies. So a head without a
// MAC after such an entry is a head whose MAC was removed (tampering), while
// before any such entry it is an old log's head ("head not authenticated";
// the next append authenticates it). Open refuses a keyed log whose head MAC
// (or newest entry's HMAC) does not check with the key: appending would
// otherwise give a cut tail a fresh, valid head, or mix keys in one chain.
//
// What no MAC can show: a rollback to an earlier genuine state (the tail cut
// back to a point where an old, valid head record was kept by RocksDB, then
// that record restored). Checkpoints (store/audit_checkpoint.h) stored away
// from the server are the answer: Verify(checkpoint) fails once the log no
// longer holds the checkpoint's entry unchanged.
//
// Durability: Append returns only after the entry is in the synced WAL. Many
// threads appending at once share one synced write (group commit): the first
// waiting appender leads, takes everything queued behind it into one batch,
// and wakes the others with the shared result.
//
// The image itself is never part of an entry.
//
// Forwarding: a primary also holds its followers' chains. Each follower
// entry is appended as a kForwarded entry of this chain, after its link to
// the previous entry held of that follower was checked (AppendForwarded);
// Verify walks those chains too.
//
// Thread-safety: every method may be called from any number of threads. The
// Database must outlive the AuditLog.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/audit_checkpoint.h"
#include "store/audit_retention.h"
#include "store/database.h"

namespace store {

// One list hit recorded with a screen (block or allow list).
struct AuditHit {
  uint64_t list_id = 0;
  std::string list_name;
  std::string partner;      // owner of the list
  std::string partner_ref;  // the partner's own reference for the signal
  std::string list_kind;    // "block" or "allow"
  std::string signal;       // "pdq", "md5", "sha256"
  std::string hash_hex;     // the list's hash that was hit
  int distance = 0;         // PDQ Hamming distance (0 for exact digests)
  int variant = 0;          // dihedral variant of the query that hit (0 = original)
  // Format 3 (see AuditEntry::report_id): the list entry's tags (partner
  // categories, from its exchange) and when it was first seen: the
  // partner's own time when its exchange gave one, else when the signal was
  // added to the list (0 = unknown).
  std::vector<std::string> tags{};
  int64_t first_seen_ms = 0;
};

struct AuditEntry {
  enum class Kind : uint8_t { kScreen = 1, kReview = 2, kEvent = 3, kBatch = 4, kForwarded = 5 };

  // Assigned by Append.
  uint64_t seq = 0;
  int64_t time_ms = 0;
  std::array<uint8_t, 32> prev_hash{};
  std::array<uint8_t, 32> entry_hash{};
  std::string hmac;  // 32 bytes, or empty when no key is configured

  Kind kind = Kind::kScreen;
  std::string key_id;  // the API key that made the request
  // The HTTP request's id (server/request_id.h), <= 64 bytes; "" for entries
  // written outside a request and for entries from before request ids. In
  // the chain hash: format 2 appends it to the canonical bytes, and an entry
  // without one is written in format 1, byte for byte as before, so old
  // logs and new entries without an id verify unchanged.
  std::string request_id;

  // kScreen.
  std::string source;      // "image" or "hashes"
  std::string caller_ref;  // <= 256 chars, the caller's own id for the item
  std::string verdict;     // "match", "no_match" or "error"
  std::string error_code;  // for "error": too_large, unsupported, corruption, ...
  std::string pdq_hex;     // empty when no PDQ hash was computed/sent
  int quality = -1;        // -1 when unknown
  bool pdq_used = false;   // false when quality was below the threshold
  std::string md5_hex, sha256_hex;
  std::string format;
  int width = 0, height = 0;
  uint64_t size_bytes = 0;
  std::vector<AuditHit> hits;  // block hits first, then allow hits

  // kReview: a disposition about entry `target_seq`.
  uint64_t target_seq = 0;
  std::string disposition;  // "confirmed", "false_positive", "escalated", "reported"
  std::string note;
  // For "reported": the report's id (e.g. a CyberTipline number), 1..64
  // printable ASCII. Format 3 carries it, and the hits' tags and
  // first_seen_ms, after the request id; an entry is written in format 3
  // only when one of them is set, so every entry without them keeps its
  // format 1 or 2 bytes, and logs written before verify unchanged.
  std::string report_id;

  // kEvent: something the service did or noticed about a key or the data
  // (probing_suspected, key_created, ...); key_id is the key concerned.
  std::string event;   // lower_snake name, 1..64 bytes
  std::string detail;  // for people, <= 4096 bytes

  // kBatch: the no-match items of one hash batch (POST /v1/screen/hashes/batch),
  // all at once: how many, and the Merkle root over them (base/merkle.h), by
  // which any one of them can later be proven to have been screened here.
  // source and verdict are "hashes" and "no_match".
  uint64_t batch_count = 0;
  std::array<uint8_t, 32> merkle_root{};

  // kForwarded: an entry of another instance's chain (a follower's), stored
  // on the primary by AppendForwarded. `origin_stored` is that entry exactly
  // as its instance stored it (canonical bytes, prev hash, own hash, HMAC),
  // so the primary's chain hash covers it byte for byte; `origin` is it
  // decoded (never itself kForwarded). key_id is the replica key that
  // forwarded it. A new kind changes no byte of the other kinds, so logs
  // written before forwarding verify unchanged.
  std::string instance;
  std::string origin_stored;
  std::shared_ptr<const AuditEntry> origin;

  // A stub left by a prune (store/audit_retention.h): only seq, time, kind,
  // the hashes and HMAC (and a forwarded entry's instance, origin seq and
  // origin hashes) remain, with `stub_mac`. Get never returns one.
  bool pruned = false;
  std::string stub_mac;

  // The entry a reader means: the origin of a forwarded entry, else itself.
  const AuditEntry& effective() const { return origin ? *origin : *this; }
};

// What the primary holds of one forwarding instance's chain.
struct ForwardedChain {
  std::string instance;
  uint64_t last_seq = 0;             // 0: nothing forwarded yet
  std::array<uint8_t, 32> last_hash{};  // entry_hash of last_seq (zeros = genesis)
  uint64_t entries = 0;              // for Verify: forwarded entries walked
  bool ok = true;                    // for Verify: every link checked
  std::string problem;
};

struct ForwardResult {
  uint64_t last_seq = 0;  // the instance's last seq now held: the forwarder's cursor
  size_t stored = 0;      // entries appended by this call
  size_t skipped = 0;     // entries already held, identical
};

// Answered from the index (store/audit_index.h). Entries are ordered by
// (time in this log, seq), which is seq order; `after` is the cursor: the
// seq of the last entry examined by the previous page (0 = the start).
struct AuditQuery {
  uint64_t after = 0;   // oldest first: entries after it; newest first: before it
  bool newest_first = false;
  size_t limit = 100;
  std::string verdict;  // "" = any; also "review" / "event" / "batch" select review / event / batch entries
  std::optional<uint64_t> list_id;  // screens that hit this list
  std::optional<int64_t> since_ms, until_ms;  // time window, inclusive
  // Entries of this instance only: the log's own (Database::instance_id) or
  // those forwarded from it. Filters apply to a forwarded entry's origin.
  std::optional<std::string> instance;
  std::string partner;      // screens with a hit on a list owned by this partner
  // Screens whose current disposition (latest review) is this; "unreviewed":
  // matches never reviewed.
  std::string disposition;
};

// A reviewer's disposition of a screen entry (AppendReview).
struct ReviewInput {
  std::string disposition;  // confirmed|false_positive|escalated|reported
  std::string note;         // <= 4096 bytes; required once the entry has a disposition
  std::string report_id;    // required with, and only with, "reported"
};

struct AuditVerifyResult {
  enum class Outcome {
    kOk,                   // chain, HMACs and head (and checkpoint) all check
    kFailed,               // something was altered, removed or replaced: first_bad_seq, problem
    kHmacUnchecked,        // the chain holds, but it carries HMACs and there is no key to check them
    kHeadUnauthenticated,  // keyed, HMACs check, but the head of an old log has no MAC yet
    kCheckpointUnauthenticated,  // keyed, all checks, the log holds the checkpoint, but the checkpoint has no MAC
    kCheckpointPruned,     // the chain checks, but the checkpoint's entry lies before the base (pruned): not checkable
  };
  Outcome outcome = Outcome::kFailed;
  bool ok = false;  // outcome == kOk
  uint64_t entries = 0;
  std::array<uint8_t, 32> head{};
  bool head_authenticated = false;  // the head's MAC was checked with the key
  bool checkpoint_checked = false;  // a checkpoint was given and the log holds it
  // Retention (store/audit_retention.h): the walk starts after entry
  // base_seq (0: the genesis), whose record's MAC was checked with the key
  // when base_authenticated; `stubs` pruned no-match entries were walked.
  uint64_t base_seq = 0;
  bool base_authenticated = false;
  uint64_t stubs = 0;
  uint64_t first_bad_seq = 0;       // for kFailed: where (entries + 1 when the head is wrong)
  std::string problem;              // why it is not ok; empty when ok
  // Every forwarded chain held in the log: its links (origin seqs contiguous
  // from 1, each prev_hash the predecessor's entry_hash, each entry_hash
  // recomputed) and its recorded head. A broken one makes the result kFailed.
  // The origins' HMACs are made with their instance's key and are not checked.
  std::vector<ForwardedChain> forwarded;

  static const char* OutcomeName(Outcome o);  // "ok", "failed", "hmac_unchecked", "head_unauthenticated", "checkpoint_unauthenticated", "checkpoint_pruned"
};

class AuditLog {
 public:
  struct Options {
    std::string hmac_key;     // empty = no HMAC
    bool sync = true;         // fsync the WAL before Append returns
    bool group_commit = true; // false: one synced write per entry (benchmark baseline)
    size_t max_group = 256;   // entries per shared write
    // Progress of building the index at open (a log from before it): one
    // line at the start, every million entries, and at the end.
    std::function<void(const std::string&)> progress{};
  };

  // Loads the chain head from `db`. The head is checked against the last
  // stored entry (a cheap consistency check; Verify() walks everything);
  // with a key, also the head's MAC and the newest entry's HMAC, which must
  // be present (Corruption naming a possibly wrong key, or an entry written
  // without the key: see above why such a log is not extended).
  static Status Open(Database* db, const Options& options, std::unique_ptr<AuditLog>* out);

  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends `entry` (seq, time, hashes are filled in) durably; on success
  // `entry` holds the stored form. An IOError leaves the chain unchanged.
  Status Append(AuditEntry* entry);

  // A review of screen entry `target_seq`: NotFound if there is no such
  // screen entry, InvalidArgument for an unknown disposition or a note over
  // 4096 bytes.
  Status AppendReview(uint64_t target_seq, const std::string& disposition, const std::string& note,
                      const std::string& reviewer_key_id, AuditEntry* out, const std::string& request_id = {});
  // The same with a report id. Also InvalidArgument for `reported` without
  // a report id, a report id with another disposition or not 1..64
  // printable ASCII, and (with *note_required set) an empty note for an
  // entry that already has a disposition. Reviews are serialised, so that
  // rule holds against concurrent reviewers.
  Status AppendReview(uint64_t target_seq, const ReviewInput& review, const std::string& reviewer_key_id,
                      AuditEntry* out, const std::string& request_id, bool* note_required);
  // The latest review of screen `seq` into *review (found = false when
  // there is none).
  Status CurrentReview(uint64_t seq, AuditEntry* review, bool* found) const;
  // An instance named by its 32-hex id or by a prefix of it of 8 or more
  // digits (the short name), among this log's own and those forwarded to
  // it. NotFound when none, InvalidArgument when the prefix names several.
  Status ResolveInstance(const std::string& name, std::string* id) const;

  // An event entry. InvalidArgument for an event name that is not
  // lower_snake 1..64 bytes or a detail over 4096 bytes.
  Status AppendEvent(const std::string& event, const std::string& key_id, const std::string& detail, AuditEntry* out,
                     const std::string& request_id = {});

  // NotFound for a seq never written and for a pruned one (Pruned() tells which).
  Status Get(uint64_t seq, AuditEntry* out) const;
  // Whether entry `seq` was removed or stubbed by a prune.
  bool Pruned(uint64_t seq) const;
  // The chain's base: the last entry cut by a prune (0: none).
  uint64_t base_seq() const;

  // Retention (store/audit_retention.h): cuts the prefix older than
  // policy.retain_ms (the new base record in the same write as each batch's
  // removals), then stubs the no-match records older than
  // policy.retain_no_match_ms, in atomic batches of policy.batch entries
  // with their index keys, each synced; appends go on between batches, and
  // the log verifies after every batch. Audited when it removes anything:
  // an `audit_prune_started` event before the first removal (the horizons),
  // an `audit_prune` event last (the counts and the base as a checkpoint
  // line). One prune at a time (a second waits).
  Status Prune(const RetentionPolicy& policy, PruneResult* out);
  // The review entries about `target_seq`, oldest first.
  Status ReviewsOf(uint64_t target_seq, std::vector<AuditEntry>* out) const;

  // Entries matching `q`, in the order asked, from the index. `*next` is the
  // cursor for the next page (pass it as `after`), or 0 when the end was
  // reached. A page is never empty while matching entries exist beyond it:
  // filters without an index of their own are checked on the entries read,
  // and once kMaxRejected entries were read and rejected, a page that holds
  // at least one entry ends there with its cursor.
  static constexpr size_t kMaxRejected = 1000;
  Status Query(const AuditQuery& q, std::vector<AuditEntry>* out, uint64_t* next) const;

  // Drops and rebuilds the index of the log in `db` (hashscreend audit
  // reindex; Open does it when the index is not complete).
  static Status Reindex(Database* db, const std::function<void(const std::string&)>& progress);

  // Walks the whole chain: contiguous seqs from 1, every prev/own hash (and
  // HMAC when a key is configured), and the stored head with its MAC.
  AuditVerifyResult Verify() const;
  // The same, and the log must still hold `checkpoint`: same database, its
  // entry unchanged, its MAC right (with a key). kFailed when the tail was
  // cut back before the checkpoint or the log rewritten at or before it;
  // kCheckpointUnauthenticated (not ok) for a checkpoint without a MAC
  // given to a keyed log, which otherwise holds it.
  AuditVerifyResult Verify(const AuditCheckpoint& checkpoint) const;

  // The current head as a checkpoint, with a MAC when a key is configured.
  AuditCheckpoint Checkpoint() const;
  bool keyed() const { return !options_.hmac_key.empty(); }

  uint64_t last_seq() const;
  // Waits until last_seq() > seq or `timeout` passes; returns last_seq().
  uint64_t WaitForAppend(uint64_t seq, std::chrono::milliseconds timeout) const;

  // Forwarding (a follower's entries kept on its primary, docs/store.md).
  static constexpr size_t kMaxForwardEntries = 1000;
  // Appends entries of instance `instance`'s chain, each in its stored form
  // (ReadStored on that instance), in seq order and contiguous, each as one
  // kForwarded entry; all of them and the instance's new head go in one
  // atomic write. Entries the log already holds (seq <= its last for the
  // instance) are skipped when identical. Errors, and then nothing is stored:
  //   InvalidArgument  instance is not a 32-hex-digit id, is this log's own,
  //                    or more than kMaxForwardEntries entries
  //   AlreadyExists    an entry already held differs from the one sent
  //   Corruption       an entry that does not decode, is itself forwarded,
  //                    leaves a gap, or does not link (prev_hash, entry_hash)
  // An empty `stored` only answers the instance's last seq.
  Status AppendForwarded(const std::string& instance, const std::vector<std::string>& stored,
                         const std::string& key_id, const std::string& request_id, ForwardResult* out);
  // What the log holds of `instance` (last_seq 0 when nothing).
  Status ForwardedHead(const std::string& instance, ForwardedChain* out) const;
  // The stored form of entries after `after`, in seq order: at most
  // max_entries, and no more than max_bytes in all (but at least one).
  Status ReadStored(uint64_t after, size_t max_entries, size_t max_bytes, std::vector<std::string>* out) const;

 private:
  struct Waiter;
  AuditLog(Database* db, Options options) : db_(db), options_(std::move(options)) {}
  Status WriteGroup(const std::vector<Waiter*>& group);
  // Appends `count` entries as one waiter: contiguous seqs, one write.
  Status AppendMany(AuditEntry* entries, size_t count);
  AuditVerifyResult VerifyImpl(const AuditCheckpoint* checkpoint) const;

  Status EnsureIndex();  // builds the index when it is not complete
  // The cut point: the last entry older than `horizon_ms` and at most
  // `limit`, moved before any screen whose latest review comes after it.
  Status CutPoint(int64_t horizon_ms, uint64_t limit, uint64_t* cut, uint64_t* held_by) const;
  // Cuts entries from..through (fewer when a screen's review came after
  // `cut_to`) and writes the moved base with them.
  Status CutBatch(uint64_t from, uint64_t through, uint64_t cut_to, audit_retention::Base* base, uint64_t* cut_through);
  // Stubs the no-match records among up to `max` entries from `from`, up to
  // `limit` and before `horizon_ms` (*reached_horizon once past them).
  Status StubBatch(uint64_t from, uint64_t limit, int64_t horizon_ms, size_t max, uint64_t* walked_through,
                   uint64_t* stubbed, bool* reached_horizon, bool dry_run,
                   const std::function<Status()>& before_write);
  Status CurrentDisposition(uint64_t seq, uint64_t* review_seq, std::string* disposition) const;
  // Index keys of `e` written in `batch`; a review moves its target between
  // disposition keys (`moved`: the targets' dispositions set in this batch).
  Status IndexEntry(const AuditEntry& e, rocksdb::WriteBatch* batch, std::map<uint64_t, std::string>* moved);

  Database* const db_;
  const Options options_;

  mutable std::mutex mu_;
  std::deque<Waiter*> queue_;  // guarded by mu_; front = current leader
  // The chain head; written only by the current leader, read under mu_.
  uint64_t head_seq_ = 0;
  std::array<uint8_t, 32> head_hash_{};
  int64_t head_time_ = 0;  // entry times never go below it (index order = seq order)
  std::mutex review_mu_;   // serialises AppendReview (the note rule reads, then appends)
  std::mutex solo_mu_;  // serialises appends when group_commit is off
  mutable std::condition_variable appended_;  // with mu_: the head moved
  std::mutex forward_mu_;  // serialises AppendForwarded (read head, check, append)
  std::mutex prune_mu_;    // one Prune at a time
  uint64_t base_seq_ = 0;  // guarded by mu_; the chain's base (retention)
};

// Encoding exposed for tests that tamper with stored entries.
std::string AuditKey(uint64_t seq);

}  // namespace store
