// WriteHealth: whether the database accepts writes right now, and if not,
// why. It is the database's rocksdb::EventListener for background errors and
// their recovery, and is told the outcome of every foreground write.
//
// How a full disk plays out: a write-ahead-log append that fails for lack of
// space fails that write and puts RocksDB into a "hard" background error, in
// which it refuses every further write (nothing is half-applied: a
// WriteBatch is all or nothing). Resuming (DB::Resume) flushes the memtables,
// so the WAL holding the failed record is no longer needed, and lets writes
// in again. RocksDB's own recovery from a full disk is switched off here
// (OnErrorRecoveryBegin): its SstFileManager waits until the free space
// reaches the largest memtable size (64 MB by default), so a small or nearly
// full disk never resumes, and while it waits every DB::Resume() is refused
// as busy. Database resumes instead, at most once a second, on the next
// write or readiness probe (Database::ProbeWritable); OnErrorRecoveryEnd
// then marks the store writable again. A failure outside RocksDB's write
// path (an SST file of a large batch, written by us) leaves RocksDB healthy;
// the next successful write clears it.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include <rocksdb/listener.h>
#include <rocksdb/status.h>

namespace store {

class WriteHealth final : public rocksdb::EventListener {
 public:
  enum class Reason { kNone, kNoSpace, kIOError };
  struct State {
    bool writable = true;
    Reason reason = Reason::kNone;  // why not writable
    bool rocksdb_stopped = false;   // RocksDB itself refuses writes until it resumes
    bool had_stop = false;          // RocksDB stopped writes at least once since open
    std::string detail;             // the error that made it unwritable
    uint64_t no_space_errors = 0;   // failed writes and background errors, since open
    uint64_t io_errors = 0;
  };

  WriteHealth() = default;
  WriteHealth(const WriteHealth&) = delete;
  WriteHealth& operator=(const WriteHealth&) = delete;

  void OnWriteResult(const rocksdb::Status& s);
  State Get() const;
  // Get().rocksdb_stopped and Get().had_stop, without copying the state
  // (asked on every write).
  bool rocksdb_stopped() const;
  bool had_stop() const;

  // rocksdb::EventListener.
  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* bg_error) override;
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason reason, rocksdb::Status bg_error,
                            bool* auto_recovery) override;
  void OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) override;

  static const char* ReasonName(Reason r);  // "", "no_space", "io_error"

 private:
  void Fail(const rocksdb::Status& s, bool rocksdb_stopped, bool count);
  mutable std::mutex mu_;
  State state_;
};

}  // namespace store
