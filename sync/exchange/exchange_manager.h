// ExchangeManager: every `[[exchange]]` of the config, each an Exchange with
// its own thread (sync/exchange/exchange.h), started and stopped together.
// What GET /v1/exchanges, /metrics and `hashscreen exchanges` report. Also
// the reviewers' feedback to the partners: a FeedbackQueue and the
// FeedbackSender delivering it (sync/exchange/feedback_queue.h).
//
// Thread-safety: Start/Stop from one thread; Statuses() from any.
#pragma once

#include <memory>
#include <vector>

#include "store/audit_log.h"
#include "sync/exchange/exchange.h"
#include "sync/exchange/feedback_queue.h"
#include "sync/exchange/feedback_sender.h"

namespace hsync {

class ExchangeManager {
 public:
  // Creates each exchange (its list if missing); the first error stops and
  // names the exchange.
  static Status Create(store::Database* db, store::HashLists* lists, const std::vector<ExchangeConfig>& configs,
                       Exchange::LogFn log, std::unique_ptr<ExchangeManager>* out);
  ~ExchangeManager();  // Stop()
  ExchangeManager(const ExchangeManager&) = delete;
  ExchangeManager& operator=(const ExchangeManager&) = delete;

  void Start();
  // Asks every exchange to stop first (cancelling their fetches at once),
  // then waits for each: shutdown takes the longest apply in progress, not
  // the sum of the timeouts.
  void Stop();
  std::vector<ExchangeStatus> Statuses() const;

  // Queues `review`'s feedback about screen entry `target` (see FeedbackQueue)
  // and wakes the sender. Call right after the review is recorded.
  Status QueueFeedback(const store::AuditEntry& review, const store::AuditEntry& target);
  // FeedbackQueue::Recover: before Start, before the server serves.
  Status RecoverFeedback(const store::AuditLog& audit);

 private:
  ExchangeManager() = default;
  std::vector<std::unique_ptr<Exchange>> exchanges_;
  std::unique_ptr<FeedbackQueue> feedback_;
  std::unique_ptr<FeedbackSender> sender_;
};

}  // namespace hsync
