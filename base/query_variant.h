// QueryVariant: which of an uploaded image's PDQ hashes matched a list hash,
// as audit entries record it for reviewers. The values are stored (audit
// log): never renumber.
//   0..7   the image's dihedral variants, in the reference's order: orig,
//          rot90, rot180, rot270, flipx, flipy, flipplus1, flipminus1;
//   8..15  the same variants of the picture inside the image's uniform
//          borders or bars (hashing::HashOptions::trim_borders).
// Digest hits record 0. Thread-safety: pure functions.
#pragma once

namespace base {

inline constexpr int kNumDihedralVariants = 8;
inline constexpr int kTrimmedVariantBase = 8;
inline constexpr int kNumQueryVariants = 16;

// "orig", "rot90", ..., "trimmed", "trimmed+rot90", ...; "unknown" for a
// value outside 0..15.
const char* QueryVariantName(int variant);

}  // namespace base
