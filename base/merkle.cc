#include "base/merkle.h"

#include "base/coding.h"

namespace base {

namespace {

constexpr std::string_view kLeafDomain = "hashscreen batch leaf v1";

Sha256Digest NodeHash(const Sha256Digest& left, const Sha256Digest& right) {
  return Sha256Of({std::string_view("\x01", 1), AsBytes(left), AsBytes(right)});
}

// The largest power of two strictly below n (n > 1).
size_t SplitPoint(size_t n) {
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Sha256Digest Mth(std::span<const Sha256Digest> d) {
  if (d.size() == 1) return d[0];
  const size_t k = SplitPoint(d.size());
  return NodeHash(Mth(d.first(k)), Mth(d.subspan(k)));
}

void Path(std::span<const Sha256Digest> d, size_t m, std::vector<Sha256Digest>* out) {
  if (d.size() <= 1) return;
  const size_t k = SplitPoint(d.size());
  if (m < k) {
    Path(d.first(k), m, out);
    out->push_back(Mth(d.subspan(k)));
  } else {
    Path(d.subspan(k), m - k, out);
    out->push_back(Mth(d.first(k)));
  }
}

}  // namespace

std::string BatchLeafBytes(const BatchLeafItem& item) {
  std::string s(kLeafDomain);
  PutU32(&s, static_cast<uint32_t>(item.ref.size()));
  s.append(item.ref);
  s.push_back(static_cast<char>(item.pdq.size()));
  for (const PdqHash& h : item.pdq) s.append(AsBytes(h.bytes));
  PutU32(&s, static_cast<uint32_t>(static_cast<int32_t>(item.quality)));
  s.push_back(item.md5 ? 1 : 0);
  if (item.md5) s.append(AsBytes(*item.md5));
  s.push_back(item.sha256 ? 1 : 0);
  if (item.sha256) s.append(AsBytes(*item.sha256));
  return s;
}

Sha256Digest BatchLeafHash(const BatchLeafItem& item) {
  return Sha256Of({std::string_view("\x00", 1), BatchLeafBytes(item)});
}

Status MerkleRoot(std::span<const Sha256Digest> leaves, Sha256Digest* root) {
  if (leaves.empty()) return Status::InvalidArgument("a Merkle tree needs at least one leaf");
  *root = Mth(leaves);
  return Status::Ok();
}

Status MerklePath(std::span<const Sha256Digest> leaves, size_t index, std::vector<Sha256Digest>* path) {
  if (index >= leaves.size()) {
    return Status::InvalidArgument("leaf " + std::to_string(index) + " is not in a tree of " +
                                   std::to_string(leaves.size()) + " leaves");
  }
  path->clear();
  Path(leaves, index, path);
  return Status::Ok();
}

Status MerkleRootFromPath(const Sha256Digest& leaf, size_t index, size_t count, std::span<const Sha256Digest> path,
                          Sha256Digest* root) {
  if (index >= count) {
    return Status::InvalidArgument("leaf " + std::to_string(index) + " is not in a tree of " + std::to_string(count) +
                                   " leaves");
  }
  size_t fn = index, sn = count - 1;
  Sha256Digest r = leaf;
  for (const Sha256Digest& p : path) {
    if (sn == 0) return Status::InvalidArgument("the inclusion path is longer than the tree is deep");
    if ((fn & 1) || fn == sn) {
      r = NodeHash(p, r);
      while (!(fn & 1) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Status::InvalidArgument("the inclusion path is shorter than the tree is deep");
  *root = r;
  return Status::Ok();
}

}  // namespace base
