// BoundaryWalk: the probing attack of issue 9, as an adversarial reviewer ran
// it, against any "does this PDQ hash match?" oracle. From a start hash
// within the threshold of a listed hash (known to match), it flips bits one
// at a time, keeping each flip that still matches, until a flip no longer
// matches: the walk then stands exactly at the threshold. From there it
// flips each bit in turn: a match means that bit differs from the listed
// hash, no match that it agrees. After all 256 bits it knows the list hash
// exactly. Shared by the test that asserts the server stops it and the
// benchmark that measures when (bench/probing_bench.cc).
#pragma once

#include <algorithm>
#include <functional>
#include <numeric>
#include <random>
#include <vector>

#include "base/pdq_hash.h"

namespace testing_support {

struct WalkResult {
  int queries = 0;        // oracle calls, the refused one included
  int bits_learned = 0;   // bits of the list hash known when the walk ended
  bool blocked = false;   // the oracle refused (the key was blocked)
  bool recovered = false; // the walk finished and knows the whole hash
  base::PdqHash hash;     // what it recovered (if it did)
};

// oracle(q): 1 = match, 0 = no match, -1 = refused (stops the walk).
inline WalkResult BoundaryWalk(const base::PdqHash& start, uint64_t seed,
                               const std::function<int(const base::PdqHash&)>& oracle) {
  WalkResult r;
  auto flip = [](base::PdqHash h, int bit) {
    h.bytes[31 - bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    return h;
  };
  auto ask = [&](const base::PdqHash& q) {
    ++r.queries;
    int v = oracle(q);
    if (v < 0) r.blocked = true;
    return v;
  };
  std::vector<int> order(256);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  // Walk out to the threshold.
  base::PdqHash q = start;
  bool at_edge = false;
  for (int bit : order) {
    const base::PdqHash next = flip(q, bit);
    const int v = ask(next);
    if (v < 0) return r;
    if (v == 1) {
      q = next;
    } else {
      at_edge = true;  // q matches, q with `bit` flipped does not: q is at the threshold
      break;
    }
  }
  if (!at_edge) return r;
  // Test every bit at the edge.
  base::PdqHash found = q;
  for (int bit = 0; bit < 256; ++bit) {
    const int v = ask(flip(q, bit));
    if (v < 0) return r;
    if (v == 1) found = flip(found, bit);
    ++r.bits_learned;
  }
  r.recovered = true;
  r.hash = found;
  return r;
}

}  // namespace testing_support
