#include "store/pdq_search.h"

#include <algorithm>
#include <array>
#include <bit>

namespace store {

namespace {

// The 16-bit masks by weight: the first kMasksUpTo[t] are those of weight <= t.
constexpr int kMaxWordRadius = 3;
constexpr std::array<int, kMaxWordRadius + 1> kMasksUpTo = {1, 17, 137, 697};

const std::vector<uint16_t>& MasksByWeight() {
  static const std::vector<uint16_t> masks = [] {
    std::vector<uint16_t> m;
    for (int w = 0; w <= kMaxWordRadius; ++w) {
      for (uint32_t v = 0; v < 65536; ++v) {
        if (std::popcount(v) == w) m.push_back(static_cast<uint16_t>(v));
      }
    }
    return m;
  }();
  return masks;
}

}  // namespace

LinearPdqSearch::LinearPdqSearch(const hashing::PdqHash* hashes, size_t n, const PdqKernels* kernels)
    : hashes_(hashes), n_(n), kernels_(kernels ? kernels : &PdqKernelsActive()) {}

void LinearPdqSearch::Search(const hashing::PdqHash* needles, int num_needles, int radius,
                             std::vector<PdqMatch>* out) const {
  if (n_ == 0 || num_needles <= 0) return;
  kernels_->scan(hashes_, n_, needles, num_needles, radius, out);
}

MultiIndexPdqSearch::MultiIndexPdqSearch(const hashing::PdqHash* hashes, size_t n, const PdqKernels* kernels)
    : hashes_(hashes),
      n_(n),
      kernels_(kernels ? kernels : &PdqKernelsActive()),
      offsets_(kWords * (kBuckets + 1)),
      ids_(kWords * n) {
  // One counting sort per word; ids within a bucket stay ascending.
  std::vector<uint16_t> words(n);
  for (int w = 0; w < kWords; ++w) {
    uint32_t* off = offsets_.data() + w * (kBuckets + 1);
    std::fill(off, off + kBuckets + 1, 0u);
    for (size_t i = 0; i < n; ++i) {
      words[i] = hashes[i].Word(w);
      ++off[words[i] + 1];
    }
    for (size_t v = 0; v < kBuckets; ++v) off[v + 1] += off[v];
    uint32_t* ids = ids_.data() + w * n;
    std::vector<uint32_t> cursor(off, off + kBuckets);
    for (size_t i = 0; i < n; ++i) ids[cursor[words[i]]++] = static_cast<uint32_t>(i);
  }
}

size_t MultiIndexPdqSearch::MemoryBytes() const {
  return offsets_.size() * sizeof(uint32_t) + ids_.size() * sizeof(uint32_t);
}

void MultiIndexPdqSearch::Search(const hashing::PdqHash* needles, int num_needles, int radius,
                                 std::vector<PdqMatch>* out) const {
  if (n_ == 0 || num_needles <= 0 || radius < 0) return;
  if (radius > kWords * (kMaxWordRadius + 1) - 1) {
    // Beyond what the word radii cover (r > 63): the pigeonhole no longer prunes.
    kernels_->scan(hashes_, n_, needles, num_needles, radius, out);
    return;
  }
  // Word radii t_w with sum(t_w) >= radius - 15 (or, for radius < 16, the
  // first radius + 1 words at t_w = 0); -1 = word not probed.
  std::array<int, kWords> t;
  if (radius < kWords) {
    for (int w = 0; w < kWords; ++w) t[w] = w <= radius ? 0 : -1;
  } else {
    int total = radius - (kWords - 1);
    for (int w = 0; w < kWords; ++w) t[w] = total / kWords + (w < total % kWords ? 1 : 0);
  }
  const std::vector<uint16_t>& masks = MasksByWeight();
  thread_local std::vector<uint32_t> candidates;
  for (int j = 0; j < num_needles; ++j) {
    candidates.clear();
    for (int w = 0; w < kWords; ++w) {
      if (t[w] < 0) continue;
      const uint32_t* off = offsets_.data() + w * (kBuckets + 1);
      const uint32_t* ids = ids_.data() + w * n_;
      const uint16_t word = needles[j].Word(w);
      for (int m = 0; m < kMasksUpTo[t[w]]; ++m) {
        uint16_t v = word ^ masks[m];
        candidates.insert(candidates.end(), ids + off[v], ids + off[v + 1]);
      }
    }
    kernels_->verify_ids(hashes_, candidates.data(), candidates.size(), needles[j], j, radius, out);
  }
}

std::unique_ptr<PdqSearch> MakePdqSearch(const hashing::PdqHash* hashes, size_t n, const PdqKernels* kernels) {
  if (n < kMultiIndexMinHashes) return std::make_unique<LinearPdqSearch>(hashes, n, kernels);
  return std::make_unique<MultiIndexPdqSearch>(hashes, n, kernels);
}

}  // namespace store
