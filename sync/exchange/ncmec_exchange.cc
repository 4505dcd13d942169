// The ncmec kind's fetch loop (Exchange::RunNcmec): NCMEC returns a window's
// entries in no time order, so a window's end becomes the checkpoint only
// once its last page is applied; until then each page is applied with the
// window's start and the next page's path (docs/exchanges.md).
#include <algorithm>

#include "base/clock.h"
#include "sync/exchange/exchange.h"
#include "sync/exchange/ncmec_state.h"

namespace hsync {

namespace {
// NCMEC's "now" second may still change: windows end 5 s back.
constexpr int64_t kSettleS = 5;
}  // namespace

Status Exchange::ApplyNcmecPage(const NcmecPage& page, const std::string& checkpoint) {
  NcmecIndexBatch index(db_, config_.name);
  for (const auto& e : page.entries) HS_RETURN_IF_ERROR(index.Apply(e));
  return ApplyDelta(index.Batch(), checkpoint, index.Writes());
}

Status Exchange::RunNcmec(int64_t* retry_after_s) {
  std::string stored;
  {
    std::lock_guard l(mu_);
    stored = state_.checkpoint;
  }
  NcmecCheckpoint cp = DecodeNcmecCheckpoint(stored);
  const int64_t end_s = base::NowMs() / 1000 - kSettleS;
  if (cp.next.empty() && end_s <= cp.done_s) return ApplyNcmecPage({}, EncodeNcmecCheckpoint(cp));

  int64_t span_s = std::max<int64_t>(1, end_s - cp.done_s);
  int64_t to_s = 0;
  std::string path;
  bool fresh_window = true;  // this page is a window's first (its size may be probed)
  if (!cp.next.empty() && base::NowMs() - cp.saved_ms < config_.paging_ttl_s * 1000) {
    // Verbatim: a paging path is an offset into exactly that query.
    to_s = cp.to_s;
    path = cp.next;
    fresh_window = false;
  } else {
    if (!cp.next.empty()) Log(LogLevel::kInfo, "the saved paging path is older than paging_ttl_s: the window restarts");
    cp.next.clear();
    to_s = std::min(end_s, cp.done_s + span_s);
    path = NcmecClient::WindowPath(cp.done_s, to_s);
  }
  bool restarted = false;
  size_t pages = 0, entries = 0, window_entries = 0;
  for (;;) {
    if (Stopping()) return Status::Unavailable("canceled");
    NcmecPage page;
    int status = 0;
    Status s = ncmec_->Fetch(path, &page, &status, retry_after_s);
    if (!s.ok()) {
      // A paging path NCMEC no longer honours (it is perishable): the window
      // restarts from its start, once per run; anything else is an error
      // that leaves the checkpoint where it is.
      const bool paging = path.find("&start=") != std::string::npos;
      if (paging && !restarted && (status == 400 || status == 404 || status == 410)) {
        Log(LogLevel::kWarn, "NCMEC refused a paging path (HTTP " + std::to_string(status) + "): the window restarts at " +
                                 FormatNcmecTime(cp.done_s));
        restarted = true;
        to_s = std::min(end_s, cp.done_s + span_s);
        path = NcmecClient::WindowPath(cp.done_s, to_s);
        fresh_window = true;
        window_entries = 0;
        continue;
      }
      return s;
    }
    ++pages;
    if (fresh_window && page.estimated > config_.max_window_entries && to_s - cp.done_s > 1) {
      // Too many entries to read as one window: a quarter of it (the
      // checkpoint cannot pass a window until its every page is applied).
      span_s = std::max<int64_t>(1, (to_s - cp.done_s) / 4);
      to_s = cp.done_s + span_s;
      path = NcmecClient::WindowPath(cp.done_s, to_s);
      Log(LogLevel::kDebug, "window of ~" + std::to_string(page.estimated) + " entries split: to " + FormatNcmecTime(to_s));
      continue;
    }
    fresh_window = false;
    entries += page.entries.size();
    window_entries += page.entries.size() + page.skipped;
    NcmecCheckpoint after = cp;
    if (page.next.empty()) {
      after.done_s = to_s;
      after.to_s = 0;
      after.saved_ms = 0;
      after.next.clear();
    } else {
      after.to_s = to_s;
      after.saved_ms = base::NowMs();
      after.next = page.next;
    }
    HS_RETURN_IF_ERROR(ApplyNcmecPage(page, EncodeNcmecCheckpoint(after)));
    cp = after;
    if (!page.next.empty()) {
      path = page.next;
      continue;
    }
    if (cp.done_s >= end_s) break;
    // A split window grows back once windows run small again.
    if (window_entries < static_cast<size_t>(config_.max_window_entries / 4)) span_s = std::min(span_s * 2, end_s - cp.done_s);
    window_entries = 0;
    to_s = std::min(end_s, cp.done_s + span_s);
    path = NcmecClient::WindowPath(cp.done_s, to_s);
    fresh_window = true;
  }
  Log(LogLevel::kDebug, std::to_string(pages) + " NCMEC pages, " + std::to_string(entries) + " image entries, read to " +
                            FormatNcmecTime(cp.done_s));
  return Status::Ok();
}

}  // namespace hsync
