#include "store/write_health.h"

namespace store {

const char* WriteHealth::ReasonName(Reason r) {
  switch (r) {
    case Reason::kNone: return "";
    case Reason::kNoSpace: return "no_space";
    case Reason::kIOError: return "io_error";
  }
  return "";
}

void WriteHealth::Fail(const rocksdb::Status& s, bool rocksdb_stopped, bool count) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool no_space = s.IsNoSpace();
  if (count) ++(no_space ? state_.no_space_errors : state_.io_errors);
  state_.writable = false;
  state_.reason = no_space ? Reason::kNoSpace : Reason::kIOError;
  state_.rocksdb_stopped |= rocksdb_stopped;
  state_.had_stop |= rocksdb_stopped;
  state_.detail = s.ToString();
}

void WriteHealth::OnWriteResult(const rocksdb::Status& s) {
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    state_.writable = true;
    state_.reason = Reason::kNone;
    state_.rocksdb_stopped = false;
    state_.detail.clear();
    return;
  }
  // Only storage failures say anything about the store's health; a bad
  // argument or a busy retry does not.
  if (s.IsIOError() || s.IsCorruption()) Fail(s, false, true);
}

void WriteHealth::OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* bg_error) {
  // A soft error (a compaction short of space) leaves writes working.
  if (bg_error == nullptr || bg_error->ok() || bg_error->severity() < rocksdb::Status::Severity::kHardError) return;
  // A failed foreground write is counted by OnWriteResult, which follows.
  Fail(*bg_error, true, reason != rocksdb::BackgroundErrorReason::kWriteCallback);
}

void WriteHealth::OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status bg_error, bool* auto_recovery) {
  // Database resumes instead (see the header); other errors keep RocksDB's
  // own handling (retries of retryable I/O errors).
  if (bg_error.IsNoSpace()) *auto_recovery = false;
  bg_error.PermitUncheckedError();
}

void WriteHealth::OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) {
  if (!info.new_bg_error.ok()) return;
  std::lock_guard<std::mutex> lock(mu_);
  state_.writable = true;
  state_.reason = Reason::kNone;
  state_.rocksdb_stopped = false;
  state_.detail.clear();
}

bool WriteHealth::rocksdb_stopped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_.rocksdb_stopped;
}

bool WriteHealth::had_stop() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_.had_stop;
}

WriteHealth::State WriteHealth::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

}  // namespace store
