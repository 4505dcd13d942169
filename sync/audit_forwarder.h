// AuditForwarder: sends this follower's audit entries to its primary
// (POST /v1/audit/forward), so the primary's match log holds every
// instance's entries and reviewers need visit only the primary.
//
// The primary's answer is the cursor: each forward returns the last seq the
// primary holds of this instance, and the next batch starts after it. So
// the follower keeps no state of its own; a follower killed at any point
// resends at most the batch whose answer it lost, and the primary skips the
// entries it already holds (idempotent by instance and seq): nothing is
// lost, nothing doubled. Entries stay in this instance's own log whatever
// happens, so a primary that cannot be reached only delays them.
//
// The thread wakes on every append (AuditLog::WaitForAppend), so an entry
// normally reaches the primary within one round trip; batches hold up to
// batch_entries entries / batch_bytes of stored bytes. Failures back off
// like the follower (sync/retry_backoff.h) and are reported through the log
// callback and Stats. Forward lag never makes /readyz fail: screening goes
// on without the primary.
//
// Thread-safety: Start/Stop from one thread; stats() from any. The
// Database and AuditLog must outlive the forwarder.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/audit_log.h"
#include "store/database.h"
#include "sync/feed_client.h"
#include "sync/follower.h"

namespace hsync {

class AuditForwarder {
 public:
  struct Options {
    FeedClient::Options primary;  // the follower's: same URL, replica key, CA
    size_t batch_entries = store::AuditLog::kMaxForwardEntries;
    size_t batch_bytes = 2 << 20;  // stored bytes; hex doubles them on the wire
    // Least time between two forwards: at most 20 requests/s, under the
    // replica key's default rate limit (server.rate_per_key, 50/s) with room
    // for the follower's feed polls; under load, entries meanwhile form
    // larger batches instead of more requests.
    std::chrono::milliseconds min_interval{50};
    std::function<void(Follower::LogLevel level, const std::string& message)> log;
  };

  struct Stats {
    bool running = false;
    bool connected = false;     // the last forward was answered 200
    bool cursor_known = false;  // the primary said what it holds of us
    uint64_t primary_seq = 0;   // the last of our seqs the primary holds
    uint64_t local_seq = 0;     // our log's last seq
    uint64_t lag_entries = 0;   // local_seq - primary_seq
    double lag_seconds = 0;     // age of the oldest entry not forwarded yet
    uint64_t forwarded = 0, batches = 0, errors = 0;  // since start
    std::string last_error;
  };

  static Status Create(store::Database* db, store::AuditLog* audit, const Options& options,
                       std::unique_ptr<AuditForwarder>* out);
  ~AuditForwarder();  // Stop()
  AuditForwarder(const AuditForwarder&) = delete;
  AuditForwarder& operator=(const AuditForwarder&) = delete;

  void Start();
  // Interrupts a forward in progress and waits for the thread.
  void Stop();
  Stats stats() const;

 private:
  AuditForwarder(store::Database* db, store::AuditLog* audit, const Options& options);
  void Loop();
  // One forward: `entries` (stored form) after the cursor, or none to learn
  // the cursor. Updates the cursor from the answer.
  Status Forward(const std::vector<std::string>& entries);
  void Log(Follower::LogLevel level, const std::string& message) const {
    if (options_.log) options_.log(level, message);
  }

  store::Database* db_;
  store::AuditLog* audit_;
  Options options_;
  std::unique_ptr<FeedClient> client_;
  std::thread thread_;

  mutable std::mutex mu_;  // guards everything below and wakes the backoff wait
  std::condition_variable cv_;
  bool stopping_ = false;
  bool running_ = false;
  bool connected_ = false;
  bool cursor_known_ = false;
  uint64_t cursor_ = 0;
  uint64_t forwarded_ = 0, batches_ = 0, errors_ = 0;
  std::string last_error_;
};

}  // namespace hsync
