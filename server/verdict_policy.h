// The verdict policy: the one place that turns what the match index found
// (block and allow hits per list, server-independent facts) into the verdict
// an ingest caller gets. The index only finds; this decides.
//
// The rule: a match is a block hit that no allow hit suppresses. An allow
// hit suppresses the block hits on lists of its own owner, and, when its
// list is owned by the operator (store::kOperatorOwner, lists an admin key
// creates), every block hit. So a partner's allow list can only ever silence
// that partner's own block lists; silencing across partners is the
// operator's decision alone (docs/api.md "Allow lists").
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>
#include <vector>

#include "index/screening.h"

namespace server {

// The owner of the list behind each hit, in the order of the hits:
// block[i] owns found.block_hits[i], allow[j] owns found.allow_hits[j]. A
// block hit without an owner here (or with an empty one: its list could not
// be looked up) can be suppressed only by the operator.
struct HitOwners {
  std::vector<std::string_view> block, allow;
};

struct VerdictDecision {
  bool match = false;
  size_t suppressed = 0;  // block hits an allow hit suppressed
};

VerdictDecision DecideVerdict(const idx::ScreenResult& found, const HitOwners& owners);

}  // namespace server
