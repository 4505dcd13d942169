#include <doctest/doctest.h>

#include "server/verdict_policy.h"
#include "store/api_keys.h"

namespace {
idx::Hit HitOn(uint64_t list) {
  idx::Hit h;
  h.list_id = list;
  return h;
}
}  // namespace

TEST_CASE("verdict: a block hit is a match unless an allow list of its owner or of the operator hit the query") {
  idx::ScreenResult found;
  server::HitOwners owners;
  CHECK(!server::DecideVerdict(found, owners).match);
  found.block_hits.push_back(HitOn(1));
  owners.block.push_back("acme");
  CHECK(server::DecideVerdict(found, owners).match);
  // Another partner's allow list does not silence acme's block list.
  found.allow_hits.push_back(HitOn(2));
  owners.allow.push_back("globex");
  CHECK(server::DecideVerdict(found, owners).match);
  CHECK(server::DecideVerdict(found, owners).suppressed == 0);
  // acme's own allow list does.
  found.allow_hits.push_back(HitOn(3));
  owners.allow.push_back("acme");
  CHECK(!server::DecideVerdict(found, owners).match);
  CHECK(server::DecideVerdict(found, owners).suppressed == 1);
  // A third partner's block hit is not silenced by acme's or globex's allow list.
  found.block_hits.push_back(HitOn(4));
  owners.block.push_back("initech");
  CHECK(server::DecideVerdict(found, owners).match);
  CHECK(server::DecideVerdict(found, owners).suppressed == 1);
  // The operator's allow list silences every partner's block hits.
  found.allow_hits.push_back(HitOn(5));
  owners.allow.push_back(store::kOperatorOwner);
  CHECK(!server::DecideVerdict(found, owners).match);
  CHECK(server::DecideVerdict(found, owners).suppressed == 2);
  found.block_hits.clear();
  owners.block.clear();
  CHECK(!server::DecideVerdict(found, owners).match);
}

TEST_CASE("verdict: a block hit whose owner is unknown or empty is silenced by the operator only") {
  idx::ScreenResult found;
  found.block_hits.push_back(HitOn(1));
  found.allow_hits.push_back(HitOn(2));
  server::HitOwners owners;
  owners.allow.push_back("");  // an allow list with an empty owner
  CHECK(server::DecideVerdict(found, owners).match);  // no owner given for the block hit
  owners.block.push_back("");
  CHECK(server::DecideVerdict(found, owners).match);  // empty owner: not "the same owner"
  owners.allow.push_back(store::kOperatorOwner);
  found.allow_hits.push_back(HitOn(3));
  CHECK(!server::DecideVerdict(found, owners).match);
  // Owners beyond the hits are ignored: an allow owner without an allow hit suppresses nothing.
  found.allow_hits.resize(1);
  CHECK(server::DecideVerdict(found, owners).match);
}
