#include "sync/exchange/exchange_manager.h"

#include <thread>

namespace hsync {

Status ExchangeManager::Create(store::Database* db, store::HashLists* lists,
                               const std::vector<ExchangeConfig>& configs, Exchange::LogFn log,
                               std::unique_ptr<ExchangeManager>* out) {
  HS_RETURN_IF_ERROR(ValidateExchanges(configs));
  std::unique_ptr<ExchangeManager> m(new ExchangeManager());
  for (const auto& c : configs) {
    std::unique_ptr<Exchange> x;
    HS_RETURN_IF_ERROR(Exchange::Create(db, lists, c, log, &x));
    m->exchanges_.push_back(std::move(x));
  }
  std::vector<std::string> feedback;
  for (const auto& c : configs) {
    if (FeedbackSender::TakesFeedback(c.kind)) feedback.push_back(c.name);
  }
  m->feedback_ = std::make_unique<FeedbackQueue>(db, std::move(feedback));
  FeedbackSender::LogFn feedback_log;
  if (log) {
    feedback_log = [log](bool warn, const std::string& exchange, const std::string& message) {
      log(warn ? Exchange::LogLevel::kWarn : Exchange::LogLevel::kInfo, exchange, message);
    };
  }
  HS_RETURN_IF_ERROR(FeedbackSender::Create(m->feedback_.get(), configs, feedback_log, &m->sender_));
  *out = std::move(m);
  return Status::Ok();
}

ExchangeManager::~ExchangeManager() { Stop(); }

void ExchangeManager::Start() {
  for (auto& x : exchanges_) x->Start();
  sender_->Start();
}

void ExchangeManager::Stop() {
  std::vector<std::thread> stoppers;
  stoppers.reserve(exchanges_.size() + 1);
  if (sender_) stoppers.emplace_back([this] { sender_->Stop(); });
  for (auto& x : exchanges_) stoppers.emplace_back([&x] { x->Stop(); });
  for (auto& t : stoppers) t.join();
}

std::vector<ExchangeStatus> ExchangeManager::Statuses() const {
  std::vector<ExchangeStatus> out;
  for (const auto& x : exchanges_) {
    ExchangeStatus s = x->status();
    if (FeedbackSender::TakesFeedback(x->config().kind)) {
      // A store error leaves the counts at 0; the next status reads again.
      (void)feedback_->Counts(s.name, &s.feedback_pending, &s.feedback_failed);
      const FeedbackStats f = sender_->stats(s.name);
      s.feedback_delivered_total = f.delivered;
      s.feedback_retried_total = f.retried;
      s.feedback_failed_total = f.failed;
    }
    out.push_back(std::move(s));
  }
  return out;
}

Status ExchangeManager::QueueFeedback(const store::AuditEntry& review, const store::AuditEntry& target) {
  size_t queued = 0;
  HS_RETURN_IF_ERROR(feedback_->Enqueue(review, target, &queued));
  if (queued > 0) sender_->Wake();
  return Status::Ok();
}

Status ExchangeManager::RecoverFeedback(const store::AuditLog& audit) {
  size_t queued = 0;
  return feedback_->Recover(audit, &queued);
}

}  // namespace hsync
