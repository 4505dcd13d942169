// FeedbackSender: delivers the FeedbackQueue's items to the partners, on its
// own thread (one per server: feedback is rare, and a partner that hangs
// holds only its own request, bounded by the exchange's timeout_s). Per kind:
//   ncmec           PUT {base_url}/v2/entries/{member}/{entry}/{PDQ|MD5}/feedback
//                   with <feedbackSubmission><affirmative/> (positive) or
//                   <negative><reasonIds><guid>feedback_reason</guid>..>
//                   (negative); the entry's ref is "member-entry";
//   stopncii        POST {base_url}/SubmitFeedback {"count":1,"hashFeedbacks":
//                   [{"hashValue","tags":[],"feedbackValue":"Blocked"|"NotBlocked"}]};
//   threatexchange  POST {base_url}/{ref}/?access_token=..&reactions=HELPFUL
//                   (positive) or NON_MALICIOUS (negative).
// 2xx delivers. A transport error, 408, 429 or 5xx is retried after
// sync/retry_backoff.h's delay (jittered, 0.25 s doubling to 30 s) or the
// partner's Retry-After when longer, up to the exchange's feedback_attempts;
// any other answer (4xx, a redirect) fails the item at once: the same
// request would be refused again. An item delivered but not yet marked when
// the process dies is sent again after the restart: partners take a repeated
// vote of the same value as that vote.
//
// Thread-safety: Start/Stop/Wake from any thread; stats() from any.
#pragma once

#include <condition_variable>
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

struct FeedbackStats {
  uint64_t delivered = 0, retried = 0, failed = 0;  // since start
};

class FeedbackSender {
 public:
  // Reads the credential files of `configs` (those of the feedback kinds).
  static Status Create(FeedbackQueue* queue, const std::vector<ExchangeConfig>& configs,
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
  explicit FeedbackSender(FeedbackQueue* queue) : queue_(queue) {}
  void Loop();
  // One attempt; updates `item` (state, attempts, next attempt, error).
  void Deliver(const Partner& p, FeedbackItem* item);
  Status BuildRequest(const Partner& p, const FeedbackItem& item, HttpRequest* req) const;

  FeedbackQueue* queue_;
  std::map<std::string, Partner> partners_;
  HttpFetcher fetcher_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false, wake_ = false;
  std::map<std::string, FeedbackStats> stats_;
};

}  // namespace hsync
