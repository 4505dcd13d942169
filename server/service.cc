#include "server/service.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "server/log.h"

namespace server {

namespace {
size_t Cores() { return std::max(1u, std::thread::hardware_concurrency()); }

ProbingDetector::Options ProbingOptions(const ServerConfig& c) {
  ProbingDetector::Options o;
  o.band = static_cast<int>(c.probing_band);
  o.budget = static_cast<int>(c.probing_budget);
  o.hash_budget = static_cast<int>(c.probing_hash_budget);
  o.window_ms = c.probing_window_s * 1000;
  o.block_ms = c.probing_block_s * 1000;
  return o;
}

FloodDetector::Options FloodOptions(const ServerConfig& c) {
  FloodDetector::Options o;
  o.enabled = c.quarantine_enabled;
  o.window_ms = c.quarantine_window_s * 1000;
  o.min_hits = c.quarantine_min_hits;
  o.factor = c.quarantine_factor;
  o.history_windows = c.quarantine_history_windows;
  o.max_tracked = static_cast<size_t>(c.quarantine_max_tracked);
  // Validated with the config (ValidateConfig); a bad value exempts nothing.
  if (!FloodDetector::ParseExemptLists(c.quarantine_exempt_lists, &o.exempt_lists).ok()) o.exempt_lists.clear();
  return o;
}
}  // namespace

Service::Service(const ServerConfig& config, size_t workers)
    : config_(config),
      workers_(workers),
      limiter_(config.rate_per_key, static_cast<double>(config.rate_burst)),
      probing_(ProbingOptions(config)),
      flood_(FloodOptions(config)),
      gate_(workers, static_cast<size_t>(config.screen_queue)),
      ui_sessions_(config.ui_session_ttl_s * 1000, static_cast<size_t>(config.ui_max_sessions)) {
  hash_options_.mode = config.pdq_mode == "cli512" ? hashing::PdqMode::kCli512 : hashing::PdqMode::kFull;
  hash_options_.dihedral = config.dihedral;
  hash_options_.trim_borders = config.trim_borders;
  hash_options_.trim.captions = config.trim_captions;
  if (config.fast_jpeg) hash_options_.scaling.jpeg_min_side = hashing::kFastJpegMinSide;
  hash_options_.limits.max_bytes = static_cast<uint64_t>(config.max_body_bytes);
  hash_options_.limits.max_pixels = static_cast<uint64_t>(config.max_pixels);
  hash_options_.limits.max_decode_memory = static_cast<uint64_t>(config.max_decode_memory);
  hash_options_.limits.max_decode_ms = static_cast<uint64_t>(config.max_decode_ms);
}

Status ReadHmacKey(const std::string& path, std::string* key) {
  key->clear();
  if (path.empty()) return Status::Ok();
  // POSIX calls, not a stream: a directory or a failing read is an error to
  // report, where std::ifstream opens a directory and then throws on reading.
  const std::string where = "audit.hmac_key_file: " + path;
  // O_NONBLOCK: a FIFO must not hang the start (it is refused below).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Status::IOError(where + ": " + std::strerror(errno));
  struct stat st{};
  std::string k;
  Status s;
  if (::fstat(fd, &st) != 0) {
    s = Status::IOError(where + ": " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    s = Status::InvalidArgument(where + ": not a regular file");
  } else {
    // Read one byte more than allowed, so a file that grew is noticed too.
    char buf[kMaxHmacKeyFileBytes + 1];
    size_t got = 0;
    ssize_t n = 0;
    while (got < sizeof buf && (n = ::read(fd, buf + got, sizeof buf - got)) > 0) got += static_cast<size_t>(n);
    if (n < 0) {
      s = Status::IOError(where + ": " + std::strerror(errno));
    } else if (got > kMaxHmacKeyFileBytes) {
      s = Status::InvalidArgument(where + ": larger than " + std::to_string(kMaxHmacKeyFileBytes) + " bytes");
    } else {
      k.assign(buf, got);
    }
  }
  ::close(fd);
  HS_RETURN_IF_ERROR(s);
  while (!k.empty() && (k.back() == '\n' || k.back() == '\r')) k.pop_back();
  if (k.size() < 16) return Status::InvalidArgument("audit.hmac_key_file: the key in " + path + " is shorter than 16 bytes");
  *key = std::move(k);
  return Status::Ok();
}

Status Service::StartFollowing() {
  const ServerConfig& c = config_;
  hsync::Follower::Options o;
  o.primary.url = c.follow_url;
  o.primary.cacert = c.follow_cacert;
  HS_RETURN_IF_ERROR(hsync::ReadKeyFile(c.follow_key_file, "follow.key_file", &o.primary.key));
  o.max_lag_s = c.follow_max_lag_s;
  o.page_bytes = static_cast<size_t>(c.follow_page_bytes);
  o.log = [](hsync::Follower::LogLevel level, const std::string& message) {
    using L = hsync::Follower::LogLevel;
    Log(level == L::kWarn ? LogLevel::kWarn : level == L::kInfo ? LogLevel::kInfo : LogLevel::kDebug, "follower",
        {{"message", message}});
  };
  std::unique_ptr<hsync::Follower> f;
  HS_RETURN_IF_ERROR(hsync::Follower::Create(db_.get(), lists_.get(), o, &f));
  f->Start();
  follower_ = std::move(f);
  hsync::AuditForwarder::Options fo;
  fo.primary = o.primary;
  fo.log = [](hsync::Follower::LogLevel level, const std::string& message) {
    using L = hsync::Follower::LogLevel;
    Log(level == L::kWarn ? LogLevel::kWarn : level == L::kInfo ? LogLevel::kInfo : LogLevel::kDebug, "audit_forward",
        {{"message", message}});
  };
  std::unique_ptr<hsync::AuditForwarder> forwarder;
  HS_RETURN_IF_ERROR(hsync::AuditForwarder::Create(db_.get(), audit_.get(), fo, &forwarder));
  forwarder->Start();
  forwarder_ = std::move(forwarder);
  return Status::Ok();
}

Status Service::StartExchanges() {
  auto log = [](hsync::Exchange::LogLevel level, const std::string& name, const std::string& message) {
    using L = hsync::Exchange::LogLevel;
    Log(level == L::kWarn ? LogLevel::kWarn : level == L::kInfo ? LogLevel::kInfo : LogLevel::kDebug, "exchange",
        {{"exchange", name}, {"message", message}});
  };
  std::unique_ptr<hsync::ExchangeManager> m;
  HS_RETURN_IF_ERROR(hsync::ExchangeManager::Create(db_.get(), lists_.get(), config_.exchanges, log, &m));
  HS_RETURN_IF_ERROR(m->RecoverFeedback(*audit_).WithContext("queueing the exchange feedback of earlier reviews"));
  m->Start();
  exchanges_ = std::move(m);
  return Status::Ok();
}

void Service::StartPruning() {
  store::AuditPruneSchedule::Options o;
  o.retain_days = config_.retain_days;
  o.retain_no_match_days = config_.retain_no_match_days;
  o.interval = std::chrono::seconds(config_.prune_interval_s);
  if (forwarder_) {
    // A follower keeps what its primary does not hold yet (nothing while that is unknown).
    o.max_seq = [this] {
      const auto st = forwarder_->stats();
      return st.cursor_known ? st.primary_seq : uint64_t{0};
    };
  }
  o.log = [](bool error, const std::string& line) {
    Log(error ? LogLevel::kError : LogLevel::kInfo, "audit_prune", {{"detail", line}});
  };
  pruner_ = std::make_unique<store::AuditPruneSchedule>(audit_.get(), o);
  pruner_->Start();
}

Status Service::Open(const ServerConfig& config, std::unique_ptr<Service>* out) {
  size_t workers = config.screen_workers > 0 ? static_cast<size_t>(config.screen_workers) : Cores();
  std::unique_ptr<Service> s(new Service(config, workers));
  store::AuditLog::Options audit_options;
  HS_RETURN_IF_ERROR(ReadHmacKey(config.hmac_key_file, &audit_options.hmac_key));
  audit_options.sync = config.sync;
  audit_options.group_commit = config.group_commit;
  audit_options.progress = [](const std::string& line) { Log(LogLevel::kInfo, "audit_index", {{"detail", line}}); };
  store::Database::Options db_options;
  db_options.log_sink = [](std::string_view line) { Log(LogLevel::kWarn, "rocksdb", {{"detail", std::string(line)}}); };
  HS_RETURN_IF_ERROR(store::Database::Open(config.data_dir, db_options, &s->db_));
  HS_RETURN_IF_ERROR(store::HashLists::Open(s->db_.get(), &s->lists_));
  HS_RETURN_IF_ERROR(store::AuditLog::Open(s->db_.get(), audit_options, &s->audit_));
  HS_RETURN_IF_ERROR(store::SignalHolds::Open(s->db_.get(), &s->holds_));
  store::ApiKeys::Options key_options;
  key_options.flush_interval_ms = config.keys_last_used_flush_s * 1000;
  HS_RETURN_IF_ERROR(store::ApiKeys::Open(s->db_.get(), key_options, &s->keys_));
  std::vector<store::ApiKey> keys;
  HS_RETURN_IF_ERROR(s->keys_->List(&keys));
  for (const auto& k : keys) {
    if (k.rate_per_s > 0) s->limiter_.SetKeyRate(k.id, k.rate_per_s);
  }
  if (!config.follow_url.empty()) HS_RETURN_IF_ERROR(s->StartFollowing());
  if (!config.exchanges.empty()) HS_RETURN_IF_ERROR(s->StartExchanges());
  s->StartPruning();
  *out = std::move(s);
  return Status::Ok();
}

}  // namespace server
