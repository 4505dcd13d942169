// libFuzzer target: the feed's binary wire encoding (sync/feed_codec.h), the
// bytes a follower takes from its primary. A page that decodes must keep its
// promises (every change's seq inside its record's range, hashes of their
// type's length, references within the limit), and encoding it again must
// decode to the same bytes once more.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sync/feed_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  store::FeedPage page;
  std::string primary;
  if (!hsync::DecodeFeedPage(bytes, &page, &primary).ok()) return 0;
  for (const store::FeedItem& item : page.items) {
    if (item.record.kind != store::FeedKind::kBatch) continue;
    for (const store::Change& c : item.changes) {
      if (c.seq < item.record.first_change || c.seq > item.record.last_change) std::abort();
      if (c.hash.size() != base::SignalHashBytes(c.type) || c.ref.size() > base::kMaxRefBytes) std::abort();
    }
  }
  std::string once, twice;
  hsync::EncodeFeedPage(page, primary, &once);
  store::FeedPage again;
  std::string primary_again;
  if (!hsync::DecodeFeedPage(once, &again, &primary_again).ok()) std::abort();
  hsync::EncodeFeedPage(again, primary_again, &twice);
  if (once != twice || primary_again != primary) std::abort();
  return 0;
}
