#include <doctest/doctest.h>

#include "server/verdict_policy.h"

namespace {
idx::Hit HitOn(uint64_t list) {
  idx::Hit h;
  h.list_id = list;
  return h;
}
}  // namespace

TEST_CASE("verdict: a block hit is a match unless an allow list hit the query: nothing found is no match") {
  idx::ScreenResult found;
  CHECK(!server::DecideVerdict(found).match);
  found.block_hits.push_back(HitOn(1));
  CHECK(server::DecideVerdict(found).match);
  found.allow_hits.push_back(HitOn(2));
  CHECK(!server::DecideVerdict(found).match);
  found.block_hits.clear();
  CHECK(!server::DecideVerdict(found).match);
}
