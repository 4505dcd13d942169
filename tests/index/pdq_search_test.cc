#include <doctest/doctest.h>

#include <random>

#include "index/pdq_search.h"
#include "tests/index/pdq_test_data.h"

using namespace store_test;
using idx::PdqMatch;

TEST_CASE("every SIMD scan kernel equals the scalar reference, tails and all") {
  std::mt19937_64 rng(1);
  auto kernels = SupportedKernels();
  MESSAGE("kernels on this CPU: " << kernels.size());
  for (size_t n : {0, 1, 3, 4, 7, 8, 9, 15, 17, 63, 64, 65, 1000}) {
    auto hay = ClusteredHashes(n, rng);
    auto needles = Needles(hay, 8, rng);
    for (int num : {1, 3, 8}) {
      for (int radius : {0, 5, 31, 63, 128, 256}) {
        MatchSet want = BruteForce(hay, needles.data(), num, radius);
        for (const auto* k : kernels) {
          std::vector<PdqMatch> got(hay.size() * num);
          got.resize(k->table->scan(hay.data(), hay.size(), needles.data(), num, radius, got.data()));
          CHECK_MESSAGE(ToSet(got) == want, k->name << " n=" << n << " needles=" << num << " r=" << radius);
          CHECK(got.size() == want.size());  // the scan reports each pair once
          std::vector<uint32_t> ids(hay.size());
          for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<uint32_t>(ids.size() - 1 - i);
          got.assign(ids.size(), PdqMatch{});
          got.resize(k->table->verify_ids(hay.data(), ids.data(), ids.size(), &needles[num - 1], num - 1, radius,
                                          got.data()));
          MatchSet single;
          for (auto [i, j, d] : BruteForce(hay, &needles[num - 1], 1, radius)) single.insert({i, num - 1, d});
          CHECK_MESSAGE(ToSet(got) == single, k->name << " verify_ids n=" << n << " r=" << radius);
        }
      }
    }
  }
}

TEST_CASE("every SIMD partner filter equals the scalar reference, tails and all") {
  std::mt19937_64 rng(11);
  const auto& scalar = *idx::PdqScanKernelFamily().all()[0].table;
  for (size_t n : {0, 1, 7, 15, 16, 17, 31, 33, 100, 1000}) {
    std::vector<uint16_t> partners(n);
    std::vector<uint32_t> ids(n);
    for (size_t i = 0; i < n; ++i) {
      partners[i] = static_cast<uint16_t>(rng());
      ids[i] = static_cast<uint32_t>(rng());
    }
    const uint16_t probe = static_cast<uint16_t>(rng());
    for (int budget = 0; budget <= 16; ++budget) {
      std::vector<uint32_t> want(n), got(n);
      want.resize(scalar.filter_partners(partners.data(), ids.data(), n, probe, budget, want.data()));
      for (const auto* k : SupportedKernels()) {
        got.assign(n, 0);
        got.resize(k->table->filter_partners(partners.data(), ids.data(), n, probe, budget, got.data()));
        CHECK_MESSAGE(got == want, k->name << " n=" << n << " budget=" << budget);
      }
    }
  }
}

TEST_CASE("linear scan and multi-index equal brute force on clustered lists, radii 0..63, every kernel") {
  std::mt19937_64 rng(2);
  auto hay = ClusteredHashes(6000, rng);
  auto needles = Needles(hay, 16, rng);
  for (const auto* k : SupportedKernels()) {
    idx::LinearPdqSearch linear(hay.data(), hay.size(), k->table);
    idx::MultiIndexPdqSearch mih(hay.data(), hay.size(), k->table);
    for (int radius = 0; radius <= 63; ++radius) {
      for (int q = 0; q < 2; ++q) {
        const base::PdqHash* nd = needles.data() + 8 * q;
        MatchSet want = BruteForce(hay, nd, 8, radius);
        std::vector<PdqMatch> a, b;
        linear.Search(nd, 8, radius, &a);
        mih.Search(nd, 8, radius, &b);
        CHECK_MESSAGE(ToSet(a) == want, "linear " << k->name << " r=" << radius);
        CHECK_MESSAGE(ToSet(b) == want, "multi-index " << k->name << " r=" << radius);
      }
    }
  }
}

// Queries carry up to 16 hashes (dihedral + trimmed sets) and the kernels
// take 8 per pass: a search of 9..16 needles is two passes, and the second
// pass's matches must name needles 8..15, not 0..7.
TEST_CASE("more than 8 needles: linear scan and multi-index equal brute force, needle numbers kept") {
  std::mt19937_64 rng(4);
  auto hay = ClusteredHashes(3000, rng);
  auto needles = Needles(hay, 16, rng);
  for (const auto* k : SupportedKernels()) {
    idx::LinearPdqSearch linear(hay.data(), hay.size(), k->table);
    idx::MultiIndexPdqSearch mih(hay.data(), hay.size(), k->table);
    for (int num : {9, 15, 16}) {
      for (int radius : {0, 20, 31, 63, 100}) {
        MatchSet want = BruteForce(hay, needles.data(), num, radius);
        std::vector<PdqMatch> a, b;
        linear.Search(needles.data(), num, radius, &a);
        mih.Search(needles.data(), num, radius, &b);
        CHECK_MESSAGE(ToSet(a) == want, "linear " << k->name << " needles=" << num << " r=" << radius);
        CHECK_MESSAGE(ToSet(b) == want, "multi-index " << k->name << " needles=" << num << " r=" << radius);
      }
    }
  }
}

TEST_CASE("multi-index stays exact above radius 63 and on an empty list") {
  std::mt19937_64 rng(3);
  auto hay = ClusteredHashes(500, rng);
  auto needles = Needles(hay, 8, rng);
  idx::MultiIndexPdqSearch mih(hay.data(), hay.size());
  std::vector<PdqMatch> got;
  mih.Search(needles.data(), 8, 100, &got);
  CHECK(ToSet(got) == BruteForce(hay, needles.data(), 8, 100));
  idx::MultiIndexPdqSearch empty(nullptr, 0);
  got.clear();
  empty.Search(needles.data(), 8, 31, &got);
  CHECK(got.empty());
}

TEST_CASE("MakePdqSearch picks the linear scan for small lists and the multi-index for large ones") {
  std::vector<base::PdqHash> hay(idx::kMultiIndexMinHashes);
  CHECK(std::string(idx::MakePdqSearch(hay.data(), 10)->strategy()) == "linear");
  CHECK(std::string(idx::MakePdqSearch(hay.data(), hay.size())->strategy()) == "multi-index");
}
