#include "base/query_variant.h"

namespace base {

const char* QueryVariantName(int variant) {
  static constexpr const char* kNames[kNumQueryVariants] = {
      "orig",    "rot90",         "rot180",         "rot270",         "flipx",         "flipy",
      "flipplus1", "flipminus1",  "trimmed",        "trimmed+rot90",  "trimmed+rot180", "trimmed+rot270",
      "trimmed+flipx", "trimmed+flipy", "trimmed+flipplus1", "trimmed+flipminus1"};
  return variant >= 0 && variant < kNumQueryVariants ? kNames[variant] : "unknown";
}

}  // namespace base
