#include "store/database.h"

#include <filesystem>

#include <rocksdb/options.h>
#include <rocksdb/table.h>

#include "base/clock.h"
#include "base/coding.h"
#include "base/crypto.h"
#include "base/hex.h"

namespace store {

namespace {
constexpr const char* kSchemaKey = "schema_version";
constexpr const char* kInstanceKey = "instance_id";
constexpr const char* kProbeKey = "write_probe";

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
  if (s.IsNoSpace()) return Status::NoSpace(m);
  if (s.IsCorruption()) return Status::Corruption(m);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(m);
  return Status::IOError(m);
}

Status Database::Open(const std::string& dir, const Options& options, std::unique_ptr<Database>* out) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  // Always: a database from before a family existed gains it (empty) at open.
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  // Open replays the WAL into memtables instead of writing L0 files first:
  // after a crash the replay is bounded by the memtable sizes, and a clean
  // close flushes (below), so a restart with millions of signals stays fast.
  db_options.avoid_flush_during_recovery = true;
  // No LOG file: RocksDB's file logger aborts the process once it has failed
  // on a full disk (store/rocksdb_log.h).
  db_options.info_log = NewRocksLogger(options.log_sink);
  std::unique_ptr<Database> database(new Database());
  db_options.listeners.push_back(database->health_);

  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, FamilyOptions(kMeta));
  for (int f = 0; f < kNumFamilies; ++f) {
    families.emplace_back(kFamilyNames[f], FamilyOptions(static_cast<Family>(f)));
  }

  if (options.create_if_missing) {
    // Made here, so RocksDB does not first warn that it cannot list it.
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IOError("creating database directory " + dir + ": " + ec.message());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status rs = rocksdb::DB::Open(db_options, dir, families, &handles, &raw);
  if (!rs.ok()) return FromRocks(rs, ("opening database " + dir).c_str());

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
  // After a full disk RocksDB refuses writes until it resumes. Its own
  // recovery waits for a large free-space buffer (the memtable sizes, 64 MB
  // by default); asking it here lets writing resume as soon as the flush it
  // needs fits.
  if (health_->rocksdb_stopped()) TryResume();
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  std::shared_lock<std::shared_mutex> gate(write_gate_);
  return TrackWrite(db_->Write(wo, batch), "writing to the database");
}

bool Database::IngestionSafe() const { return !health_->had_stop(); }

Status Database::Ingest(const std::vector<rocksdb::IngestExternalFileArg>& args) {
  std::unique_lock<std::shared_mutex> gate(write_gate_);
  const WriteHealth::State state = health_->Get();
  if (state.rocksdb_stopped) return Unwritable(state);
  if (state.had_stop) {
    return Status::Unavailable("SST ingestion is off until the next start (RocksDB stopped writes earlier)");
  }
  return TrackWrite(db_->IngestExternalFiles(args), "ingesting a batch");
}

Status Database::TrackWrite(const rocksdb::Status& s, const char* context) {
  health_->OnWriteResult(s);
  return FromRocks(s, context);
}

bool Database::TryResume() {
  {
    std::lock_guard<std::mutex> lock(resume_mu_);
    const int64_t now = base::NowMs();
    if (now - last_resume_ms_ < 1000) return false;
    last_resume_ms_ = now;
  }
  // Busy while RocksDB's own recovery runs; ok once it has resumed (then
  // OnErrorRecoveryEnd has marked the store writable).
  db_->Resume().PermitUncheckedError();
  return true;
}

Status Database::Unwritable(const WriteHealth::State& state) {
  std::string why = "the store cannot write: " + state.detail;
  return state.reason == WriteHealth::Reason::kNoSpace ? Status::NoSpace(why) : Status::IOError(why);
}

Status Database::ProbeWritable() {
  WriteHealth::State state = health_->Get();
  if (state.writable) return Status::Ok();
  if (state.rocksdb_stopped) {
    if (!TryResume()) return Unwritable(state);
    state = health_->Get();
    if (state.writable) return Status::Ok();
  }
  {
    std::lock_guard<std::mutex> lock(resume_mu_);
    const int64_t now = base::NowMs();
    if (now - last_probe_ms_ < 1000) return Unwritable(state);
    last_probe_ms_ = now;
  }
  rocksdb::WriteBatch probe;
  probe.Put(handles_[kMeta], kProbeKey, base::EncodeU64(static_cast<uint64_t>(base::NowMs())));
  if (Write(&probe, /*sync=*/true).ok()) return Status::Ok();
  return Unwritable(health_->Get());
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
