// Database: the single RocksDB database of one hashscreen instance, opened with
// every column family of the data model (DESIGN.md section 3) and a checked
// schema version. The other store/ classes (lists, index loading, audit log,
// API keys) borrow it; it owns the rocksdb::DB and the family handles.
//
// Thread-safety: all methods may be called concurrently (RocksDB is
// thread-safe); the Database must outlive every borrower.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "base/status.h"

namespace store {

using base::Status;

class Database {
 public:
  // Column families; the names on disk are kFamilyNames[f].
  enum Family { kMeta, kLists, kSignals, kChanges, kAudit, kKeys, kBatches, kFeed, kNumFamilies };
  static constexpr std::array<const char*, kNumFamilies> kFamilyNames = {
      "meta", "lists", "signals", "changes", "audit", "keys", "batches", "feed"};

  // Bumped whenever the on-disk layout changes incompatibly. Open refuses a
  // database written with another version (no silent misreads).
  static constexpr uint32_t kSchemaVersion = 1;

  struct Options {
    bool create_if_missing = true;
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
  // returning (durable across power loss, not only process crash).
  Status Write(rocksdb::WriteBatch* batch, bool sync);

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
  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, kNumFamilies> handles_{};
};

// Maps a RocksDB status to ours, prefixing `context`.
Status FromRocks(const rocksdb::Status& s, const char* context);

}  // namespace store
