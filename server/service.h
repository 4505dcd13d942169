// Service: everything one running hashscreend holds, opened from a
// ServerConfig: the database, hash lists with their match index, the audit
// log, the API keys, and the request-level machinery (metrics, rate limiter,
// probing detector, screen admission). Route handlers receive it by reference.
//
// Thread-safety: the members are themselves thread-safe; the Service is
// built once and then shared read-only by every connection thread.
#pragma once

#include <atomic>
#include <memory>

#include "hashing/image_hasher.h"
#include "server/config.h"
#include "server/flood_detector.h"
#include "server/metrics.h"
#include "server/probing_detector.h"
#include "server/rate_limiter.h"
#include "server/screen_gate.h"
#include "server/ui_session.h"
#include "store/api_keys.h"
#include "store/audit_log.h"
#include "store/audit_prune_schedule.h"
#include "store/database.h"
#include "store/hash_lists.h"
#include "store/signal_holds.h"
#include "sync/audit_forwarder.h"
#include "sync/exchange/exchange_manager.h"
#include "sync/follower.h"

namespace server {

class Service {
 public:
  // Opens the database in config.data_dir and loads the lists into the index.
  static Status Open(const ServerConfig& config, std::unique_ptr<Service>* out);
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  const ServerConfig& config() const { return config_; }
  store::Database* db() { return db_.get(); }
  store::HashLists* lists() { return lists_.get(); }
  store::AuditLog* audit() { return audit_.get(); }
  store::ApiKeys* keys() { return keys_.get(); }
  // Suppressed and quarantined signals (store/signal_holds.h).
  store::SignalHolds* holds() { return holds_.get(); }
  FloodDetector& flood() { return flood_; }
  // The follower of follow.url, else null (this instance is a primary).
  hsync::Follower* follower() { return follower_.get(); }
  // A follower's forwarder of its audit entries to the primary, else null.
  hsync::AuditForwarder* forwarder() { return forwarder_.get(); }
  // The [[exchange]]s of the config, else null.
  hsync::ExchangeManager* exchanges() { return exchanges_.get(); }
  Metrics& metrics() { return metrics_; }
  RateLimiter& limiter() { return limiter_; }
  ProbingDetector& probing() { return probing_; }
  ScreenGate& gate() { return gate_; }
  // The review console's sign-in sessions (server/ui_session.h).
  UiSessions& ui_sessions() { return ui_sessions_; }
  const hashing::HashOptions& hash_options() const { return hash_options_; }
  size_t screen_workers() const { return workers_; }
  // Set when shutdown begins: /readyz then answers 503 so load balancers
  // stop sending work while in-flight requests finish.
  void set_draining() {
    draining_ = true;
    lists_->StopFeedWaiters();  // long polls of followers answer now
    if (exchanges_) exchanges_->Stop();  // fetches in flight are cancelled
  }
  bool draining() const { return draining_; }

 private:
  Service(const ServerConfig& config, size_t workers);
  // Creates and starts the follower of config.follow_url; the server
  // listens meanwhile.
  Status StartFollowing();
  // Creates (their lists too) and starts the [[exchange]]s.
  Status StartExchanges();
  // Starts the scheduled retention prunes ([audit] retain_*).
  void StartPruning();
  ServerConfig config_;
  size_t workers_;
  hashing::HashOptions hash_options_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::HashLists> lists_;
  std::unique_ptr<store::AuditLog> audit_;
  std::unique_ptr<store::ApiKeys> keys_;
  std::unique_ptr<store::SignalHolds> holds_;
  Metrics metrics_;
  RateLimiter limiter_;
  ProbingDetector probing_;
  FloodDetector flood_;
  ScreenGate gate_;
  UiSessions ui_sessions_;
  std::atomic<bool> draining_{false};
  // Declared last: it stops before the lists it writes go away.
  std::unique_ptr<hsync::Follower> follower_;
  // After the follower: stops first, before the audit log it reads.
  std::unique_ptr<hsync::AuditForwarder> forwarder_;
  // Last: its threads write the lists, so they stop first.
  std::unique_ptr<hsync::ExchangeManager> exchanges_;
  // Retention prunes of the audit log; declared last, stopped first.
  std::unique_ptr<store::AuditPruneSchedule> pruner_;
};

// Reads the HMAC key file named by the config ("" = none). A key shorter than
// 16 bytes is refused: it would give a false sense of protection. Anything
// but a readable regular file of at most kMaxHmacKeyFileBytes is an error
// naming the setting and the path.
inline constexpr size_t kMaxHmacKeyFileBytes = 4096;
Status ReadHmacKey(const std::string& path, std::string* key);

}  // namespace server
