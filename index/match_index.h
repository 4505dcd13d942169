// MatchIndex: the in-memory index of every list's signals, answering
// ScreenQuery exactly: exact MD5/SHA-256 membership and PDQ radius search
// (the list's threshold, all query variants), best hit per enabled list,
// allow lists suppressing block hits (DESIGN.md section 2).
//
// Layout: an immutable Snapshot (per list: metadata, a few IndexSegments and
// a tombstone map) behind one atomic shared_ptr. Readers load the pointer and
// search without locks; a writer builds the next snapshot, sharing every
// unchanged segment, and swaps it in. A batch adds at most one new segment
// (its adds) and tombstones (its removes). A background merger thread then
// merges segments size-tiered (the newest two when they are within 2x of each
// other) and everything into one segment when tombstones pile up, so a list
// stays a handful of segments, no write rebuilds more than the segments it
// merges, and no writer waits for a merge. A merge publishes a state with the
// same signals (only the segment layout changes), so readers see no
// difference except speed.
//
// A signal is present in a list iff some segment holds it with a generation
// greater than its tombstone's (a remove records the list's newest
// generation; a later add lands in a newer segment and is visible again).
//
// Thread-safety: Screen, Contains and the size getters may be called
// concurrently with each other and with one writer. Writers (PutList, Load,
// Apply, Prepare+Commit) must be serialised by the caller; the merger
// coordinates with them internally.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "index/index_segment.h"
#include "index/screening.h"
#include "base/signal.h"

namespace idx {

using base::kDefaultPdqThreshold;
using base::ListKind;
using base::SignalHashBytes;
using base::SignalType;
using base::Status;

struct ListIndexSpec {
  uint64_t id = 0;
  ListKind kind = ListKind::kBlock;
  int pdq_threshold = kDefaultPdqThreshold;
  bool enabled = true;
};

struct SignalRef {
  SignalType type;
  std::string_view hash;  // raw bytes
};

class MatchIndex {
  struct ListState;

 public:
  struct Options {
    PdqStrategy strategy = PdqStrategy::kBySize;
    const PdqScanKernels* kernels = nullptr;  // nullptr = ActivePdqScanKernels()
  };
  MatchIndex() : MatchIndex(Options()) {}
  explicit MatchIndex(Options options);
  MatchIndex(const MatchIndex&) = delete;
  MatchIndex& operator=(const MatchIndex&) = delete;
  // Stops the merger (after the merge it is running, if any).
  ~MatchIndex();

  // Adds a list (empty) or updates its metadata, keeping its signals.
  void PutList(const ListIndexSpec& spec);
  // Replaces the list's signals with `signals` (one segment); the list must
  // have been put.
  void Load(uint64_t list_id, SignalSet signals);
  // Adds then removes signals. Callers pass only effective changes (adds not
  // present, removes present): Contains is the membership test.
  void Apply(uint64_t list_id, const std::vector<SignalRef>& added, const std::vector<SignalRef>& removed);
  // Apply in two steps, so a caller can build the batch's new segment (the
  // costly part) while it writes the same batch to disk, and publish it only
  // once the write succeeded. Prepare reads the current state and changes
  // nothing; Commit publishes its result (null: nothing to do). No other
  // writer may run in between (merges may).
  struct Prepared {
    uint64_t list_id = 0;
    uint64_t generation = 0;
    std::shared_ptr<const IndexSegment> segment;  // the adds; null if none
    std::vector<std::string> tombstones;          // keys of the removes
    size_t added = 0, removed = 0;
    size_t pdq_added = 0, pdq_removed = 0;
  };
  std::unique_ptr<Prepared> Prepare(uint64_t list_id, const std::vector<SignalRef>& added,
                                    const std::vector<SignalRef>& removed) const;
  void Commit(std::unique_ptr<Prepared> prepared);

  bool Contains(uint64_t list_id, SignalType type, std::string_view hash) const;
  // (*present)[i] = Contains(list_id, q[i].type, q[i].hash) for every i, with
  // one snapshot and the look-ups of each segment overlapped (batches).
  void ContainsMany(uint64_t list_id, const std::vector<SignalRef>& q, std::vector<uint8_t>* present) const;
  ScreenResult Screen(const ScreenQuery& query) const;

  // Live PDQ hashes over all lists: withdrawn ones are not counted, even
  // while a segment still holds them behind a tombstone.
  size_t pdq_hashes() const;
  size_t MemoryBytes() const;
  // Segments of a list (for tests of the merge policy); 0 for an unknown list.
  size_t SegmentCount(uint64_t list_id) const;
  // Blocks until the merger has nothing left to do (tests, benchmarks).
  void WaitForMerges();

 private:
  // Tombstone keys: type byte then hash bytes; value: generation it hides up to.
  using Tombstones = std::unordered_map<std::string, uint64_t>;
  struct ListState {
    ListIndexSpec spec;
    std::vector<std::shared_ptr<const IndexSegment>> segments;  // oldest first
    std::shared_ptr<const Tombstones> tombstones;               // null when empty
    uint64_t next_generation = 1;
    size_t signals = 0;      // live signals: added and not removed since
    size_t pdq_signals = 0;  // of which PDQ
  };
  struct Snapshot {
    std::vector<std::shared_ptr<const ListState>> lists;  // by id
  };

  std::shared_ptr<const Snapshot> snapshot() const { return snapshot_.load(std::memory_order_acquire); }
  static const ListState* FindList(const Snapshot& s, uint64_t id);
  // The same, as the snapshot's own pointer (null if absent), to keep the state alive.
  static const std::shared_ptr<const ListState>& FindListShared(const Snapshot& s, uint64_t id);
  static bool Visible(const ListState& list, const IndexSegment& seg, SignalType type, const uint8_t* hash);
  // Replaces (or inserts) one list's state. Caller holds publish_mu_.
  void Publish(std::shared_ptr<const ListState> list);
  std::shared_ptr<const IndexSegment> Merge(const ListState& list, size_t first, size_t last, uint64_t generation) const;
  void ScheduleMerge(uint64_t list_id);
  void MergerLoop();
  // Performs the list's next merge, if its policy wants one. False if none.
  bool MergeOnce(uint64_t list_id);

  Options options_;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
  // Held for each read-modify-write of snapshot_ (writers and the merger),
  // never while building a segment.
  std::mutex publish_mu_;

  std::mutex merge_mu_;
  std::condition_variable merge_cv_;
  std::set<uint64_t> merge_pending_;  // lists that may need a merge
  bool merging_ = false;              // the merger is working on a list
  bool stop_ = false;
  std::thread merger_;
};

}  // namespace idx
