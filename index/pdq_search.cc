#include "index/pdq_search.h"

#include <algorithm>
#include <array>
#include <bit>
#include <thread>

namespace idx {

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

// Scans in chunks, so the kernel's output array has a fixed size.
constexpr size_t kScanChunk = 1024;
// Needles per kernel pass (the kernels' limit); more take more passes.
constexpr int kNeedlesPerPass = 8;

void ScanAll(const PdqScanKernels& k, const base::PdqHash* hashes, size_t n, const base::PdqHash* needles,
             int num_needles, int radius, std::vector<PdqMatch>* out) {
  thread_local std::vector<PdqMatch> buf(kScanChunk * kNeedlesPerPass);
  for (int first = 0; first < num_needles; first += kNeedlesPerPass) {
    const int count = std::min(kNeedlesPerPass, num_needles - first);
    for (size_t i = 0; i < n; i += kScanChunk) {
      const size_t m = std::min(kScanChunk, n - i);
      const size_t got = k.scan(hashes + i, m, needles + first, count, radius, buf.data());
      for (size_t j = 0; j < got; ++j) {
        PdqMatch match = buf[j];
        match.index += static_cast<uint32_t>(i);
        match.needle = static_cast<uint8_t>(match.needle + first);
        out->push_back(match);
      }
    }
  }
}

}  // namespace

LinearPdqSearch::LinearPdqSearch(const base::PdqHash* hashes, size_t n, const PdqScanKernels* kernels)
    : hashes_(hashes), n_(n), kernels_(kernels ? kernels : &ActivePdqScanKernels()) {}

void LinearPdqSearch::Search(const base::PdqHash* needles, int num_needles, int radius,
                             std::vector<PdqMatch>* out) const {
  if (n_ == 0 || num_needles <= 0) return;
  ScanAll(*kernels_, hashes_, n_, needles, std::min(num_needles, kMaxNeedles), radius, out);
}

MultiIndexPdqSearch::MultiIndexPdqSearch(const base::PdqHash* hashes, size_t n, const PdqScanKernels* kernels)
    : hashes_(hashes),
      n_(n),
      kernels_(kernels ? kernels : &ActivePdqScanKernels()),
      offsets_(kWords * (kBuckets + 1)),
      ids_(kWords * n),
      partners_(kWords * n) {
  // Per word: an LSD radix sort (two 8-bit passes, stable, so ids within a
  // bucket stay ascending) of packed (word, partner, id) records. Two passes
  // with 256 write streams each stay in cache, where one 65,536-way counting
  // scatter would miss on nearly every write. Words are independent: large
  // indexes are built on two threads.
  auto build_words = [&](int first, int last) {
    // Scratch, uninitialised: zeroing it would only add page-clearing time.
    LargeArray<uint64_t> a_buf(n), b_buf(n);
    uint64_t* a = a_buf.data();
    uint64_t* b = b_buf.data();
    for (int w = first; w < last; ++w) {
      uint32_t* off = offsets_.data() + w * (kBuckets + 1);
      std::fill(off, off + kBuckets + 1, 0u);
      for (size_t i = 0; i < n; ++i) {
        const uint64_t word = hashes[i].Word(w);
        a[i] = word | uint64_t{hashes[i].Word(w ^ 1)} << 16 | uint64_t{i} << 32;
        ++off[word + 1];
      }
      for (int pass = 0; pass < 2; ++pass) {
        const int shift = 8 * pass;
        size_t count[257] = {};
        for (size_t i = 0; i < n; ++i) ++count[(a[i] >> shift & 0xff) + 1];
        for (int v = 0; v < 256; ++v) count[v + 1] += count[v];
        for (size_t i = 0; i < n; ++i) b[count[a[i] >> shift & 0xff]++] = a[i];
        std::swap(a, b);
      }
      for (size_t v = 0; v < kBuckets; ++v) off[v + 1] += off[v];
      uint32_t* ids = ids_.data() + w * n;
      uint16_t* partners = partners_.data() + w * n;
      for (size_t i = 0; i < n; ++i) {
        ids[i] = static_cast<uint32_t>(a[i] >> 32);
        partners[i] = static_cast<uint16_t>(a[i] >> 16);
      }
    }
  };
  if (n >= (size_t{1} << 20) && std::thread::hardware_concurrency() >= 2) {
    std::thread half(build_words, 0, kWords / 2);
    build_words(kWords / 2, kWords);
    half.join();
  } else {
    build_words(0, kWords);
  }
}

MultiIndexPdqSearch::MultiIndexPdqSearch(const base::PdqHash* hashes, const MultiIndexPdqSearch& a,
                                         const MultiIndexPdqSearch& b)
    : hashes_(hashes),
      n_(a.n_ + b.n_),
      kernels_(a.kernels_),
      offsets_(kWords * (kBuckets + 1)),
      ids_(kWords * n_),
      partners_(kWords * n_) {
  const uint32_t shift = static_cast<uint32_t>(a.n_);
  for (int w = 0; w < kWords; ++w) {
    const uint32_t* oa = a.offsets_.data() + w * (kBuckets + 1);
    const uint32_t* ob = b.offsets_.data() + w * (kBuckets + 1);
    const uint32_t* ia = a.ids_.data() + w * a.n_;
    const uint32_t* ib = b.ids_.data() + w * b.n_;
    const uint16_t* pa = a.partners_.data() + w * a.n_;
    const uint16_t* pb = b.partners_.data() + w * b.n_;
    uint32_t* off = offsets_.data() + w * (kBuckets + 1);
    uint32_t* ids = ids_.data() + w * n_;
    uint16_t* partners = partners_.data() + w * n_;
    uint32_t k = 0;
    for (size_t v = 0; v < kBuckets; ++v) {
      off[v] = k;
      // Within a bucket ids stay ascending: a's, then b's shifted past a.
      for (uint32_t i = oa[v]; i < oa[v + 1]; ++i, ++k) {
        ids[k] = ia[i];
        partners[k] = pa[i];
      }
      for (uint32_t i = ob[v]; i < ob[v + 1]; ++i, ++k) {
        ids[k] = ib[i] + shift;
        partners[k] = pb[i];
      }
    }
    off[kBuckets] = k;
  }
}

size_t MultiIndexPdqSearch::MemoryBytes() const {
  return offsets_.size() * sizeof(uint32_t) + ids_.size() * sizeof(uint32_t) + partners_.size() * sizeof(uint16_t);
}

void MultiIndexPdqSearch::Search(const base::PdqHash* needles, int num_needles, int radius,
                                 std::vector<PdqMatch>* out) const {
  if (n_ == 0 || num_needles <= 0 || radius < 0) return;
  // Pair budget T and word radius t (see the header): T = 7 and t = 3 at r = 63.
  const int pair_budget = radius / (kWords / 2);
  const int t = pair_budget / 2;
  if (t > kMaxWordRadius) {
    // r > 63: the pigeonhole no longer prunes enough to beat a scan.
    ScanAll(*kernels_, hashes_, n_, needles, std::min(num_needles, kMaxNeedles), radius, out);
    return;
  }
  const std::vector<uint16_t>& masks = MasksByWeight();
  struct Probe {
    const uint16_t* partners;
    const uint32_t* ids;
    uint32_t n;
    uint16_t partner;
    int budget;
  };
  thread_local std::vector<Probe> probes;
  thread_local std::vector<uint32_t> candidates;
  // Buckets sit at random places in arrays far larger than the caches: list
  // a needle's probes first, then filter them with the partner data of the
  // probes kAhead further on already requested.
  constexpr size_t kAhead = 8;
  for (int j = 0; j < std::min(num_needles, kMaxNeedles); ++j) {
    probes.clear();
    for (int w = 0; w < kWords; ++w) {
      const uint32_t* off = offsets_.data() + w * (kBuckets + 1);
      const uint16_t word = needles[j].Word(w);
      const uint16_t partner = needles[j].Word(w ^ 1);
      for (int m = 0; m < kMasksUpTo[t]; ++m) {
        const uint32_t v = static_cast<uint16_t>(word ^ masks[m]);
        const uint32_t begin = off[v], end = off[v + 1];
        if (begin == end) continue;
        probes.push_back({partners_.data() + w * n_ + begin, ids_.data() + w * n_ + begin, end - begin, partner,
                          pair_budget - std::popcount(masks[m])});
      }
    }
    // Room for every entry of every probe, grown only when a needle needs
    // more than any before it (never zero-filled per probe).
    size_t room = 0;
    for (const Probe& p : probes) room += p.n;
    if (candidates.size() < room) candidates.resize(room);
    size_t found = 0;
    for (size_t i = 0; i < probes.size() && i < kAhead; ++i) __builtin_prefetch(probes[i].partners);
    for (size_t i = 0; i < probes.size(); ++i) {
      if (i + kAhead < probes.size()) {
        const Probe& ahead = probes[i + kAhead];
        __builtin_prefetch(ahead.partners);
        if (ahead.n > 32) __builtin_prefetch(ahead.partners + 32);
      }
      const Probe& p = probes[i];
      found += kernels_->filter_partners(p.partners, p.ids, p.n, p.partner, p.budget, candidates.data() + found);
    }
    const size_t have = out->size();
    out->resize(have + found);
    out->resize(have + kernels_->verify_ids(hashes_, candidates.data(), found, &needles[j], j, radius,
                                            out->data() + have));
  }
}

std::unique_ptr<PdqSearch> MakePdqSearch(const base::PdqHash* hashes, size_t n, const PdqScanKernels* kernels) {
  if (n < kMultiIndexMinHashes) return std::make_unique<LinearPdqSearch>(hashes, n, kernels);
  return std::make_unique<MultiIndexPdqSearch>(hashes, n, kernels);
}

}  // namespace idx
