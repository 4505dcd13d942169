#include "store/audit_prune_schedule.h"

namespace store {

namespace {
constexpr int64_t kDayMs = 86'400'000;
}  // namespace

RetentionPolicy AuditPruneSchedule::PolicyFor(int64_t retain_days, int64_t retain_no_match_days) {
  RetentionPolicy p;
  p.retain_ms = retain_days * kDayMs;
  p.retain_no_match_ms = retain_no_match_days * kDayMs;
  return p;
}

void AuditPruneSchedule::Start() {
  if (options_.retain_days == 0 && options_.retain_no_match_days == 0) return;  // nothing is ever pruned
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void AuditPruneSchedule::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AuditPruneSchedule::Loop() {
  std::chrono::milliseconds wait = options_.first_delay;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, wait, [this] { return stop_; })) return;
    }
    wait = options_.interval;
    RetentionPolicy p = PolicyFor(options_.retain_days, options_.retain_no_match_days);
    p.batch = options_.batch;
    if (options_.max_seq) p.max_seq = options_.max_seq();
    p.stop = [this] {
      std::lock_guard<std::mutex> lock(mu_);
      return stop_;
    };
    p.progress = [this](const std::string& line) {
      if (options_.log) options_.log(false, line);
    };
    PruneResult r;
    const Status s = log_->Prune(p, &r);
    if (!s.ok() && options_.log) options_.log(true, "audit prune failed: " + s.ToString());
  }
}

}  // namespace store
