// Exchange: one configured partner exchange running inside hashscreend: its
// own thread fetches every interval_s and applies what changed to the list it
// feeds (created at start, if missing, as a block list owned by
// "exchange:NAME" with the configured PDQ threshold).
//
// A fetch of the url and file kinds is a full snapshot: parsed with codec/
// (the one list parser), diffed against the list (sync/exchange/
// snapshot_diff.h), and the adds and withdrawals applied in ONE atomic write
// together with the exchange's state (sync/exchange/exchange_state.h). A
// snapshot with any line codec/ cannot read changes nothing; the error (with
// its line number) is the exchange's last_error until a later fetch succeeds.
// An unchanged snapshot (304, same file) changes nothing but the success time.
// The ncmec kind reads time windows page by page (docs/exchanges.md).
// The threatexchange kind applies each page of updates with the checkpoint
// it reaches, and a whole refetch (first sync, stale checkpoint) like a
// snapshot (docs/exchanges.md). The stopncii and tcap kinds page from a
// checkpoint the same way.
//
// Errors (unreachable, timeout, HTTP errors, bad lines) are retried after
// sync/retry_backoff.h's delay (jittered, 0.25 s doubling to 30 s, never
// longer than interval_s) or the server's Retry-After when longer.
//
// Thread-safety: Start/Stop from one thread; status() from any. Stop is
// prompt: it cancels the fetch in flight (a hanging server included); an
// apply in progress finishes first (it is one atomic write).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/database.h"
#include "store/hash_lists.h"
#include "sync/exchange/exchange_config.h"
#include "sync/exchange/exchange_state.h"
#include "sync/exchange/ncmec_client.h"
#include "sync/exchange/partner_update.h"
#include "sync/exchange/stopncii_client.h"
#include "sync/exchange/snapshot_source.h"
#include "sync/exchange/tcap_client.h"
#include "sync/exchange/threat_exchange.h"

namespace hsync {

struct ExchangeStatus {
  std::string name, kind, list;
  uint64_t list_id = 0;
  int64_t last_success_ms = 0;  // 0 = never
  std::string last_error;       // "" once a later fetch succeeded
  int64_t last_error_ms = 0;
  std::string checkpoint;       // printable: what the next fetch resumes from
  uint64_t entries = 0;         // signals in the list now
  double lag_s = -1;            // seconds since the last success; -1 = never succeeded
  uint64_t fetches = 0, errors = 0, not_modified = 0, applied = 0;  // since start
  uint64_t full_fetches = 0;                                         // whole-list refetches since start
  uint64_t added = 0, removed = 0;                                   // since start
  bool running = false;
  // Reviewers' feedback to the partner (ncmec, stopncii, threatexchange;
  // filled by ExchangeManager): items pending and failed now; attempts
  // delivered, retried and failed since start.
  uint64_t feedback_pending = 0, feedback_failed = 0;
  uint64_t feedback_delivered_total = 0, feedback_retried_total = 0, feedback_failed_total = 0;
};

class Exchange {
 public:
  enum class LogLevel { kDebug, kInfo, kWarn };
  using LogFn = std::function<void(LogLevel level, const std::string& name, const std::string& message)>;

  // Finds or creates the list, reads the stored state. Errors name the exchange.
  static Status Create(store::Database* db, store::HashLists* lists, const ExchangeConfig& config, LogFn log,
                       std::unique_ptr<Exchange>* out);
  ~Exchange();  // Stop()
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  void Start();
  void Stop();
  ExchangeStatus status() const;
  const ExchangeConfig& config() const { return config_; }

 private:
  Exchange(store::Database* db, store::HashLists* lists, const ExchangeConfig& config, LogFn log);
  void Loop();
  // One fetch and apply. On error *retry_after_s is the server's wish (-1: none).
  Status RunOnce(int64_t* retry_after_s);
  Status ApplySnapshot(const Snapshot& snapshot);
  // Diffs a whole list (with its entries' metadata, `meta` empty or one per
  // entry) against the list and applies it with `checkpoint`, atomically.
  Status ApplyFull(const std::vector<base::SignalEntry>& entries, const std::vector<store::SignalMeta>& meta,
                   const std::string& checkpoint, size_t lines);
  // Applies one page of changes with `checkpoint`, atomically.
  // `extra`: meta records written in the same atomic write (NCMEC's entry index).
  Status ApplyDelta(store::BatchRequest batch, const std::string& checkpoint,
                    std::vector<store::HashLists::MetaWrite> extra = {});
  // One page of a pulled partner's updates. During a whole fetch (`whole`
  // set) it is gathered there, TooLarge naming `what` ("the whole WHAT")
  // past 4 x max_bytes; otherwise it is applied at once with `checkpoint`.
  template <typename Update>
  Status TakePage(const std::vector<Update>& updates, WholeList* whole, const std::string& checkpoint, const char* what) {
    std::vector<const PartnerUpdate*> page;
    page.reserve(updates.size());
    for (const PartnerUpdate& u : updates) page.push_back(&u);
    return TakePage(page, whole, checkpoint, what);
  }
  Status TakePage(const std::vector<const PartnerUpdate*>& updates, WholeList* whole, const std::string& checkpoint,
                  const char* what);
  // Applies a whole fetch's list with `checkpoint`, withdrawing what it no
  // longer holds.
  Status ApplyWhole(WholeList* whole, const std::string& checkpoint);
  // After an applied write: `next` becomes the state, and the counters move.
  void NoteApplied(const ExchangeState& next, const store::BatchResult& result);
  // Writes `batch` and the exchange's state `next` in one atomic write (the
  // state alone when the batch changes nothing); a batch that changes
  // something takes the next generation, which names it (a replay after a
  // crash is then a no-op).
  Status WriteWithState(store::BatchRequest* batch, ExchangeState* next, store::BatchResult* result,
                        std::vector<store::HashLists::MetaWrite> extra = {});
  // The threatexchange kind: pages since the checkpoint, each applied with
  // the checkpoint it reaches; a stale or absent checkpoint fetches the
  // whole group and applies it as a full list (withdrawing what is gone).
  Status RunThreatExchange(int64_t* retry_after_s);
  // The ncmec kind (sync/exchange/ncmec_exchange.cc): windows from the
  // checkpoint to now - 5 s, every page applied with its entry index and a
  // checkpoint that only passes a window once its last page is applied.
  Status RunNcmec(int64_t* retry_after_s);
  Status ApplyNcmecPage(const NcmecPage& page, const std::string& checkpoint);
  // The stopncii kind (sync/exchange/stopncii_exchange.cc): FetchHashes
  // pages from the checkpoint, which only moves to nextSetTimestamp once the
  // last page (hasMoreRecords false) is applied; a stale or absent
  // checkpoint fetches everything and applies it as a full list.
  Status RunStopNcii(int64_t* retry_after_s);
  // The tcap kind (sync/exchange/tcap_exchange.cc): pages after the
  // checkpoint, each applied with the checkpoint TCAP gives for it; a list
  // with entries but no checkpoint, a stale checkpoint or one TCAP refuses
  // fetches everything and applies it as a full list.
  Status RunTcap(int64_t* retry_after_s);
  bool Stopping() const;
  void Log(LogLevel level, const std::string& message) const {
    if (log_) log_(level, config_.name, message);
  }

  store::Database* db_;
  store::HashLists* lists_;
  const ExchangeConfig config_;
  LogFn log_;
  uint64_t list_id_ = 0;
  std::unique_ptr<SnapshotSource> source_;      // url, file
  std::unique_ptr<ThreatExchangeClient> te_;    // threatexchange
  std::unique_ptr<NcmecClient> ncmec_;          // ncmec
  std::unique_ptr<StopNciiClient> stopncii_;    // stopncii
  std::unique_ptr<TcapClient> tcap_;            // tcap
  std::thread thread_;

  mutable std::mutex mu_;  // guards everything below and wakes the loop's waits
  std::condition_variable cv_;
  bool stopping_ = false;
  bool running_ = false;
  ExchangeState state_;
  std::string last_error_;
  int64_t last_error_ms_ = 0;
  uint64_t fetches_ = 0, errors_ = 0, not_modified_ = 0, applied_ = 0, added_ = 0, removed_ = 0, full_fetches_ = 0;
};

}  // namespace hsync
