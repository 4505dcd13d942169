// The stopncii kind's fetch loop (Exchange::RunStopNcii). Records are
// snapshots per hash, so re-applying a page is harmless; nextSetTimestamp is
// only trusted once the last page of a fetch is applied (pages of one fetch
// have been seen to carry smaller values than earlier ones), and it never
// moves the checkpoint back.
#include <algorithm>

#include "base/clock.h"
#include "base/number_parse.h"
#include "sync/exchange/exchange.h"

namespace hsync {

namespace {
// pytx's "everything" start (StopNCII's history begins long after it).
constexpr int64_t kEverything = 10;
}  // namespace

Status Exchange::RunStopNcii(int64_t* retry_after_s) {
  ExchangeState state;
  {
    std::lock_guard l(mu_);
    state = state_;
  }
  const bool stale = state.last_success_ms > 0 && base::NowMs() - state.last_success_ms > config_.stale_after_s * 1000;
  int64_t start = -1;
  if (!state.checkpoint.empty() && !stale) {
    if (!base::ParseInt(state.checkpoint, "checkpoint", 0, INT64_MAX / 1000, &start).ok()) start = -1;
  }
  const bool full = start < 0;
  if (full && stale) Log(LogLevel::kWarn, "the checkpoint is stale (older than stale_after_s): fetching everything");
  if (full) start = kEverything;
  WholeList whole;
  int64_t next_set = start;
  std::string token;
  size_t pages = 0, records = 0, skipped = 0;
  for (;;) {
    if (Stopping()) return Status::Unavailable("canceled");
    StopNciiPage page;
    HS_RETURN_IF_ERROR(stopncii_->Fetch(start, token, &page, retry_after_s));
    ++pages;
    records += page.records.size();
    skipped += page.skipped;
    if (page.next_set_timestamp >= 0) next_set = page.next_set_timestamp;
    if (!page.has_more && next_set < start) {
      Log(LogLevel::kWarn, "nextSetTimestamp " + std::to_string(next_set) + " is before the checkpoint " +
                               std::to_string(start) + ": the checkpoint stays");
      next_set = start;
    }
    HS_RETURN_IF_ERROR(
        TakePage(page.records, full ? &whole : nullptr, std::to_string(page.has_more ? start : next_set), "StopNCII set"));
    if (!page.has_more) break;
    token = page.next_page_token;
  }
  if (full) HS_RETURN_IF_ERROR(ApplyWhole(&whole, std::to_string(next_set)));
  Log(LogLevel::kDebug, std::to_string(pages) + " FetchHashes pages, " + std::to_string(records) + " ImagePDQ records, " +
                            std::to_string(skipped) + " of other types skipped");
  return Status::Ok();
}

}  // namespace hsync
