// AuditPruneSchedule: runs AuditLog::Prune (store/audit_retention.h) inside
// the server, once shortly after start and then every `interval`, on one
// background thread. A prune writes in bounded batches, so appends wait for
// at most one batch; Stop interrupts a prune between batches (what was
// written verifies; the next run continues).
//
// Thread-safety: Start/Stop from one thread. The AuditLog must outlive it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/audit_log.h"

namespace store {

class AuditPruneSchedule {
 public:
  struct Options {
    int64_t retain_days = 0;           // 0 = forever
    int64_t retain_no_match_days = 0;  // 0 = until retain_days
    std::chrono::milliseconds interval{std::chrono::hours(1)};
    std::chrono::milliseconds first_delay{std::chrono::seconds(60)};
    size_t batch = 1000;
    // Entries after this seq are left alone (a follower's not yet held by
    // its primary); asked before each run. Empty = no bound.
    std::function<uint64_t()> max_seq{};
    // One line per run (and progress), for the server log.
    std::function<void(bool error, const std::string&)> log{};
  };

  AuditPruneSchedule(AuditLog* log, Options options) : log_(log), options_(std::move(options)) {}
  ~AuditPruneSchedule() { Stop(); }
  AuditPruneSchedule(const AuditPruneSchedule&) = delete;
  AuditPruneSchedule& operator=(const AuditPruneSchedule&) = delete;

  // The policy of a run now.
  static RetentionPolicy PolicyFor(int64_t retain_days, int64_t retain_no_match_days);

  void Start();
  void Stop();

 private:
  void Loop();
  AuditLog* const log_;
  const Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace store
