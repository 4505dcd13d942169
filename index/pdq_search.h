// PdqSearch: exact PDQ radius search over one immutable array of hashes:
// every (hash, needle) pair at Hamming distance <= radius is reported, never
// fewer (no false negatives). Two strategies behind this interface:
//
//   LinearPdqSearch  every hash against up to 8 needles in one SIMD pass
//                    (more needles: more passes). Best for small arrays; the
//                    baseline of the benchmark.
//   MultiIndexPdqSearch  the 256 bits as 16 words of 16 bits, one flat table
//                    per word: 65,537 bucket offsets, the hash positions
//                    sorted by that word, and beside each position the value
//                    of the word's pair partner (word w ^ 1). Pigeonhole on
//                    the 8 word pairs: if distance <= r, some pair differs in
//                    D <= T = r / 8 bits, so one of its two words differs in
//                    at most t = T / 2 bits. A search probes, in each word's
//                    table, the buckets within t bits of the needle's word
//                    (17 buckets for r = 31) and keeps only entries whose
//                    pair distance (probe bits + partner bits) is <= T; that
//                    sequential 2-byte filter drops ~99.8% of a bucket before
//                    any full 32-byte hash is read at random. Survivors are
//                    verified against the full hashes.
//
// MakePdqSearch picks by size (kMultiIndexMinHashes). Both borrow the hash
// array, which must outlive them and not change. A pair may be reported more
// than once by the multi-index (once per word that led to it).
//
// Thread-safety: Search is const and may run concurrently.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "base/pdq_hash.h"
#include "index/large_array.h"
#include "index/pdq_scan_kernels.h"

namespace idx {

class PdqSearch {
 public:
  // Needles one Search takes (PdqMatch::needle is a byte); more are ignored.
  static constexpr int kMaxNeedles = 64;

  virtual ~PdqSearch() = default;
  virtual const char* strategy() const = 0;
  // Appends every pair within `radius` (0..256) to *out; indexes are positions
  // in the hash array.
  virtual void Search(const base::PdqHash* needles, int num_needles, int radius,
                      std::vector<PdqMatch>* out) const = 0;
  // Heap bytes of the structure itself (not the borrowed hashes).
  virtual size_t MemoryBytes() const = 0;
};

class LinearPdqSearch final : public PdqSearch {
 public:
  // kernels: nullptr = ActivePdqScanKernels().
  LinearPdqSearch(const base::PdqHash* hashes, size_t n, const PdqScanKernels* kernels = nullptr);
  const char* strategy() const override { return "linear"; }
  void Search(const base::PdqHash* needles, int num_needles, int radius,
              std::vector<PdqMatch>* out) const override;
  size_t MemoryBytes() const override { return 0; }

 private:
  const base::PdqHash* hashes_;
  size_t n_;
  const PdqScanKernels* kernels_;
};

class MultiIndexPdqSearch final : public PdqSearch {
 public:
  static constexpr int kWords = 16;
  static constexpr size_t kBuckets = 65536;

  MultiIndexPdqSearch(const base::PdqHash* hashes, size_t n, const PdqScanKernels* kernels = nullptr);
  // The index of `hashes` = a's hashes followed by b's (n = a.size() +
  // b.size()), built by concatenating a's and b's buckets: sequential copies
  // instead of sorting again, so merging segments costs O(n) memory traffic.
  MultiIndexPdqSearch(const base::PdqHash* hashes, const MultiIndexPdqSearch& a, const MultiIndexPdqSearch& b);
  size_t size() const { return n_; }
  const char* strategy() const override { return "multi-index"; }
  void Search(const base::PdqHash* needles, int num_needles, int radius,
              std::vector<PdqMatch>* out) const override;
  size_t MemoryBytes() const override;

 private:
  const base::PdqHash* hashes_;
  size_t n_;
  const PdqScanKernels* kernels_;
  // offsets_[w * (kBuckets + 1) + v] .. [.. + v + 1]: the range of ids_ and
  // partners_ (word w's part, from w * n_) of hashes whose word w equals v.
  LargeArray<uint32_t> offsets_;
  LargeArray<uint32_t> ids_;
  LargeArray<uint16_t> partners_;  // word (w ^ 1) of hash ids_[k]
};

// Below this many hashes a linear scan beats the multi-index (bench/index_bench).
inline constexpr size_t kMultiIndexMinHashes = 16384;

std::unique_ptr<PdqSearch> MakePdqSearch(const base::PdqHash* hashes, size_t n,
                                         const PdqScanKernels* kernels = nullptr);

}  // namespace idx
