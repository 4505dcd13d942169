// The verdict policy: the one place that turns what the match index found
// (block and allow hits per list, server-independent facts) into the verdict
// an ingest caller gets. The index only finds; this decides.
//
// Today's rule (DESIGN.md section 2): a match is a block hit on some enabled
// list when no allow list hit the query.
//
// Thread-safety: pure functions.
#pragma once

#include "index/screening.h"

namespace server {

struct VerdictDecision {
  bool match = false;
};

VerdictDecision DecideVerdict(const idx::ScreenResult& found);

}  // namespace server
