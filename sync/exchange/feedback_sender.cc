#include "sync/exchange/feedback_sender.h"

#include <algorithm>
#include <chrono>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "sync/exchange/partner_update.h"
#include "sync/follower.h"
#include "sync/retry_backoff.h"

namespace hsync {

namespace {

std::string Enc(const std::string& s) { return httplib::detail::encode_query_param(s); }

// A 2xx delivers; these are worth another attempt; anything else is final.
bool Retryable(int status) { return status == 408 || status == 429 || status >= 500; }

}  // namespace

int64_t FeedbackRetryDelayMs(int64_t attempts, int64_t retry_after_s) {
  // sync/retry_backoff.h's jittered 0.25 s .. 30 s, then doubling on to an
  // hour: a partner down for hours is waited out, not given up on in minutes.
  const int failures = static_cast<int>(std::clamp<int64_t>(attempts, 1, 30));
  const int64_t beyond = std::clamp<int64_t>(attempts - 8, 0, 7);
  int64_t delay_ms = RetryDelay(failures).count() << beyond;
  delay_ms = std::min<int64_t>(delay_ms, 3600 * 1000);
  if (retry_after_s >= 0) delay_ms = std::max(delay_ms, retry_after_s * 1000);
  return delay_ms;
}

bool FeedbackSender::TakesFeedback(ExchangeKind kind) {
  return kind == ExchangeKind::kNcmec || kind == ExchangeKind::kStopNcii || kind == ExchangeKind::kThreatExchange;
}

Status FeedbackSender::Create(FeedbackQueue* queue, const std::vector<ExchangeConfig>& configs, LogFn log,
                              std::unique_ptr<FeedbackSender>* out) {
  std::unique_ptr<FeedbackSender> s(new FeedbackSender(queue, std::move(log)));
  for (const auto& c : configs) {
    if (!TakesFeedback(c.kind)) continue;
    Partner p;
    p.config = c;
    const std::string where = "exchange '" + c.name + "' ";
    if (c.kind == ExchangeKind::kNcmec) {
      std::string line;
      HS_RETURN_IF_ERROR(ReadKeyFile(c.credentials_file, where + "credentials_file", &line));
      const size_t colon = line.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == line.size()) {
        return Status::InvalidArgument(where + "credentials_file: the line must be user:password");
      }
      p.user = line.substr(0, colon);
      p.password = line.substr(colon + 1);
    } else if (c.kind == ExchangeKind::kStopNcii) {
      const std::string& key_file = c.feedback_key_file.empty() ? c.fetch_key_file : c.feedback_key_file;
      HS_RETURN_IF_ERROR(ReadKeyFile(key_file, where + "feedback_key_file", &p.feedback_key));
      HS_RETURN_IF_ERROR(ReadKeyFile(c.subscription_key_file, where + "subscription_key_file", &p.sub_key));
    } else {
      HS_RETURN_IF_ERROR(ReadKeyFile(c.token_file, where + "token_file", &p.token));
    }
    s->partners_.emplace(c.name, std::move(p));
  }
  *out = std::move(s);
  return Status::Ok();
}

FeedbackSender::~FeedbackSender() { Stop(); }

void FeedbackSender::Start() {
  if (thread_.joinable() || partners_.empty()) return;
  thread_ = std::thread([this] { Loop(); });
}

void FeedbackSender::Stop() {
  {
    std::lock_guard l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  fetcher_.Cancel();
  if (thread_.joinable()) thread_.join();
}

void FeedbackSender::Wake() {
  {
    std::lock_guard l(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

FeedbackStats FeedbackSender::stats(const std::string& exchange) const {
  std::lock_guard l(mu_);
  auto it = stats_.find(exchange);
  return it == stats_.end() ? FeedbackStats{} : it->second;
}

Status FeedbackSender::BuildRequests(const Partner& p, const FeedbackItem& item, std::vector<HttpRequest>* reqs) const {
  const ExchangeConfig& c = p.config;
  reqs->clear();
  HttpRequest base_req;
  base_req.cacert = c.cacert;
  base_req.timeout_s = c.timeout_s;
  base_req.max_bytes = 1 << 20;  // partners answer feedback with a few bytes, if anything
  HttpRequest* req = &reqs->emplace_back(base_req);
  switch (c.kind) {
    case ExchangeKind::kNcmec: {
      const size_t dash = item.partner_ref.find('-');
      if (dash == std::string::npos || dash == 0 || dash + 1 == item.partner_ref.size()) {
        return Status::InvalidArgument("the entry's ref '" + item.partner_ref + "' is not NCMEC's member-entry");
      }
      const char* type = item.signal == "pdq" ? "PDQ" : item.signal == "md5" ? "MD5" : nullptr;
      if (!type) return Status::InvalidArgument("NCMEC takes no feedback on " + item.signal + " fingerprints");
      if (!item.positive && c.feedback_reason.empty()) {
        return Status::InvalidArgument("a false positive needs a reason GUID: set the exchange's feedback_reason");
      }
      req->method = "PUT";
      req->url = c.base_url + "/v2/entries/" + Enc(item.partner_ref.substr(0, dash)) + "/" +
                 Enc(item.partner_ref.substr(dash + 1)) + "/" + type + "/feedback";
      req->name = "NCMEC feedback on " + item.partner_ref;
      req->headers.push_back(httplib::make_basic_authentication_header(p.user, p.password));
      req->content_type = "application/xml; charset=utf-8";
      const std::string ns = "<feedbackSubmission xmlns=\"https://hashsharing.ncmec.org/hashsharing/v2\">";
      req->body = item.positive ? ns + "<affirmative/></feedbackSubmission>"
                                : ns + "<negative><reasonIds><guid>" + c.feedback_reason +
                                      "</guid></reasonIds></negative></feedbackSubmission>";
      return Status::Ok();
    }
    case ExchangeKind::kStopNcii: {
      req->method = "POST";
      req->url = c.base_url + "/SubmitFeedback";
      req->name = "StopNCII SubmitFeedback";
      req->headers.emplace_back("x-functions-key", p.feedback_key);
      req->headers.emplace_back("Ocp-Apim-Subscription-Key", p.sub_key);
      req->content_type = "application/json";
      req->body = nlohmann::json{{"count", 1},
                                 {"hashFeedbacks",
                                  {{{"hashValue", item.hash_hex},
                                    {"tags", nlohmann::json::array()},
                                    {"feedbackValue", item.positive ? "Blocked" : "NotBlocked"}}}}}
                      .dump();
      return Status::Ok();
    }
    case ExchangeKind::kThreatExchange: {
      if (item.descriptors.empty()) {
        return Status::InvalidArgument("the entry of indicator '" + item.partner_ref +
                                       "' has no ThreatExchange descriptor ids to react on (synced before they were "
                                       "kept; a full refetch of the exchange stores them)");
      }
      const char* reaction = item.positive ? "HELPFUL" : "NON_MALICIOUS";
      reqs->clear();
      for (const std::string& descriptor : item.descriptors) {
        if (!IsThreatDescriptorId(descriptor)) {
          return Status::InvalidArgument("'" + descriptor + "' is not a ThreatExchange descriptor id");
        }
        HttpRequest r = base_req;
        r.method = "POST";
        r.url = c.base_url + "/" + descriptor + "/?access_token=" + Enc(p.token) + "&reactions=" + reaction;
        // Never the URL: it holds the token.
        r.name = "ThreatExchange reaction on descriptor " + descriptor + " of indicator " + item.partner_ref;
        r.content_type = "application/x-www-form-urlencoded";
        r.body = std::string("reactions=") + reaction;
        reqs->push_back(std::move(r));
      }
      return Status::Ok();
    }
    default:
      return Status::InvalidArgument("exchange kind takes no feedback");
  }
}

void FeedbackSender::Deliver(const Partner& p, FeedbackItem* item) {
  const int64_t now = base::NowMs();
  ++item->attempts;
  std::vector<HttpRequest> reqs;
  Status s = BuildRequests(p, *item, &reqs);
  bool final_error = !s.ok();
  int64_t retry_after_s = -1;
  size_t sent = 0;
  HttpAnswer a;
  // Every request must be answered 2xx; the first that is not decides.
  for (; s.ok() && sent < reqs.size(); ++sent) {
    s = fetcher_.Send(reqs[sent], &a);
    if (!s.ok() || a.status < 200 || a.status >= 300) break;
  }
  if (s.ok() && sent == reqs.size()) {
    item->state = FeedbackState::kDelivered;
    item->delivered_ms = base::NowMs();
    item->last_error.clear();
    std::lock_guard l(mu_);
    ++stats_[item->exchange].delivered;
    return;
  }
  if (!final_error) {
    const HttpRequest& req = reqs[sent];
    if (s.ok()) {
      final_error = !Retryable(a.status);
      retry_after_s = a.retry_after_s;
      // The partner's words, as printable ASCII: they end up in JSON answers.
      std::string said = a.body.substr(0, 200);
      for (char& ch : said) {
        if (ch < 0x20 || ch > 0x7e) ch = '?';
      }
      s = Status::Unavailable(req.name + " answered HTTP " + std::to_string(a.status) + (said.empty() ? "" : ": " + said));
    }
  }
  item->last_error = s.message();
  std::lock_guard l(mu_);
  if (final_error || item->attempts >= p.config.feedback_attempts) {
    item->state = FeedbackState::kFailed;
    ++stats_[item->exchange].failed;
    return;
  }
  ++stats_[item->exchange].retried;
  item->next_attempt_ms = now + FeedbackRetryDelayMs(item->attempts, retry_after_s);
}

void FeedbackSender::Loop() {
  while (true) {
    {
      std::lock_guard l(mu_);
      if (stopping_) return;
      wake_ = false;
    }
    std::vector<FeedbackItem> due;
    int64_t next_due = INT64_MAX;
    Status s = queue_->Due(base::NowMs(), 64, &due, &next_due);
    for (auto& item : due) {
      {
        std::lock_guard l(mu_);
        if (stopping_) return;
      }
      auto p = partners_.find(item.exchange);
      if (p == partners_.end()) continue;  // no longer configured: kept pending for when it is again
      Deliver(p->second, &item);
      {
        std::lock_guard l(mu_);
        if (stopping_ && item.state != FeedbackState::kDelivered) return;  // canceled, not the partner's answer
      }
      if (Status u = queue_->Update(item); !u.ok()) s = u;
      if (log_ && item.state != FeedbackState::kPending) {
        const bool ok = item.state == FeedbackState::kDelivered;
        log_(!ok, item.exchange,
             std::string("feedback of review ") + std::to_string(item.review_seq) + " on " + item.partner_ref +
                 (ok ? " delivered" : " failed: " + item.last_error) + " after " + std::to_string(item.attempts) +
                 " attempt(s)");
      }
      if (item.state == FeedbackState::kPending) next_due = std::min(next_due, item.next_attempt_ms);
    }
    if (!s.ok() && log_) log_(true, "", "feedback queue: " + s.message());
    // A store error is retried at the next tick; at most a second between looks.
    const int64_t now = base::NowMs();
    int64_t wait_ms = s.ok() ? std::clamp<int64_t>(next_due - now, 0, 1000) : 1000;
    if (due.size() == 64) wait_ms = 0;
    std::unique_lock l(mu_);
    cv_.wait_for(l, std::chrono::milliseconds(wait_ms), [&] { return stopping_ || wake_; });
  }
}

}  // namespace hsync
