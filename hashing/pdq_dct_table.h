// The PDQ DCT matrix: D[u][k] = float(s * cos(pi/2/64 * (u+1) * (2k+1))) with
// s = float(sqrt(2/64)), for u = 0..15 and k = 0..63. Row u is DCT-II
// frequency u+1 (the DC term is excluded).
//
// The values are frozen in the source (hex floats) rather than computed with
// the platform's libm, so that a different cos() can never move a bit. A test
// checks the table's SHA-256 against the value in the conformance README.
#pragma once

namespace hashing {

alignas(64) extern const float kPdqDct[16][64];

}  // namespace hashing
