#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "base/hex.h"
#include "base/merkle.h"

using base::Sha256Digest;

namespace {

Sha256Digest RfcLeaf(const std::string& data) { return base::Sha256Of({std::string_view("\x00", 1), data}); }

// The RFC 6962 test leaves (certificate-transparency's merkle_tree_test).
std::vector<Sha256Digest> RfcLeaves(size_t n) {
  const std::vector<std::string> inputs = {"",
                                           std::string("\x00", 1),
                                           "\x10",
                                           "\x20\x21",
                                           "\x30\x31",
                                           "\x40\x41\x42\x43",
                                           "\x50\x51\x52\x53\x54\x55\x56\x57",
                                           "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
  std::vector<Sha256Digest> out;
  for (size_t i = 0; i < n; ++i) out.push_back(RfcLeaf(inputs[i]));
  return out;
}

std::string RootHex(const std::vector<Sha256Digest>& leaves) {
  Sha256Digest root{};
  REQUIRE(base::MerkleRoot(leaves, &root).ok());
  return base::HexEncode(root);
}

}  // namespace

TEST_CASE("Merkle roots equal RFC 6962's test vectors") {
  CHECK(RootHex(RfcLeaves(1)) == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  CHECK(RootHex(RfcLeaves(2)) == "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125");
  CHECK(RootHex(RfcLeaves(3)) == "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77");
  CHECK(RootHex(RfcLeaves(5)) == "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4");
  CHECK(RootHex(RfcLeaves(7)) == "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c");
  CHECK(RootHex(RfcLeaves(8)) == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
  Sha256Digest root{};
  CHECK(base::MerkleRoot({}, &root).code() == base::Status::Code::kInvalidArgument);
}

// The count is not bound by the path (a path of the first leaf reads the same
// for several sizes, as in RFC 9162): the audit entry holds it.
TEST_CASE("every leaf's inclusion path gives the root, and no other leaf or index does") {
  for (size_t n = 1; n <= 37; ++n) {
    std::vector<Sha256Digest> leaves;
    for (size_t i = 0; i < n; ++i) leaves.push_back(RfcLeaf("leaf " + std::to_string(i)));
    Sha256Digest root{};
    REQUIRE(base::MerkleRoot(leaves, &root).ok());
    for (size_t i = 0; i < n; ++i) {
      std::vector<Sha256Digest> path;
      REQUIRE(base::MerklePath(leaves, i, &path).ok());
      Sha256Digest got{};
      REQUIRE(base::MerkleRootFromPath(leaves[i], i, n, path, &got).ok());
      CHECK(got == root);
      // Another leaf at this place, this leaf at another place, a changed
      // sibling: never the same root.
      if (n > 1) {
        Sha256Digest other{};
        if (base::MerkleRootFromPath(leaves[(i + 1) % n], i, n, path, &other).ok()) CHECK(other != root);
        if (base::MerkleRootFromPath(leaves[i], (i + 1) % n, n, path, &other).ok()) CHECK(other != root);
        std::vector<Sha256Digest> bent = path;
        bent[0][0] ^= 1;
        REQUIRE(base::MerkleRootFromPath(leaves[i], i, n, bent, &other).ok());
        CHECK(other != root);
      }
    }
    std::vector<Sha256Digest> path;
    CHECK(base::MerklePath(leaves, n, &path).code() == base::Status::Code::kInvalidArgument);
    Sha256Digest got{};
    CHECK(base::MerkleRootFromPath(leaves[0], n, n, {}, &got).code() == base::Status::Code::kInvalidArgument);
  }
}

TEST_CASE("batch leaf bytes separate every field") {
  base::PdqHash a, b;
  a.SetBit(3);
  b.SetBit(200);
  const std::vector<base::PdqHash> one = {a}, two = {a, b};
  base::BatchLeafItem x;
  x.ref = "img";
  x.pdq = one;
  x.quality = 80;
  base::BatchLeafItem y = x;
  CHECK(base::BatchLeafHash(x) == base::BatchLeafHash(y));
  y.pdq = two;
  CHECK(base::BatchLeafHash(x) != base::BatchLeafHash(y));
  y = x;
  y.quality = -1;
  CHECK(base::BatchLeafHash(x) != base::BatchLeafHash(y));
  y = x;
  y.md5 = base::Md5Digest{};
  CHECK(base::BatchLeafHash(x) != base::BatchLeafHash(y));
  y = x;
  y.sha256 = base::Sha256Digest{};
  CHECK(base::BatchLeafHash(x) != base::BatchLeafHash(y));
  y = x;
  y.ref = "img2";
  CHECK(base::BatchLeafHash(x) != base::BatchLeafHash(y));
  // The fixed layout: domain, ref length, ref, count, hash, quality, flags.
  const std::string bytes = base::BatchLeafBytes(x);
  CHECK(bytes.size() == 24 + 4 + 3 + 1 + 32 + 4 + 1 + 1);
  CHECK(bytes.substr(0, 24) == "hashscreen batch leaf v1");
}
