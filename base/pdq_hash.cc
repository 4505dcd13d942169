#include "base/pdq_hash.h"

#include "base/hex.h"

namespace base {

std::string PdqHash::ToHex() const { return HexEncode(bytes); }

Status PdqHash::FromHex(std::string_view hex, PdqHash* out) {
  Status s = HexDecode(hex, out->bytes);
  if (!s.ok()) return s.WithContext("PDQ hash");
  return s;
}

}  // namespace base
