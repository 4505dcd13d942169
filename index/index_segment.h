// IndexSegment: an immutable set of one list's signals, searchable: the PDQ
// hashes in one contiguous array with a PdqSearch over it, and exact-match
// DigestTables for MD5, SHA-256 and (for membership) PDQ. A list's index is a
// few segments plus tombstones (store/match_index.h); segments are never
// changed after construction, so readers can hold one without locks.
//
// Thread-safety: const methods are safe concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "base/pdq_hash.h"
#include "index/digest_table.h"
#include "index/large_array.h"
#include "index/pdq_search.h"
#include "base/signal.h"

namespace idx {

using base::kDefaultPdqThreshold;
using base::ListKind;
using base::SignalHashBytes;
using base::SignalType;
using base::Status;

// Signals to build a segment from: distinct within each type.
struct SignalSet {
  std::vector<base::PdqHash, HugePageAllocator<base::PdqHash>> pdq;
  std::vector<std::array<uint8_t, 16>> md5;
  std::vector<std::array<uint8_t, 32>> sha256;

  size_t size() const { return pdq.size() + md5.size() + sha256.size(); }
  // Appends `hash` (raw bytes of the type's length).
  void Add(SignalType type, std::string_view hash);
};

// How segments search PDQ (tests and the benchmark force one).
enum class PdqStrategy { kBySize, kLinear, kMultiIndex };

class IndexSegment {
 public:
  // kernels: nullptr = ActivePdqScanKernels().
  IndexSegment(uint64_t generation, SignalSet signals, PdqStrategy strategy = PdqStrategy::kBySize,
               const PdqScanKernels* kernels = nullptr);
  // The union of a and b (a's signals first), which must be disjoint and all
  // visible: concatenates the arrays and, when both have multi-indexes,
  // concatenates those instead of rebuilding.
  IndexSegment(uint64_t generation, const IndexSegment& a, const IndexSegment& b,
               PdqStrategy strategy = PdqStrategy::kBySize, const PdqScanKernels* kernels = nullptr);
  IndexSegment(const IndexSegment&) = delete;
  IndexSegment& operator=(const IndexSegment&) = delete;

  // Orders segments of a list: newer segments have larger generations.
  uint64_t generation() const { return generation_; }
  size_t size() const { return pdq_.size() + md5_.size() + sha256_.size(); }
  size_t pdq_count() const { return pdq_.size(); }
  const base::PdqHash* pdq() const { return pdq_.data(); }
  const std::vector<std::array<uint8_t, 16>>& md5() const { return md5_; }
  const std::vector<std::array<uint8_t, 32>>& sha256() const { return sha256_; }

  bool Contains(SignalType type, const uint8_t* hash) const;
  // Sets found[i] = 1 for each hashes[i] (all of `type`) the segment holds;
  // leaves the other flags, and skips hashes already flagged.
  void ContainsMany(SignalType type, const uint8_t* const* hashes, size_t n, uint8_t* found) const;
  void SearchPdq(const base::PdqHash* needles, int num_needles, int radius, std::vector<PdqMatch>* out) const {
    if (search_) search_->Search(needles, num_needles, radius, out);
  }
  const char* strategy() const { return search_ ? search_->strategy() : "none"; }
  size_t MemoryBytes() const;

 private:
  void BuildTables();
  // The PdqSearch `strategy` asks for over pdq_ (non-empty).
  std::unique_ptr<PdqSearch> MakeSearch(PdqStrategy strategy, const PdqScanKernels* kernels) const;

  uint64_t generation_;
  std::vector<base::PdqHash, HugePageAllocator<base::PdqHash>> pdq_;  // moved in from the SignalSet
  std::vector<std::array<uint8_t, 16>> md5_;
  std::vector<std::array<uint8_t, 32>> sha256_;
  DigestTable pdq_table_, md5_table_, sha256_table_;
  std::unique_ptr<PdqSearch> search_;
};

}  // namespace idx
