#include "server/verdict_policy.h"

namespace server {

VerdictDecision DecideVerdict(const idx::ScreenResult& found) {
  VerdictDecision d;
  d.match = !found.block_hits.empty() && found.allow_hits.empty();
  return d;
}

}  // namespace server
