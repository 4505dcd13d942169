#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "index/match_index.h"
#include "tests/index/pdq_test_data.h"

using namespace store_test;
using base::ListKind;
using idx::MatchIndex;
using base::SignalType;

namespace {

std::string Raw(const base::PdqHash& h) { return std::string(reinterpret_cast<const char*>(h.bytes.data()), 32); }

struct ModelList {
  idx::ListIndexSpec spec;
  std::set<std::string> pdq, md5;  // raw bytes
};

// The best hit per list by brute force, as MatchIndex defines it.
idx::ScreenResult Model(const std::map<uint64_t, ModelList>& lists, const idx::ScreenQuery& q) {
  idx::ScreenResult r;
  for (const auto& [id, l] : lists) {
    if (!l.spec.enabled) continue;
    std::optional<idx::Hit> hit;
    if (q.md5) {
      std::string m(reinterpret_cast<const char*>(q.md5->data()), 16);
      if (l.md5.count(m)) hit = idx::Hit{id, SignalType::kMd5, m, 0, 0};
    }
    if (!hit && q.use_pdq) {
      for (const std::string& raw : l.pdq) {
        base::PdqHash h;
        std::memcpy(h.bytes.data(), raw.data(), 32);
        for (int v = 0; v < q.num_pdq; ++v) {
          int d = base::Distance(h, q.pdq[v]);
          if (d > l.spec.pdq_threshold) continue;
          if (!hit || std::tie(d, v, raw) < std::tie(hit->distance, hit->variant, hit->hash)) {
            hit = idx::Hit{id, SignalType::kPdq, raw, d, v};
          }
        }
      }
    }
    // Best by position; reported as the caller's label of that position.
    if (hit && hit->type == SignalType::kPdq) hit->variant = q.labels[hit->variant];
    if (hit) (l.spec.kind == ListKind::kAllow ? r.allow_hits : r.block_hits).push_back(*hit);
  }
  return r;
}

bool Same(const std::vector<idx::Hit>& a, const std::vector<idx::Hit>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].list_id != b[i].list_id || a[i].type != b[i].type || a[i].hash != b[i].hash ||
        a[i].distance != b[i].distance || a[i].variant != b[i].variant) {
      return false;
    }
  }
  return true;
}

void RunModelTest(MatchIndex::Options options, uint64_t seed) {
  std::mt19937_64 rng(seed);
  MatchIndex index(options);
  std::map<uint64_t, ModelList> model;
  for (uint64_t id = 1; id <= 3; ++id) {
    ModelList l;
    l.spec = {id, id == 3 ? ListKind::kAllow : ListKind::kBlock, id == 2 ? 10 : 31, true};
    index.PutList(l.spec);
    model[id] = l;
  }
  auto universe = ClusteredHashes(3000, rng);
  for (int step = 0; step < 60; ++step) {
    uint64_t id = 1 + rng() % 3;
    ModelList& l = model[id];
    // Interleaved adds and removes; some adds re-add removed hashes, some
    // removes take hashes added in the same batch.
    std::vector<std::string> keep;
    std::vector<idx::SignalRef> added, removed;
    std::set<std::string> in_batch;
    int adds = static_cast<int>(rng() % (step < 5 ? 600 : 80));
    for (int i = 0; i < adds; ++i) {
      std::string raw = Raw(universe[rng() % universe.size()]);
      if (l.pdq.count(raw) || in_batch.count(raw)) continue;
      in_batch.insert(raw);
      keep.push_back(raw);
    }
    if (rng() % 4 == 0) {
      std::string md5(16, static_cast<char>(rng() % 8));
      if (!l.md5.count(md5)) {
        keep.push_back(md5);
        l.md5.insert(md5);
      }
    }
    for (const auto& k : keep) {
      if (k.size() == 32) l.pdq.insert(k);
    }
    std::vector<std::string> removes;
    int rm = static_cast<int>(rng() % 40);
    for (int i = 0; i < rm && !l.pdq.empty(); ++i) {
      auto it = l.pdq.begin();
      std::advance(it, rng() % l.pdq.size());
      removes.push_back(*it);
      l.pdq.erase(it);
    }
    if (!l.md5.empty() && rng() % 5 == 0) {
      removes.push_back(*l.md5.begin());
      l.md5.erase(l.md5.begin());
    }
    for (const auto& k : keep) added.push_back({k.size() == 16 ? SignalType::kMd5 : SignalType::kPdq, k});
    for (const auto& k : removes) removed.push_back({k.size() == 16 ? SignalType::kMd5 : SignalType::kPdq, k});
    index.Apply(id, added, removed);
    if (step % 7 == 3) {
      l.spec.enabled = !l.spec.enabled;
      index.PutList(l.spec);
    }
    if (step % 11 == 5) {
      l.spec.pdq_threshold = static_cast<int>(rng() % 64);
      index.PutList(l.spec);
    }
    // Merges run in the background: answers must be exact whatever they
    // have done so far; the segment count is bounded once they are done.
    if (step % 3 == 0) index.WaitForMerges();
    for (const auto& [lid, ml] : model) {
      for (const auto& raw : ml.pdq) REQUIRE(index.Contains(lid, SignalType::kPdq, raw));
      if (step % 3 == 0) CHECK(index.SegmentCount(lid) <= 13);
    }
    for (const auto& raw : removes) {
      if (raw.size() == 32) CHECK(!index.Contains(id, SignalType::kPdq, raw));
    }
    for (int qn = 0; qn < 6; ++qn) {
      idx::ScreenQuery q;
      // Up to 16 hashes: the dihedral and the trimmed sets of an image.
      auto needles = Needles(universe, idx::kMaxQueryPdq, rng);
      q.num_pdq = 1 + static_cast<int>(rng() % idx::kMaxQueryPdq);
      for (int v = 0; v < idx::kMaxQueryPdq; ++v) q.pdq[v] = needles[(v + qn) % idx::kMaxQueryPdq];
      // Labels are the caller's names for the positions (the server's
      // QueryVariant codes): a hit must carry the label, not the position.
      if (qn % 2) std::shuffle(q.labels.begin(), q.labels.end(), rng);
      q.use_pdq = qn != 5;
      if (qn == 4 && !model[1].md5.empty()) {
        std::array<uint8_t, 16> m;
        std::memcpy(m.data(), model[1].md5.begin()->data(), 16);
        q.md5 = m;
      }
      idx::ScreenResult want = Model(model, q), got = index.Screen(q);
      CHECK_MESSAGE(Same(got.block_hits, want.block_hits), "step " << step << " query " << qn);
      CHECK_MESSAGE(Same(got.allow_hits, want.allow_hits), "step " << step << " query " << qn);
    }
  }
}

}  // namespace

TEST_CASE("match index equals a brute-force model under interleaved adds and removes, every strategy and kernel") {
  for (const auto* k : SupportedKernels()) {
    for (auto strategy : {idx::PdqStrategy::kLinear, idx::PdqStrategy::kMultiIndex, idx::PdqStrategy::kBySize}) {
      CAPTURE(k->name);
      CAPTURE(static_cast<int>(strategy));
      RunModelTest({strategy, k->table}, 42);
    }
  }
}

TEST_CASE("block and allow hits are both reported: disabled lists and low quality report none") {
  MatchIndex index;
  index.PutList({1, ListKind::kBlock, 31, true});
  index.PutList({2, ListKind::kAllow, 5, true});
  std::mt19937_64 rng(5);
  base::PdqHash h = RandomPdq(rng);
  index.Apply(1, {{SignalType::kPdq, Raw(h)}}, {});
  idx::ScreenQuery q;
  q.use_pdq = true;
  q.num_pdq = 1;
  q.pdq[0] = FlipBits(h, 3, rng);
  auto r = index.Screen(q);
  CHECK(r.allow_hits.empty());
  REQUIRE(r.block_hits.size() == 1);
  CHECK(r.block_hits[0].distance == base::Distance(h, q.pdq[0]));
  index.Apply(2, {{SignalType::kPdq, Raw(h)}}, {});
  r = index.Screen(q);
  CHECK(r.block_hits.size() == 1);
  CHECK(r.allow_hits.size() == 1);
  index.PutList({2, ListKind::kAllow, 5, false});  // a disabled list reports nothing
  CHECK(index.Screen(q).allow_hits.empty());
  CHECK(index.Screen(q).block_hits.size() == 1);
  q.use_pdq = false;  // low quality: PDQ not used at all
  CHECK(index.Screen(q).block_hits.empty());
}

TEST_CASE("readers keep screening while a writer applies batches") {
  MatchIndex index;
  index.PutList({1, ListKind::kBlock, 31, true});
  std::mt19937_64 rng(6);
  auto hashes = ClusteredHashes(20000, rng);
  base::PdqHash planted = hashes[0];
  index.Apply(1, {{SignalType::kPdq, Raw(planted)}}, {});
  std::atomic<bool> stop{false};
  std::atomic<int> misses{0}, screens{0};
  std::thread reader([&] {
    idx::ScreenQuery q;
    q.use_pdq = true;
    q.num_pdq = 8;
    for (auto& p : q.pdq) p = RandomPdq(rng);
    q.pdq[3] = planted;
    while (!stop) {
      auto r = index.Screen(q);
      if (r.block_hits.empty() || r.block_hits[0].distance != 0) ++misses;
      ++screens;
    }
  });
  std::vector<std::string> raws;  // SignalRef views these
  for (const auto& h : hashes) raws.push_back(Raw(h));
  for (size_t i = 1; i < hashes.size(); i += 500) {
    std::vector<idx::SignalRef> add;
    for (size_t j = i; j < std::min(hashes.size(), i + 500); ++j) add.push_back({SignalType::kPdq, raws[j]});
    index.Apply(1, add, {});
  }
  stop = true;
  reader.join();
  CHECK(misses == 0);
  CHECK(screens > 0);
  CHECK(index.pdq_hashes() == hashes.size());
}

TEST_CASE("pdq_hashes counts live PDQ hashes: withdrawn ones drop out at once, digests never count") {
  MatchIndex index;
  index.PutList({1, ListKind::kBlock, 31, true});
  index.PutList({2, ListKind::kBlock, 31, true});
  std::mt19937_64 rng(9);
  std::vector<std::string> raws;
  for (int i = 0; i < 6; ++i) raws.push_back(Raw(RandomPdq(rng)));
  const std::string md5(16, 'm');
  index.Apply(1, {{SignalType::kPdq, raws[0]}, {SignalType::kPdq, raws[1]}, {SignalType::kPdq, raws[2]}}, {});
  index.Apply(2, {{SignalType::kPdq, raws[3]}, {SignalType::kMd5, md5}}, {});
  CHECK(index.pdq_hashes() == 4);
  // Withdrawn: hidden by a tombstone before any merge rewrites the segment.
  index.Apply(1, {}, {{SignalType::kPdq, raws[1]}});
  index.Apply(2, {}, {{SignalType::kMd5, md5}});
  CHECK(index.pdq_hashes() == 3);
  // Added back and withdrawn in one batch (adds apply first): no change.
  index.Apply(1, {{SignalType::kPdq, raws[4]}}, {{SignalType::kPdq, raws[4]}});
  CHECK(index.pdq_hashes() == 3);
  index.WaitForMerges();
  CHECK(index.pdq_hashes() == 3);
  index.Load(1, {});
  CHECK(index.pdq_hashes() == 1);
}
