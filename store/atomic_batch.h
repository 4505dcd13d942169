// AtomicBatch: the writes of one signal batch (puts and deletes across column
// families), committed all at once or not at all, durably. Two ways, chosen
// by the caller from the batch's size (docs/store.md has the numbers):
//
//   kWriteBatch  a rocksdb::WriteBatch written with a synced WAL. One fsync;
//                but every entry goes through the memtable skiplist, then a
//                flush, which dominates batches of many thousands of entries.
//   kIngest      one SST file per family, written sequentially into the
//                database's staging directory and ingested with
//                DB::IngestExternalFiles, which records every family's file
//                in one MANIFEST edit: atomic across families, and RocksDB
//                syncs the files, the directory and the MANIFEST. Keys must
//                come in strictly increasing order within each family.
//
// Errors are sticky: the first failed Put/Delete (an I/O error, or a key out
// of order in kIngest) is returned by Commit, and nothing is committed.
#pragma once

#include <array>
#include <memory>
#include <string>

#include <rocksdb/slice.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include "store/database.h"

namespace store {

class AtomicBatch {
 public:
  enum class Mode { kWriteBatch, kIngest };

  // `reserve_bytes`: expected encoded size (kWriteBatch reserves it).
  AtomicBatch(Database* db, Mode mode, size_t reserve_bytes);
  AtomicBatch(const AtomicBatch&) = delete;
  AtomicBatch& operator=(const AtomicBatch&) = delete;
  // Deletes staging files that were not ingested.
  ~AtomicBatch();

  void Put(Database::Family f, const rocksdb::Slice& key, const rocksdb::Slice& value);
  void Delete(Database::Family f, const rocksdb::Slice& key);

  // Makes every write durable and visible, atomically; call once. On error
  // nothing of the batch is in the database.
  Status Commit();

 private:
  rocksdb::SstFileWriter* WriterFor(Database::Family f);

  Database* db_;
  Mode mode_;
  Status error_;
  rocksdb::WriteBatch batch_;
  std::array<std::unique_ptr<rocksdb::SstFileWriter>, Database::kNumFamilies> writers_;
  std::array<std::string, Database::kNumFamilies> paths_;
};

}  // namespace store
