#include "store/atomic_batch.h"

#include <cstdio>
#include <vector>

namespace store {

AtomicBatch::AtomicBatch(Database* db, Mode mode, size_t reserve_bytes)
    : db_(db), mode_(mode), batch_(mode == Mode::kWriteBatch ? reserve_bytes : 0) {}

AtomicBatch::~AtomicBatch() {
  for (int f = 0; f < Database::kNumFamilies; ++f) {
    writers_[f].reset();
    // After a successful ingestion RocksDB has already removed the staging
    // link; otherwise the file is ours to delete.
    if (!paths_[f].empty()) std::remove(paths_[f].c_str());
  }
}

rocksdb::SstFileWriter* AtomicBatch::WriterFor(Database::Family f) {
  if (!writers_[f]) {
    auto writer = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), db_->SstOptions(f), db_->family(f));
    std::string path = db_->NewStagingFile(f);
    rocksdb::Status s = writer->Open(path);
    if (!s.ok()) {
      error_ = db_->TrackWrite(s, "creating a staging file");
      return nullptr;
    }
    writers_[f] = std::move(writer);
    paths_[f] = std::move(path);
  }
  return writers_[f].get();
}

void AtomicBatch::Put(Database::Family f, const rocksdb::Slice& key, const rocksdb::Slice& value) {
  if (!error_.ok()) return;
  if (mode_ == Mode::kWriteBatch) {
    error_ = FromRocks(batch_.Put(db_->family(f), key, value), "building a write batch");
  } else if (auto* w = WriterFor(f)) {
    if (rocksdb::Status s = w->Put(key, value); !s.ok()) error_ = db_->TrackWrite(s, "writing a staging file");
  }
}

void AtomicBatch::Delete(Database::Family f, const rocksdb::Slice& key) {
  if (!error_.ok()) return;
  if (mode_ == Mode::kWriteBatch) {
    error_ = FromRocks(batch_.Delete(db_->family(f), key), "building a write batch");
  } else if (auto* w = WriterFor(f)) {
    if (rocksdb::Status s = w->Delete(key); !s.ok()) error_ = db_->TrackWrite(s, "writing a staging file");
  }
}

Status AtomicBatch::Commit() {
  if (!error_.ok()) return error_;
  if (mode_ == Mode::kWriteBatch) return db_->Write(&batch_, /*sync=*/true);

  std::vector<rocksdb::IngestExternalFileArg> args;
  for (int f = 0; f < Database::kNumFamilies; ++f) {
    if (!writers_[f]) continue;
    // Finish writes the table footer and syncs the file.
    if (rocksdb::Status s = writers_[f]->Finish(); !s.ok()) return db_->TrackWrite(s, "finishing a staging file");
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = db_->family(static_cast<Database::Family>(f));
    arg.external_files = {paths_[f]};
    // Hard-link the file into the database instead of copying it.
    arg.options.move_files = true;
    // The file's sequence number lives in the MANIFEST only: the file is not
    // rewritten in place after it was synced.
    arg.options.write_global_seqno = false;
    args.push_back(std::move(arg));
  }
  if (args.empty()) return Status::Ok();
  return db_->Ingest(args);
}

}  // namespace store
