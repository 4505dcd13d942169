#include "server/verdict_policy.h"

#include <algorithm>

#include "store/api_keys.h"

namespace server {

VerdictDecision DecideVerdict(const idx::ScreenResult& found, const HitOwners& owners) {
  VerdictDecision d;
  const size_t allows = std::min(found.allow_hits.size(), owners.allow.size());
  const auto first = owners.allow.begin(), last = owners.allow.begin() + static_cast<std::ptrdiff_t>(allows);
  const bool operator_allows = std::find(first, last, store::kOperatorOwner) != last;
  for (size_t i = 0; i < found.block_hits.size(); ++i) {
    const bool own_allow =
        i < owners.block.size() && !owners.block[i].empty() && std::find(first, last, owners.block[i]) != last;
    if (operator_allows || own_allow) {
      ++d.suppressed;
    } else {
      d.match = true;
    }
  }
  return d;
}

}  // namespace server
