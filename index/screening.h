// Screening vocabulary: what a caller asks of the match index (ScreenQuery)
// and what it gets back (ScreenResult). The server builds a query from an
// image (its 8 dihedral PDQ variants, those of the picture inside its
// borders when it has some, and digests) or from hashes it was given, and
// decides what of the result to reveal. The index gives the PDQ hashes no
// meaning: a hit carries the label the caller gave the query hash that
// matched.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/pdq_hash.h"
#include "base/signal.h"

namespace idx {

using base::kDefaultPdqThreshold;
using base::ListKind;
using base::SignalHashBytes;
using base::SignalType;
using base::Status;

// The best hit of one list: smallest distance over all query variants and all
// of the list's hashes (exact digests have distance 0).
struct Hit {
  uint64_t list_id = 0;
  SignalType type = SignalType::kPdq;
  std::string hash;  // raw bytes of the list's hash that matched
  int distance = 0;  // Hamming distance for PDQ, 0 for exact digests
  int variant = 0;   // ScreenQuery::labels of the best query hash; 0 for digests
};

// Signals of block lists that must not match just now (the server's
// suppressed and quarantined signals, store/signal_holds.h). The index asks
// only about a signal it would otherwise report, so a screen that finds
// nothing never asks. Must be thread-safe: screens call it concurrently.
class HitFilter {
 public:
  virtual ~HitFilter() = default;
  virtual bool Held(uint64_t list_id, SignalType type, std::string_view hash) const = 0;
};

// The most PDQ hashes one query carries: 8 dihedral variants of the image and
// 8 of the picture inside its borders.
inline constexpr int kMaxQueryPdq = 16;

struct ScreenQuery {
  // The query's PDQ hashes (the server puts the image's dihedral variants
  // first, in the order of DESIGN.md section 6, orig first); only the first
  // num_pdq (<= kMaxQueryPdq) are used.
  std::array<base::PdqHash, kMaxQueryPdq> pdq{};
  int num_pdq = 0;
  // What a hit on pdq[i] reports as Hit::variant: the caller's name for that
  // hash (the server's base::QueryVariant codes). Default: i. Ties between
  // query hashes at the same distance go to the lower position i.
  std::array<uint8_t, kMaxQueryPdq> labels = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  // False when the image's PDQ quality is below the configured minimum: the
  // PDQ signal is then not used at all, digests still are.
  bool use_pdq = false;
  std::optional<std::array<uint8_t, 16>> md5;
  std::optional<std::array<uint8_t, 32>> sha256;
  // Held signals of block lists (null: none). A held signal is never a
  // block hit: the list's best signal that is not held is, if any is in
  // range; else its best held one is reported in ScreenResult::held_hits.
  const HitFilter* held = nullptr;
};

// What the index found. Whether that is a match (allow lists, suppressions)
// is the verdict policy's decision (server/verdict_policy.h), not the index's.
struct ScreenResult {
  // At most one hit per enabled list, ordered by list id. A PDQ hit beats a
  // digest hit of the same list only if it is closer, so an exact digest hit
  // (distance 0) is reported as the digest.
  std::vector<Hit> block_hits;
  std::vector<Hit> allow_hits;
  // Block lists whose every signal in range is held: the best held one, for
  // the audit entry (reviewers see what a hold silenced). Never a match.
  std::vector<Hit> held_hits;
};

}  // namespace idx
