#include "store/database.h"

#include <filesystem>

#include <rocksdb/options.h>
#include <rocksdb/table.h>

#include "base/coding.h"
#include "base/crypto.h"
#include "base/hex.h"

namespace store {

namespace {
constexpr const char* kSchemaKey = "schema_version";
constexpr const char* kInstanceKey = "instance_id";

std::string EncodeU32(uint32_t v) {
  std::string s;
  base::PutU32(&s, v);
  return s;
}

uint32_t DecodeU32(const std::string& s) { return base::GetU32(s.data()); }

rocksdb::ColumnFamilyOptions FamilyOptions(Database::Family f) {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  // XXH3 block checksums: as safe as CRC32c for detecting corruption, faster to verify.
  table.checksum = rocksdb::kXXH3;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (f == Database::kSignals || f == Database::kChanges || f == Database::kFeed) {
    // Mostly hash bytes, which are random: compressing them only costs CPU.
    cf.compression = rocksdb::kNoCompression;
  }
  if (f == Database::kSignals) {
    // Signals arrive in batches of random keys, each batch overlapping the
    // whole key range. Leveled compaction rewrites L1 for every few batches
    // (10M-hash import: ~40% of its CPU); universal compaction merges sorted
    // runs of similar size instead, at a fraction of the rewriting. The
    // signals are read in bulk at open and by point look-ups only for audit
    // detail and removes, where a few more sorted runs do not matter.
    cf.compaction_style = rocksdb::kCompactionStyleUniversal;
  }
  return cf;
}
}  // namespace

Status FromRocks(const rocksdb::Status& s, const char* context) {
  if (s.ok()) return Status::Ok();
  std::string m = std::string(context) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(m);
  if (s.IsCorruption()) return Status::Corruption(m);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(m);
  return Status::IOError(m);
}

Status Database::Open(const std::string& dir, const Options& options, std::unique_ptr<Database>* out) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = options.create_if_missing;
  db_options.paranoid_checks = true;
  // Open replays the WAL into memtables instead of writing L0 files first:
  // after a crash the replay is bounded by the memtable sizes, and a clean
  // close flushes (below), so a restart with millions of signals stays fast.
  db_options.avoid_flush_during_recovery = true;

  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, FamilyOptions(kMeta));
  for (int f = 0; f < kNumFamilies; ++f) {
    families.emplace_back(kFamilyNames[f], FamilyOptions(static_cast<Family>(f)));
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status rs = rocksdb::DB::Open(db_options, dir, families, &handles, &raw);
  if (!rs.ok()) return FromRocks(rs, ("opening database " + dir).c_str());

  std::unique_ptr<Database> database(new Database());
  database->dir_ = dir;
  database->db_.reset(raw);
  // handles[0] is the default family, which the data model does not use.
  database->db_->DestroyColumnFamilyHandle(handles[0]);
  for (int f = 0; f < kNumFamilies; ++f) database->handles_[f] = handles[f + 1];

  // Only now, holding RocksDB's lock, is it safe to clear the staging files.
  database->staging_dir_ = dir + "/ingest-staging";
  std::error_code ec;
  std::filesystem::remove_all(database->staging_dir_, ec);
  if (!ec) std::filesystem::create_directories(database->staging_dir_, ec);
  if (ec) return Status::IOError("preparing " + database->staging_dir_ + ": " + ec.message());

  std::string version;
  Status s = database->Get(kMeta, kSchemaKey, &version);
  if (s.code() == Status::Code::kNotFound) {
    // A new database: stamp the schema version and an instance id, atomically.
    uint8_t id[16];
    base::RandomBytes(id);
    rocksdb::WriteBatch batch;
    batch.Put(database->family(kMeta), kSchemaKey, EncodeU32(kSchemaVersion));
    batch.Put(database->family(kMeta), kInstanceKey, base::HexEncode(id));
    HS_RETURN_IF_ERROR(database->Write(&batch, /*sync=*/true));
  } else if (!s.ok()) {
    return s;
  } else if (version.size() != 4 || DecodeU32(version) != kSchemaVersion) {
    return Status::Corruption("database " + dir + " has schema version " +
                              (version.size() == 4 ? std::to_string(DecodeU32(version)) : "?") +
                              ", this build reads version " + std::to_string(kSchemaVersion));
  }
  HS_RETURN_IF_ERROR(database->Get(kMeta, kInstanceKey, &database->instance_id_));
  *out = std::move(database);
  return Status::Ok();
}

Database::~Database() {
  if (!db_) return;
  std::vector<rocksdb::ColumnFamilyHandle*> all(handles_.begin(), handles_.end());
  db_->Flush(rocksdb::FlushOptions(), all).PermitUncheckedError();
  for (auto* h : handles_) if (h) db_->DestroyColumnFamilyHandle(h);
  db_->Close().PermitUncheckedError();
}

Status Database::Write(rocksdb::WriteBatch* batch, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return FromRocks(db_->Write(wo, batch), "writing to the database");
}

std::string Database::NewStagingFile(Family f) {
  return staging_dir_ + "/" + std::to_string(next_staging_.fetch_add(1)) + "-" + kFamilyNames[f] + ".sst";
}

rocksdb::Options Database::SstOptions(Family f) const {
  return rocksdb::Options(rocksdb::DBOptions(), FamilyOptions(f));
}

Status Database::Get(Family f, const rocksdb::Slice& key, std::string* value) const {
  return FromRocks(db_->Get(rocksdb::ReadOptions(), handles_[f], key, value),
                   (std::string("reading ") + kFamilyNames[f]).c_str());
}

}  // namespace store
