// Test data for the PDQ index tests: clustered hash sets (like real lists: many
// near-duplicates of a few originals) and brute-force answers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "base/pdq_hash.h"
#include "index/pdq_scan_kernels.h"

namespace store_test {

inline base::PdqHash RandomPdq(std::mt19937_64& rng) {
  base::PdqHash h;
  for (auto& b : h.bytes) b = static_cast<uint8_t>(rng());
  return h;
}

inline base::PdqHash FlipBits(base::PdqHash h, int bits, std::mt19937_64& rng) {
  for (int i = 0; i < bits; ++i) {
    int k = static_cast<int>(rng() % 256);
    h.bytes[31 - k / 8] ^= static_cast<uint8_t>(1u << (k % 8));
  }
  return h;
}

// n hashes in clusters of up to 50 around random centres, each member 0..40
// bit flips from its centre, plus exact duplicates removed.
inline std::vector<base::PdqHash> ClusteredHashes(size_t n, std::mt19937_64& rng) {
  std::vector<base::PdqHash> out;
  std::set<std::array<uint8_t, 32>> seen;
  while (out.size() < n) {
    base::PdqHash centre = RandomPdq(rng);
    size_t members = 1 + rng() % 50;
    for (size_t m = 0; m < members && out.size() < n; ++m) {
      base::PdqHash h = FlipBits(centre, static_cast<int>(rng() % 41), rng);
      if (seen.insert(h.bytes).second) out.push_back(h);
    }
  }
  return out;
}

// Needles: half near a list hash (0..70 flips), half uniform random.
inline std::vector<base::PdqHash> Needles(const std::vector<base::PdqHash>& list, int count,
                                             std::mt19937_64& rng) {
  std::vector<base::PdqHash> out;
  for (int i = 0; i < count; ++i) {
    if (!list.empty() && i % 2 == 0) {
      out.push_back(FlipBits(list[rng() % list.size()], static_cast<int>(rng() % 71), rng));
    } else {
      out.push_back(RandomPdq(rng));
    }
  }
  return out;
}

using MatchSet = std::set<std::tuple<uint32_t, int, int>>;  // index, needle, distance

inline MatchSet ToSet(const std::vector<idx::PdqMatch>& v) {
  MatchSet s;
  for (const auto& m : v) s.insert({m.index, m.needle, m.distance});
  return s;
}

inline MatchSet BruteForce(const std::vector<base::PdqHash>& hay, const base::PdqHash* needles,
                           int num_needles, int radius) {
  MatchSet s;
  for (size_t i = 0; i < hay.size(); ++i) {
    for (int j = 0; j < num_needles; ++j) {
      int d = base::Distance(hay[i], needles[j]);
      if (d <= radius) s.insert({static_cast<uint32_t>(i), j, d});
    }
  }
  return s;
}

// Every kernel implementation this CPU can run.
inline std::vector<const base::KernelImpl<idx::PdqScanKernels>*> SupportedKernels() {
  return idx::PdqScanKernelFamily().Runnable();
}

}  // namespace store_test
