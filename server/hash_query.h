// HashQuery: the hashes of one hash-only screen as the caller sent them, the
// body of POST /v1/screen/hashes and each item of /v1/screen/hashes/batch,
// parsed strictly (docs/api.md "Screening hashes").
//
// Fields (any non-empty subset of the hash fields):
//   "pdq":     one 64-hex hash, or an array of 1..8 of them: the dihedral set
//              of the image, original first (what `hashscreen scan` sends:
//              the hashes of the rotated and mirrored pictures, as the
//              upload path queries them)
//   "quality": the PDQ quality 0..100; below screening.min_quality the PDQ
//              hashes are not used, only the digests (as for uploads)
//   "md5", "sha256": hex digests
//   "ref":     the caller's reference (<= 256 bytes, no control characters)
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "base/merkle.h"
#include "base/pdq_hash.h"
#include "server/api.h"
#include "server/config.h"

namespace idx {
struct ScreenQuery;
}

namespace server {

inline constexpr size_t kMaxPdqVariants = 8;

struct HashQuery {
  std::string ref;
  std::vector<base::PdqHash> pdq;  // 0..8, original first
  int quality = -1;                // -1: not given (the PDQ hashes are used)
  std::optional<base::Md5Digest> md5;
  std::optional<base::Sha256Digest> sha256;

  // The item as a Merkle leaf (base/merkle.h): ref and every hash as sent.
  base::BatchLeafItem Leaf() const;
  // The index query: the PDQ hashes labelled 0..7 (their dihedral variant
  // codes), only the first with screening.dihedral off, none when quality
  // is below screening.min_quality; the digests always.
  void ToScreenQuery(const ServerConfig& config, idx::ScreenQuery* q) const;
};

// Parses the fields above from object `j`, which may hold no others.
// InvalidArgument, prefixed with `where` (e.g. "items[3]: "), for an unknown
// field, a wrong type, a malformed hash, more than 8 PDQ hashes, a quality
// outside 0..100, a bad ref or no hash at all.
Status ParseHashQuery(const json& j, const std::string& where, HashQuery* out);

}  // namespace server
