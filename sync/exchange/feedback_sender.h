// FeedbackSender: delivers the FeedbackQueue's items to the partners, on its
// own thread (one per server: feedback is rare). Attempts are sequential: a
// partner that hangs delays the others' items by its exchange's timeout_s
// per attempt, and its backoff then keeps it out of the way. Per kind:
//   ncmec           PUT {base_url}/v2/entries/{member}/{entry}/{PDQ|MD5}/feedback
//                   with <feedbackSubmission><affirmative/> (positive) or
//                   <negative><reasonIds><guid>feedback_reason</guid>..>
//                   (negative); the entry's ref is "member-entry";
//   stopncii        POST {base_url}/SubmitFeedback {"count":1,"hashFeedbacks":
//                   [{"hashValue","tags":[],"feedbackValue":"Blocked"|"NotBlocked"}]};
//   threatexchange  POST {base_url}/{descriptor}/?access_token=..&reactions=
//                   HELPFUL (positive) or NON_MALICIOUS (negative), once per
//                   descriptor of the indicator (ThreatExchange reacts on
//                   descriptors, pytx react_to_threat_descriptor; their ids
//                   come with the entry, sync/exchange/partner_update.h); the
//                   item is delivered when every one answered 2xx, and a
//                   retry sends them all again (a repeated reaction is that
//                   reaction). An entry without descriptor ids (synced by an
//                   older version) fails at once, naming the cause.
// 2xx delivers. A transport error, 408, 429 or 5xx is retried after
// FeedbackRetryDelayMs or the partner's Retry-After when longer, up to the
// exchange's feedback_attempts (the default 24 spans 6 to 10 hours);
// any other answer (4xx, a redirect) fails the item at once: the same
// request would be refused again. An item delivered but not yet marked when
// the process dies is sent again after the restart: partners take a repeated
// vote of the same value as that vote.
//
// Thread-safety: Start/Stop/Wake from any thread; stats() from any.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sync/exchange/exchange_config.h"
#include "sync/exchange/feedback_queue.h"
#include "sync/exchange/http_fetcher.h"

namespace hsync {

// The wait after attempt number `attempts` failed: jittered, 0.25 s doubling
// to 30 s (sync/retry_backoff.h), then doubling on to at most an hour; at
// least the partner's Retry-After (-1: none).
int64_t FeedbackRetryDelayMs(int64_t attempts, int64_t retry_after_s);

struct FeedbackStats {
  uint64_t delivered = 0, retried = 0, failed = 0;  // since start
};

class FeedbackSender {
 public:
  // warn: a failed item or a store error; else a delivered item.
  using LogFn = std::function<void(bool warn, const std::string& exchange, const std::string& message)>;
  // Reads the credential files of `configs` (those of the feedback kinds).
  static Status Create(FeedbackQueue* queue, const std::vector<ExchangeConfig>& configs, LogFn log,
                       std::unique_ptr<FeedbackSender>* out);
  ~FeedbackSender();  // Stop()
  FeedbackSender(const FeedbackSender&) = delete;
  FeedbackSender& operator=(const FeedbackSender&) = delete;

  void Start();
  // Prompt: cancels the request in flight.
  void Stop();
  // Items were queued: look now instead of at the next tick.
  void Wake();
  FeedbackStats stats(const std::string& exchange) const;

  // The exchanges of these kinds take feedback.
  static bool TakesFeedback(ExchangeKind kind);

 private:
  struct Partner {
    ExchangeConfig config;
    std::string user, password;        // ncmec
    std::string feedback_key, sub_key;  // stopncii
    std::string token;                  // threatexchange
  };
  FeedbackSender(FeedbackQueue* queue, LogFn log) : queue_(queue), log_(std::move(log)) {}
  void Loop();
  // One attempt; updates `item` (state, attempts, next attempt, error).
  void Deliver(const Partner& p, FeedbackItem* item);
  // The item's requests: one, or one per ThreatExchange descriptor.
  Status BuildRequests(const Partner& p, const FeedbackItem& item, std::vector<HttpRequest>* reqs) const;

  FeedbackQueue* queue_;
  LogFn log_;
  std::map<std::string, Partner> partners_;
  HttpFetcher fetcher_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false, wake_ = false;
  std::map<std::string, FeedbackStats> stats_;
};

}  // namespace hsync
