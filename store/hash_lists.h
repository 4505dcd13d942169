// HashLists: the partners' hash lists, durable in RocksDB and mirrored in the
// in-memory MatchIndex. Lists (create, rename, enable/disable, threshold),
// signal batches (atomic, idempotent by batch id), the per-list change feed,
// signal look-up for audit detail, and screening.
//
// On disk (column families of Database, encodings in store/key_encoding.h):
//   lists    list id                        -> name, owner, kind, threshold, enabled, last seq, count, created
//   signals  list id, type, hash bytes      -> added time, partner reference
//   changes  list id, seq (big-endian)      -> add/remove, type, hash, reference, time
//   batches  list id, batch id              -> the BatchResult first returned
//   meta     "next_list_id"                 -> next list id
//   feed     feed seq (big-endian)          -> list_put or batch record (store/feed.h)
// Batch ids are scoped by list (a list has exactly one owner partner, so this
// is the "partner, batch id" of DESIGN.md section 3, made per list).
//
// Thread-safety: every method may be called concurrently. Writers (CreateList,
// UpdateList, ApplyBatch) are serialised among themselves; Screen never waits
// for a writer: it reads an immutable index snapshot that writers replace with
// an atomic pointer swap, so a write is visible to every Screen that starts
// after the write returned. The Database must outlive the HashLists.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/database.h"
#include "index/match_index.h"
#include "index/screening.h"
#include "base/signal.h"

namespace store {

// The vocabulary the store shares with the layers below.
using base::IsValidSignalType;
using base::kDefaultPdqThreshold;
using base::kMaxPdqThreshold;
using base::ListKind;
using base::SignalEntry;
using base::SignalHashBytes;
using base::SignalType;
using base::ValidateSignal;
using idx::ListIndexSpec;
using idx::MatchIndex;
using idx::ScreenQuery;
using idx::ScreenResult;
using idx::SignalRef;
using idx::SignalSet;

struct ListSpec {
  std::string name;   // unique per owner, 1..256 bytes
  std::string owner;  // partner name
  ListKind kind = ListKind::kBlock;
  int pdq_threshold = kDefaultPdqThreshold;  // 0..kMaxPdqThreshold
};

struct ListInfo {
  uint64_t id = 0;
  std::string name, owner;
  ListKind kind = ListKind::kBlock;
  int pdq_threshold = kDefaultPdqThreshold;
  bool enabled = true;
  uint64_t last_seq = 0;      // seq of the newest change (0: none yet)
  uint64_t signal_count = 0;  // signals currently in the list, all types
  int64_t created_ms = 0;     // Unix time, milliseconds
};

// What a partner says about an entry beyond its reference, for reviewers
// (never shown to the ingest role): its tags or category labels (IWF's A/B/C,
// NCMEC's labels, ...) and when the partner first saw it.
struct SignalMeta {
  std::vector<std::string> tags;  // at most kMaxSignalTags, each 1..kMaxSignalTagBytes bytes
  int64_t first_seen_ms = 0;      // Unix ms; 0 = not given
  bool empty() const { return tags.empty() && first_seen_ms == 0; }
};
inline constexpr size_t kMaxSignalTags = 32;
inline constexpr size_t kMaxSignalTagBytes = 128;

struct BatchRequest {
  std::string batch_id;  // caller-chosen, 1..128 bytes; a retry with the same id is a no-op
  std::vector<SignalEntry> add, remove;
  // Empty, or one per add (the exchanges fill it; the push API does not).
  std::vector<SignalMeta> add_meta = {};
};

struct BatchResult {
  uint64_t seq = 0;  // list's last seq after the batch (its last change; unchanged if nothing changed)
  uint64_t added = 0, removed = 0;
  uint64_t already_present = 0;  // adds of a hash the list already held
  uint64_t not_found = 0;        // removes of a hash the list did not hold
  bool replayed = false;         // true when the batch id was applied before: this is the first result
  // For a replay: false when the first application was recorded before batch
  // digests existed, so its content could not be compared with this one.
  bool content_verified = true;
};

struct Change {
  uint64_t seq = 0;
  bool add = true;  // false: remove
  SignalType type = SignalType::kPdq;
  std::string hash;  // raw bytes
  std::string ref;   // the reference added (for a remove: the reference the signal had)
  int64_t time_ms = 0;
  SignalMeta meta;   // an add's partner metadata (empty for removes and for plain pushes)
};

struct FeedCursor;
struct FeedPage;

class HashLists {
 public:
  struct Options {
    MatchIndex::Options index;  // PDQ strategy and kernels (forced by tests and the benchmark)
    // A batch with at least this many effective changes is committed by
    // ingesting SST files instead of a WriteBatch (store/atomic_batch.h;
    // both are atomic and synced, ingestion is faster for large batches).
    size_t ingest_from_changes = 10000;
  };

  // Reads every list and signal from `db` and builds the index. `db` must
  // outlive the result.
  static Status Open(Database* db, std::unique_ptr<HashLists>* out);
  static Status Open(Database* db, const Options& options, std::unique_ptr<HashLists>* out);

  HashLists(const HashLists&) = delete;
  HashLists& operator=(const HashLists&) = delete;
  ~HashLists();

  // Creates a list and assigns its id. AlreadyExists if the owner already has
  // a list of that name; InvalidArgument for an empty or over-long name or a
  // threshold outside 0..63.
  Status CreateList(const ListSpec& spec, ListInfo* out);
  // NotFound if there is no such list.
  Status GetList(uint64_t id, ListInfo* out) const;
  // Every list, ordered by id.
  std::vector<ListInfo> Lists() const;
  // Changes the given fields; the others stay. NotFound, AlreadyExists (the
  // new name is taken for this owner), InvalidArgument (bad name/threshold).
  Status UpdateList(uint64_t id, std::optional<std::string> name, std::optional<bool> enabled,
                    std::optional<int> pdq_threshold);

  // Applies adds then removes atomically and durably (signals, changes with
  // consecutive seqs, list record, batch record: one WriteBatch, or one
  // ingestion of SST files for a large batch), then updates the index. The
  // batch record keeps the batch's content digest (keys::BatchDigest). A
  // batch id already applied to this list with the same content returns the
  // first result with replayed = true and changes nothing; with different
  // content it is AlreadyExists and changes nothing (a reused id must not
  // silently drop a withdrawal). An id recorded before digests existed
  // replays as before, with content_verified = false. An invalid entry (unknown
  // type, wrong hash length, reference too long) rejects the whole batch with
  // InvalidArgument naming it ("add[3]: ..."). An entry both added and removed
  // in one batch is added first, then removed. NotFound for an unknown list.
  Status ApplyBatch(uint64_t list_id, const BatchRequest& batch, BatchResult* out);
  // The same, and (meta_key, meta_value) put in the meta family in the same
  // atomic write: an exchange's checkpoint goes with the changes it covers
  // (sync/exchange/), so a kill leaves either both or neither. A replayed
  // batch id writes nothing, the meta record neither. meta_key must not be
  // one the store itself keeps ("next_list_id").
  Status ApplyBatch(uint64_t list_id, const BatchRequest& batch, std::string_view meta_key,
                    std::string_view meta_value, BatchResult* out);
  // The same with several meta-family records written (a value) or deleted
  // (nullopt) in that atomic write: an exchange that keeps an index of its
  // partner's entries (sync/exchange/ncmec_index.h) writes it with the
  // changes it explains. Keys must be distinct.
  struct MetaWrite {
    std::string key;
    std::optional<std::string> value;  // nullopt: delete the record
  };
  Status ApplyBatch(uint64_t list_id, const BatchRequest& batch, std::vector<MetaWrite> meta, BatchResult* out);

  // Every signal the list holds, with its reference, in key order: what an
  // exchange diffs a full snapshot against. NotFound for an unknown list.
  Status ListSignals(uint64_t list_id, std::vector<SignalEntry>* out) const;

  // The feed (store/feed.h). Every CreateList, UpdateList and effective
  // ApplyBatch appends one record in the same atomic write; a record becomes
  // readable once its write returned (published in commit order).
  //
  // ReadFeed: the records after `after`, at most `max_entries` entries
  // (list_puts and changes) and about `max_bytes` bytes (at least one entry
  // when there is one: a page always makes progress). InvalidArgument for a
  // cursor beyond the head or inside a record it does not fit.
  Status ReadFeed(const FeedCursor& after, size_t max_entries, size_t max_bytes, FeedPage* out) const;
  // The newest published record (0: empty feed) and its time.
  void FeedHead(uint64_t* record, int64_t* time_ms) const;
  // Waits until a record after `after` is published, `deadline` passes or
  // StopFeedWaiters is called; true if there is something to read.
  bool WaitForFeed(const FeedCursor& after, std::chrono::steady_clock::time_point deadline) const;
  // Wakes every WaitForFeed for good (shutdown: long polls answer at once).
  void StopFeedWaiters();

  // What ApplyFeedPage does with the index.
  //   kInPlace  checks every change against the index (an add of a present
  //             signal or a remove of an absent one is Corruption) and
  //             updates it in place: a live follower.
  //   kDeferred leaves the index alone: a bootstrap writes many pages and
  //             builds the index ONCE at the end with RebuildIndex, as Open
  //             does, instead of growing and merging it page by page. The
  //             per-signal check becomes RebuildIndex's per-list check that
  //             the stored signals number what the list records say (every
  //             other check, and the atomic write with the cursor, is the same).
  enum class IndexUpdate { kInPlace, kDeferred };

  // A follower's write: applies a page read from a primary's feed that
  // starts exactly at `from`, with the primary's list ids, change seqs and
  // feed seqs, and puts (cursor_key, cursor_value) in the meta family: ONE
  // atomic write (a WriteBatch, or an SST ingestion for large pages), then
  // the index is updated (see IndexUpdate). A page that does not continue
  // `from`, or whose changes do not fit this database's state (an add of a
  // present signal, a remove of an absent one, a list record whose counts
  // differ), is Corruption and nothing is written. Serialised with the other
  // writers.
  Status ApplyFeedPage(const FeedCursor& from, const FeedPage& page, std::string_view cursor_key,
                       std::string_view cursor_value, IndexUpdate update = IndexUpdate::kInPlace);
  // Replaces every list's index state with the signals stored in RocksDB
  // (one segment per list, as Open builds it): the end of a kDeferred run.
  // Corruption, with the index unchanged for that list, if a list's stored
  // signals do not number its signal_count. Serialised with the writers;
  // screening goes on meanwhile against the previous state.
  Status RebuildIndex();

  // Up to `limit` changes of the list with seq > after_seq, in seq order.
  // *next is the seq to pass as after_seq to continue (the last returned, or
  // after_seq when there are none).
  Status Changes(uint64_t list_id, uint64_t after_seq, size_t limit, std::vector<Change>* out,
                 uint64_t* next) const;

  // The stored signal (with its reference) and when it was added; NotFound if
  // the list does not hold it.
  Status LookupSignal(uint64_t list_id, SignalType type, std::string_view hash, SignalEntry* out,
                      int64_t* added_ms) const;
  // The same with the entry's partner metadata (tags, first seen; empty for
  // entries that have none, and for every entry stored before metadata
  // existed): what a reviewer's view of a hit shows.
  Status LookupSignal(uint64_t list_id, SignalType type, std::string_view hash, SignalEntry* out,
                      int64_t* added_ms, SignalMeta* meta) const;

  // Screens a query against every enabled list. Thread-safe, lock-free with
  // respect to writers.
  ScreenResult Screen(const ScreenQuery& query) const;

  // Total PDQ hashes in the index and its approximate heap bytes (for
  // /metrics and the benchmark).
  size_t IndexedPdqHashes() const;
  size_t IndexMemoryBytes() const;
  // Blocks until the index's background merges are done (tests, benchmark:
  // screening is exact before that, only slower).
  void WaitForIndexMerges();

 private:
  explicit HashLists(Database* db, const Options& options);
  Status Load();
  // Loads the stored signals of every list in lists_ into the index; with
  // `check_counts`, Corruption when a list's stored signals do not number
  // its signal_count (that list's index state is then left as it was).
  Status LoadSignals(bool check_counts);
  // Reads the feed head at open; writes the records of a database created
  // before the feed existed (a list_put and a batch of all its changes per list).
  Status LoadFeed();
  // Makes feed record `seq` readable and wakes the waiters. Caller holds write_mu_.
  void PublishFeed(uint64_t seq, int64_t time_ms);
  Status CheckNameFree(const std::string& owner, const std::string& name, uint64_t except_id) const;
  // Commits a batch's write, then publishes its index update.
  Status CommitAndPublish(uint64_t list_id, class AtomicBatch* wb, const struct EncodedBatch& encoded);
  // The refs the change feed reports for the batch's effective removes.
  Status RemovedRefs(uint64_t list_id, const BatchRequest& batch, const struct BatchPlan& plan,
                     std::vector<std::string>* refs) const;

  Database* db_;
  const size_t ingest_from_changes_;
  MatchIndex index_;
  // Serialises writers (held across the RocksDB write and the index update).
  std::mutex write_mu_;
  // Guards lists_: writers hold it exclusively only to replace an entry.
  mutable std::shared_mutex mu_;
  std::unordered_map<uint64_t, ListInfo> lists_;
  uint64_t next_list_id_ = 1;

  // The published feed head: guarded by feed_mu_, signalled on feed_cv_.
  mutable std::mutex feed_mu_;
  mutable std::condition_variable feed_cv_;
  uint64_t feed_head_ = 0;
  int64_t feed_head_time_ms_ = 0;
  bool feed_stopped_ = false;
};

}  // namespace store
