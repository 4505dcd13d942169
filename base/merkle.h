// Merkle tree over the no-match items of a hash batch: one SHA-256 root
// stands in the audit log for up to thousands of items, and any one item can
// later be shown to be among them with log2(n) sibling hashes.
//
// The tree is RFC 9162's (Certificate Transparency v2) with SHA-256:
//   leaf hash  = SHA-256(0x00 || leaf bytes)
//   node hash  = SHA-256(0x01 || left || right)
//   MTH(D[0:n]) for n > 1 = node(MTH(D[0:k]), MTH(D[k:n])), k the largest
//   power of two below n; MTH of one leaf is its leaf hash.
// The 0x00/0x01 prefixes keep a leaf from ever being read as a node.
//
// The leaf bytes of one batch item (BatchLeafBytes) are, in order:
//   "hashscreen batch leaf v1"            (24 bytes, the domain)
//   U32 ref length, ref bytes             (the caller's ref, as sent)
//   U8 number of PDQ hashes (0..8), then each hash's 32 bytes (hex order)
//   U32 quality as two's complement       (0xFFFFFFFF: not given)
//   U8 1 + 16 bytes MD5, or U8 0
//   U8 1 + 32 bytes SHA-256, or U8 0
// integers big-endian (base/coding.h). Every field is length-delimited, so
// two different items never have the same bytes.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/crypto.h"
#include "base/pdq_hash.h"
#include "base/status.h"

namespace base {

// The hashes of one item of a hash-only screen, as the caller sent them.
struct BatchLeafItem {
  std::string_view ref;
  std::span<const PdqHash> pdq;  // the dihedral set, original first; may be empty
  int quality = -1;              // -1: not given
  std::optional<Md5Digest> md5;
  std::optional<Sha256Digest> sha256;
};

std::string BatchLeafBytes(const BatchLeafItem& item);
// SHA-256(0x00 || BatchLeafBytes(item)).
Sha256Digest BatchLeafHash(const BatchLeafItem& item);

// MTH over `leaves` (leaf hashes). InvalidArgument for no leaves.
Status MerkleRoot(std::span<const Sha256Digest> leaves, Sha256Digest* root);

// The inclusion path of leaf `index`: sibling hashes from the leaf upwards.
// InvalidArgument when index >= leaves.size().
Status MerklePath(std::span<const Sha256Digest> leaves, size_t index, std::vector<Sha256Digest>* path);

// The root that `leaf` at `index` of a tree of `count` leaves has with
// `path` (RFC 9162 section 2.1.3.2). InvalidArgument when the path does not
// fit the index and count (wrong length, index out of range).
Status MerkleRootFromPath(const Sha256Digest& leaf, size_t index, size_t count, std::span<const Sha256Digest> path,
                          Sha256Digest* root);

}  // namespace base
