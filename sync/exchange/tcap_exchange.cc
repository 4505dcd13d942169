// The tcap kind's fetch loop (Exchange::RunTcap). Each page is applied with
// the checkpoint TCAP gives for its last record, in one atomic write, so a
// restart resumes after the last page applied; re-applying a page is
// harmless (DeltaBatch keeps only what changes the list). A whole refetch
// (a list that has entries but no checkpoint, a checkpoint older than
// stale_after_s, or one the server refuses) gathers every page first and
// applies them as a full list, withdrawing what TCAP no longer lists.
#include <algorithm>

#include "base/clock.h"
#include "sync/exchange/exchange.h"

namespace hsync {

Status Exchange::RunTcap(int64_t* retry_after_s) {
  ExchangeState state;
  {
    std::lock_guard l(mu_);
    state = state_;
  }
  const bool stale = state.last_success_ms > 0 && base::NowMs() - state.last_success_ms > config_.stale_after_s * 1000;
  std::string after = TcapCheckpointOk(state.checkpoint) ? state.checkpoint : "";
  bool full = stale;
  if (after.empty()) {
    // From the beginning: into an empty list page by page (resumable), into
    // one that holds entries as a whole list (it may hold what is gone).
    store::ListInfo info;
    HS_RETURN_IF_ERROR(lists_->GetList(list_id_, &info));
    full = info.signal_count > 0;
  }
  if (stale) Log(LogLevel::kWarn, "the checkpoint is stale (older than stale_after_s): fetching the whole list");
  if (full) after.clear();
  WholeList whole;
  size_t pages = 0, records = 0, skipped = 0, invalid = 0;
  for (;;) {
    if (Stopping()) return Status::Unavailable("canceled");
    TcapPage page;
    TcapClient::Outcome outcome;
    HS_RETURN_IF_ERROR(tcap_->Fetch(after, &page, &outcome, retry_after_s));
    if (outcome == TcapClient::Outcome::kCheckpointRefused) {
      // Once per fetch: a checkpoint refused during a whole refetch is one
      // TCAP just gave, and starting over would loop.
      if (full) return Status::Unavailable("TCAP refused the checkpoint '" + after + "' it gave during a whole refetch");
      Log(LogLevel::kWarn, "TCAP refused the checkpoint '" + after + "' (too old or unknown): fetching the whole list");
      full = true;
      after.clear();
      whole = WholeList();
      continue;
    }
    ++pages;
    records += page.records.size();
    skipped += page.skipped;
    invalid += page.invalid;
    if (page.invalid > 0) {
      Log(LogLevel::kWarn, std::to_string(page.invalid) + " record(s) with a digest that is not a hash of its algorithm skipped (" +
                               page.first_invalid + ")");
    }
    const std::string reached = page.checkpoint.empty() ? after : page.checkpoint;
    HS_RETURN_IF_ERROR(TakePage(page.records, full ? &whole : nullptr, reached, "TCAP list"));
    if (!page.has_next) {
      after = reached;
      break;
    }
    if (reached == after) {
      return Status::InvalidArgument("TCAP page: `next` is set but the checkpoint did not move past '" + after + "'");
    }
    after = reached;
  }
  if (full) HS_RETURN_IF_ERROR(ApplyWhole(&whole, after));
  const std::string counts = std::to_string(pages) + " TCAP pages, " + std::to_string(records) + " records applied, " +
                             std::to_string(skipped) + " of algorithms not screened skipped, " +
                             std::to_string(invalid) + " invalid skipped";
  Log(skipped + invalid > 0 ? LogLevel::kInfo : LogLevel::kDebug, counts);
  return Status::Ok();
}

}  // namespace hsync
