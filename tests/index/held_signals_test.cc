// Held signals (idx::ScreenQuery::held): a held signal is never a block hit;
// the list's best signal that is not held is, even when farther; a list
// whose every signal in range is held reports its best held one apart; allow
// lists ignore holds; without hits the filter is never asked.
#include <doctest/doctest.h>

#include <atomic>
#include <random>
#include <set>
#include <string>

#include "index/match_index.h"
#include "tests/index/pdq_test_data.h"

using base::ListKind;
using base::SignalType;

namespace {

std::string Raw(const base::PdqHash& h) { return std::string(reinterpret_cast<const char*>(h.bytes.data()), 32); }

struct SetFilter : idx::HitFilter {
  std::set<std::string> held;  // list id byte + raw hash
  mutable std::atomic<int> asked{0};
  bool Held(uint64_t list_id, SignalType, std::string_view hash) const override {
    ++asked;
    return held.contains(std::to_string(list_id) + "/" + std::string(hash));
  }
  void Hold(uint64_t list_id, const std::string& raw) { held.insert(std::to_string(list_id) + "/" + raw); }
};

}  // namespace

TEST_CASE("held signals: the nearest unheld signal of a list is its hit, all held is a held hit, never a block hit") {
  std::mt19937_64 rng(11);
  const base::PdqHash query = store_test::RandomPdq(rng);
  const base::PdqHash near = store_test::FlipBits(query, 3, rng);
  const base::PdqHash farther = store_test::FlipBits(query, 20, rng);
  idx::MatchIndex index;
  for (uint64_t id : {1, 2}) {
    index.PutList({id, id == 1 ? ListKind::kBlock : ListKind::kAllow, 31, true});
    idx::SignalSet s;
    s.Add(SignalType::kPdq, Raw(near));
    s.Add(SignalType::kPdq, Raw(farther));
    index.Load(id, std::move(s));
  }
  idx::ScreenQuery q;
  q.pdq[0] = query;
  q.num_pdq = 1;
  q.use_pdq = true;
  SetFilter filter;
  q.held = &filter;

  idx::ScreenResult r = index.Screen(q);
  REQUIRE(r.block_hits.size() == 1);
  CHECK(r.block_hits[0].hash == Raw(near));
  CHECK(r.held_hits.empty());

  // The nearest is held: the farther one is the hit (a held signal never
  // shadows another signal of its list).
  filter.Hold(1, Raw(near));
  filter.Hold(2, Raw(near));
  r = index.Screen(q);
  REQUIRE(r.block_hits.size() == 1);
  CHECK(r.block_hits[0].hash == Raw(farther));
  CHECK(r.block_hits[0].distance > r.allow_hits[0].distance);
  CHECK(r.held_hits.empty());
  // Allow lists ignore holds.
  REQUIRE(r.allow_hits.size() == 1);
  CHECK(r.allow_hits[0].hash == Raw(near));

  // Both held: no block hit; the best held one is reported apart.
  filter.Hold(1, Raw(farther));
  r = index.Screen(q);
  CHECK(r.block_hits.empty());
  REQUIRE(r.held_hits.size() == 1);
  CHECK(r.held_hits[0].hash == Raw(near));
  CHECK(r.held_hits[0].distance == 3);

  // A query that finds nothing never asks the filter.
  filter.asked = 0;
  idx::ScreenQuery far = q;
  far.pdq[0] = store_test::FlipBits(query, 128, rng);
  r = index.Screen(far);
  CHECK(r.block_hits.empty());
  CHECK(r.held_hits.empty());
  CHECK(filter.asked == 0);
}

TEST_CASE("held signals: a held digest leaves the list's unheld PDQ signal as its hit") {
  std::mt19937_64 rng(12);
  const base::PdqHash pdq = store_test::RandomPdq(rng);
  const std::string md5(16, 'm');
  idx::MatchIndex index;
  index.PutList({1, ListKind::kBlock, 31, true});
  idx::SignalSet s;
  s.Add(SignalType::kPdq, Raw(pdq));
  s.Add(SignalType::kMd5, md5);
  index.Load(1, std::move(s));
  idx::ScreenQuery q;
  q.pdq[0] = pdq;
  q.num_pdq = 1;
  q.use_pdq = true;
  q.md5.emplace();
  std::memcpy(q.md5->data(), md5.data(), 16);
  SetFilter filter;
  filter.Hold(1, md5);
  q.held = &filter;
  idx::ScreenResult r = index.Screen(q);
  REQUIRE(r.block_hits.size() == 1);
  CHECK(r.block_hits[0].type == SignalType::kPdq);
  CHECK(r.held_hits.empty());
  filter.Hold(1, Raw(pdq));
  r = index.Screen(q);
  CHECK(r.block_hits.empty());
  REQUIRE(r.held_hits.size() == 1);
  CHECK(r.held_hits[0].type == SignalType::kMd5);
}
