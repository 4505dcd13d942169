// Database: the single RocksDB database of one hashscreen instance, opened with
// every column family of the data model (DESIGN.md section 3) and a checked
// schema version. The other store/ classes (lists, index loading, audit log,
// API keys) borrow it; it owns the rocksdb::DB and the family handles.
//
// A full disk never aborts the process: writes then fail with NoSpace and
// nothing is half-applied, write_health() says why the store is unwritable,
// and writing resumes by itself once space returns (store/write_health.h).
//
// Thread-safety: all methods may be called concurrently (RocksDB is
// thread-safe); the Database must outlive every borrower.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <vector>
#include <string>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "base/status.h"
#include "store/rocksdb_log.h"
#include "store/write_health.h"

namespace store {

using base::Status;

class Database {
 public:
  // Column families; the names on disk are kFamilyNames[f].
  // kAuditIndex (store/audit_index.h) is created when a database written
  // before it is opened: its keys are derived data, rebuilt by AuditLog::Open.
  enum Family { kMeta, kLists, kSignals, kChanges, kAudit, kKeys, kBatches, kFeed, kAuditIndex, kNumFamilies };
  static constexpr std::array<const char*, kNumFamilies> kFamilyNames = {
      "meta", "lists", "signals", "changes", "audit", "keys", "batches", "feed", "audit_index"};

  // Bumped whenever the on-disk layout changes incompatibly. Open refuses a
  // database written with another version (no silent misreads).
  static constexpr uint32_t kSchemaVersion = 1;

  struct Options {
    bool create_if_missing = true;
    // Where RocksDB's warnings and errors go (store/rocksdb_log.h); empty:
    // stderr. RocksDB keeps no LOG file in the data directory.
    RocksLogSink log_sink;
  };

  // Opens (or creates) the database in directory `dir`. Fails with
  // Corruption if the schema version differs, IOError if RocksDB cannot open
  // it (for example, another process holds the lock).
  static Status Open(const std::string& dir, const Options& options, std::unique_ptr<Database>* out);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* family(Family f) const { return handles_[f]; }
  const std::string& dir() const { return dir_; }
  // A random 128-bit id (hex) created with the database, stable for its life.
  const std::string& instance_id() const { return instance_id_; }

  // Applies `batch` atomically. With sync = true the WAL is fsynced before
  // returning (durable across power loss, not only process crash). NoSpace
  // when the disk is full (or RocksDB still refuses writes after it was):
  // nothing of the batch was applied.
  Status Write(rocksdb::WriteBatch* batch, bool sync);

  // Ingests SST files into their families atomically (one MANIFEST edit;
  // store/atomic_batch.h). Only while IngestionSafe(): RocksDB 7.8 (Debian
  // 12) assigns the ingested files file number 0 once it has stopped writes
  // after a background error, even after it resumed, and its assertions
  // then abort the process (measured: tests/store/full_disk_test.cc). So
  // after RocksDB stopped writes once, large batches take the WriteBatch
  // path (just as atomic) until the next start; Ingest itself refuses then
  // with Unavailable. Foreground writes wait while an ingestion runs, so
  // none of them can stop RocksDB in between; a background flush failing
  // in the same instant could still, which no lock of ours can exclude.
  Status Ingest(const std::vector<rocksdb::IngestExternalFileArg>& args);
  bool IngestionSafe() const;

  // Maps a RocksDB status of a write made outside Write (SST files of a large
  // batch) like Write does, and records it in write_health() (pass only
  // failures of writes that do not reach the database itself).
  Status TrackWrite(const rocksdb::Status& s, const char* context);

  // Whether writes succeed now, and why not (store/write_health.h).
  WriteHealth::State write_health() const { return health_->Get(); }

  // Ok when the store is writable; otherwise NoSpace or IOError saying why.
  // When it is not writable, tries (at most once a second; in between it
  // answers the last known state) to get it writable again: asks RocksDB to
  // resume if it stopped writes, then makes one small synced write. For
  // readiness checks: a store nobody writes to still notices that space has
  // returned.
  Status ProbeWritable();

  // Reads a key of `f`; NotFound if absent.
  Status Get(Family f, const rocksdb::Slice& key, std::string* value) const;

  // A fresh path in the staging directory (DIR/ingest-staging) for an SST file
  // of `f` that is about to be ingested. Open empties the directory (files
  // left by a process killed before ingesting them), after taking the lock.
  std::string NewStagingFile(Family f);
  // The options SST files to ingest into `f` are written with: the family's
  // own table format and compression, so an ingested file reads like a
  // flushed one.
  rocksdb::Options SstOptions(Family f) const;

 private:
  Database() = default;
  std::string dir_;
  std::string staging_dir_;
  std::atomic<uint64_t> next_staging_{0};
  std::string instance_id_;
  std::shared_ptr<WriteHealth> health_ = std::make_shared<WriteHealth>();
  // Asks RocksDB to resume after a background error, at most once a second;
  // false when it was asked less than a second ago.
  bool TryResume();
  static Status Unwritable(const WriteHealth::State& state);
  // Shared by writes, exclusive for an ingestion (see Ingest).
  std::shared_mutex write_gate_;
  std::mutex resume_mu_;
  int64_t last_resume_ms_ = 0;  // guarded by resume_mu_
  int64_t last_probe_ms_ = 0;   // guarded by resume_mu_
  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, kNumFamilies> handles_{};
};

// Maps a RocksDB status to ours, prefixing `context`.
Status FromRocks(const rocksdb::Status& s, const char* context);

}  // namespace store
