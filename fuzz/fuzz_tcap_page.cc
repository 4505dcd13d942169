// libFuzzer target: the TCAP hash list page parser (sync/exchange/
// tcap_client.h), the bytes the tcap exchange takes from the partner. A page
// that parses must keep its promises: a checkpoint in TCAP's "<time>,<id>"
// form whenever `next` is set or records came, every record a hash of its
// type's length with a bounded reference and bounded tags, and the counts
// never exceeding the records read.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sync/exchange/tcap_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  hsync::TcapPage page;
  if (!hsync::ParseTcapPage(bytes, &page).ok()) return 0;
  if ((page.has_next || !page.records.empty()) && !hsync::TcapCheckpointOk(page.checkpoint)) std::abort();
  if (!page.checkpoint.empty() && !hsync::TcapCheckpointOk(page.checkpoint)) std::abort();
  if (page.invalid > 0 && page.first_invalid.empty()) std::abort();
  for (const hsync::TcapRecord& r : page.records) {
    if (r.entry.hash.size() != base::SignalHashBytes(r.entry.type)) std::abort();
    if (r.entry.ref.empty() || r.entry.ref.size() > base::kMaxRefBytes) std::abort();
    if (r.meta.tags.size() > store::kMaxSignalTags) std::abort();
    for (const auto& t : r.meta.tags) {
      if (t.empty() || t.size() > store::kMaxSignalTagBytes) std::abort();
    }
    if (r.meta.first_seen_ms < 0) std::abort();
  }
  return 0;
}
