// libFuzzer targets: the pages partners' exchanges answer (hostile input
// from the network), one target per parser, chosen by FUZZ_PAGE:
//   1 ParseNcmecPage     (NCMEC hash sharing v2, XML through expat)
//   2 ParseStopNciiPage  (StopNCII FetchHashes, JSON)
//   3 ParseThreatUpdates (ThreatExchange threat_updates, JSON)
//   4 ParseTcapPage      (TCAP hash list v2, JSON)
// A page that parses must keep the promises the appliers rely on: every
// signal a hash of its type's length with a reference within the limit,
// tags bounded in number and size, ThreatExchange descriptor ids only
// digits (they go into a URL path); TCAP's checkpoint in its "<time>,<id>"
// form whenever `next` is set or records came; and a parse that fails
// leaves the output as it was (NCMEC, StopNCII, ThreatExchange).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "store/hash_lists.h"
#include "sync/exchange/ncmec_client.h"
#include "sync/exchange/partner_update.h"
#include "sync/exchange/stopncii_client.h"
#include "sync/exchange/tcap_client.h"
#include "sync/exchange/threat_exchange.h"

namespace {

void CheckSignal(const base::SignalEntry& e) {
  if (!base::IsValidSignalType(static_cast<uint8_t>(e.type))) std::abort();
  if (e.hash.size() != base::SignalHashBytes(e.type)) std::abort();
  if (e.ref.size() > base::kMaxRefBytes) std::abort();
}

void CheckMeta(const store::SignalMeta& m) {
  if (m.tags.size() > store::kMaxSignalTags) std::abort();
  for (const std::string& t : m.tags) {
    if (t.empty() || t.size() > store::kMaxSignalTagBytes) std::abort();
  }
}

// Unused by the NCMEC target, whose pages are not PartnerUpdates.
[[maybe_unused]] void CheckUpdate(const hsync::PartnerUpdate& u) {
  CheckSignal(u.entry);
  CheckMeta(u.meta);
  for (const std::string& id : hsync::ThreatDescriptorIds(u.meta.tags)) {
    if (!hsync::IsThreatDescriptorId(id)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
#if FUZZ_PAGE == 1
  hsync::NcmecPage page;
  page.next = "untouched";
  if (!hsync::ParseNcmecPage(body, &page).ok()) {
    if (page.next != "untouched" || !page.entries.empty()) std::abort();
    return 0;
  }
  for (const hsync::NcmecEntry& e : page.entries) {
    if (e.ref.size() > base::kMaxRefBytes) std::abort();
    if (e.deleted && !e.signals.empty()) std::abort();
    for (const base::SignalEntry& s : e.signals) CheckSignal(s);
    CheckMeta(e.meta);
  }
#elif FUZZ_PAGE == 2
  hsync::StopNciiPage page;
  page.next_page_token = "untouched";
  if (!hsync::ParseStopNciiPage(body, &page).ok()) {
    if (page.next_page_token != "untouched" || !page.records.empty()) std::abort();
    return 0;
  }
  for (const hsync::StopNciiRecord& r : page.records) CheckUpdate(r);
  if (page.has_more && page.next_page_token.empty()) std::abort();
#elif FUZZ_PAGE == 3
  hsync::ThreatUpdatePage page;
  page.next = "untouched";
  if (!hsync::ParseThreatUpdates(body, &page).ok()) {
    if (page.next != "untouched" || !page.updates.empty()) std::abort();
    return 0;
  }
  for (const hsync::ThreatUpdate& u : page.updates) {
    CheckUpdate(u);
    if (u.last_updated < 0 || u.last_updated > page.max_last_updated) std::abort();
  }
#elif FUZZ_PAGE == 4
  hsync::TcapPage page;
  if (!hsync::ParseTcapPage(body, &page).ok()) return 0;
  if ((page.has_next || !page.records.empty()) && !hsync::TcapCheckpointOk(page.checkpoint)) std::abort();
  if (!page.checkpoint.empty() && !hsync::TcapCheckpointOk(page.checkpoint)) std::abort();
  if (page.invalid > 0 && page.first_invalid.empty()) std::abort();
  for (const hsync::TcapRecord& r : page.records) {
    CheckUpdate(r);
    if (r.entry.ref.empty() || r.meta.first_seen_ms < 0) std::abort();
  }
#else
#error "FUZZ_PAGE must be 1 (NCMEC), 2 (StopNCII), 3 (ThreatExchange) or 4 (TCAP)"
#endif
  return 0;
}
