#include "sync/audit_forwarder.h"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/hex.h"
#include "sync/loop_thread.h"
#include "sync/retry_backoff.h"

namespace hsync {

namespace {
// How long the thread sleeps between looks at stopping_ while idle.
constexpr auto kIdleWait = std::chrono::milliseconds(250);
constexpr int kForwardTimeoutS = 60;
}  // namespace

AuditForwarder::AuditForwarder(store::Database* db, store::AuditLog* audit, const Options& options)
    : db_(db), audit_(audit), options_(options) {}

AuditForwarder::~AuditForwarder() { Stop(); }

Status AuditForwarder::Create(store::Database* db, store::AuditLog* audit, const Options& options,
                              std::unique_ptr<AuditForwarder>* out) {
  if (options.batch_entries == 0 || options.batch_entries > store::AuditLog::kMaxForwardEntries) {
    return Status::InvalidArgument("audit forward batches hold 1.." + std::to_string(store::AuditLog::kMaxForwardEntries) +
                                   " entries");
  }
  std::unique_ptr<AuditForwarder> f(new AuditForwarder(db, audit, options));
  HS_RETURN_IF_ERROR(FeedClient::Create(options.primary, &f->client_));
  *out = std::move(f);
  return Status::Ok();
}

void AuditForwarder::Start() { LoopThread{mu_, cv_, stopping_, running_, thread_}.Start([this] { Loop(); }); }

void AuditForwarder::Stop() { LoopThread{mu_, cv_, stopping_, running_, thread_}.Stop(client_.get()); }

Status AuditForwarder::Forward(const std::vector<std::string>& entries) {
  nlohmann::json body{{"instance", db_->instance_id()}, {"entries", nlohmann::json::array()}};
  for (const auto& e : entries) body["entries"].push_back(base::HexEncode(std::string_view(e)));
  int status = 0;
  std::string answer;
  HS_RETURN_IF_ERROR(client_->Post("/v1/audit/forward", "application/json", body.dump(), kForwardTimeoutS, &status, &answer));
  if (status != 200) {
    // 409/422: the primary holds other entries of this instance, or refuses
    // these; nothing was stored. Retrying later cannot lose anything.
    return status >= 500 || status == 429 ? Status::Unavailable(PrimaryErrorMessage(status, answer))
                                          : Status::PermissionDenied(PrimaryErrorMessage(status, answer));
  }
  auto j = nlohmann::json::parse(answer, nullptr, false);
  if (!j.is_object() || !j.contains("last_seq") || !j["last_seq"].is_number_unsigned() || !j.contains("stored") ||
      !j["stored"].is_number_unsigned()) {
    return Status::Corruption("the primary's answer to a forward is not understood");
  }
  std::lock_guard l(mu_);
  cursor_ = j["last_seq"].get<uint64_t>();
  cursor_known_ = true;
  connected_ = true;
  forwarded_ += j["stored"].get<uint64_t>();
  if (!entries.empty()) ++batches_;
  return Status::Ok();
}

void AuditForwarder::Loop() {
  int failures = 0;
  auto last_forward = std::chrono::steady_clock::time_point{};
  for (;;) {
    bool known;
    uint64_t cursor;
    {
      std::lock_guard l(mu_);
      if (stopping_) break;
      known = cursor_known_;
      cursor = cursor_;
    }
    Status s;
    if (!known) {
      s = Forward({});
    } else if (audit_->last_seq() <= cursor) {
      audit_->WaitForAppend(cursor, kIdleWait);
      continue;
    } else {
      const auto due = last_forward + options_.min_interval;
      if (std::chrono::steady_clock::now() < due) {
        std::unique_lock l(mu_);
        cv_.wait_until(l, due, [&] { return stopping_; });
        continue;
      }
      last_forward = std::chrono::steady_clock::now();
      std::vector<std::string> batch;
      s = audit_->ReadStored(cursor, options_.batch_entries, options_.batch_bytes, &batch);
      if (s.ok()) s = Forward(batch);
    }
    if (s.ok()) {
      if (failures > 0) Log(Follower::LogLevel::kInfo, "audit forwarding to " + options_.primary.url + " works again");
      failures = 0;
      continue;
    }
    {
      std::lock_guard l(mu_);
      if (stopping_) break;
      ++errors_;
      connected_ = s.code() != Status::Code::kUnavailable;
      last_error_ = s.ToString();
      // Ask again what the primary holds: a refusal may mean our cursor is stale.
      cursor_known_ = false;
    }
    const Stats st = stats();
    Log(Follower::LogLevel::kWarn, "forwarding audit entries to " + options_.primary.url +
                                       " failed (retrying; the entries stay here; " + std::to_string(st.lag_entries) +
                                       " entries, " + std::to_string(static_cast<int64_t>(st.lag_seconds)) +
                                       " s behind): " + s.ToString());
    std::unique_lock l(mu_);
    cv_.wait_for(l, RetryDelay(++failures), [&] { return stopping_; });
  }
  std::lock_guard l(mu_);
  running_ = false;
  cv_.notify_all();
}

AuditForwarder::Stats AuditForwarder::stats() const {
  Stats s;
  {
    std::lock_guard l(mu_);
    s.running = running_;
    s.connected = connected_;
    s.cursor_known = cursor_known_;
    s.primary_seq = cursor_;
    s.forwarded = forwarded_;
    s.batches = batches_;
    s.errors = errors_;
    s.last_error = last_error_;
  }
  s.local_seq = audit_->last_seq();
  s.lag_entries = s.local_seq > s.primary_seq ? s.local_seq - s.primary_seq : 0;
  store::AuditEntry oldest;
  if (s.lag_entries > 0 && audit_->Get(s.primary_seq + 1, &oldest).ok()) {
    s.lag_seconds = std::max<double>(0, static_cast<double>(base::NowMs() - oldest.time_ms) / 1000.0);
  }
  return s;
}

}  // namespace hsync
