#include "server/service.h"

#include <fstream>
#include <iterator>
#include <thread>

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
}  // namespace

Service::Service(const ServerConfig& config, size_t workers)
    : config_(config),
      workers_(workers),
      limiter_(config.rate_per_key, static_cast<double>(config.rate_burst)),
      probing_(ProbingOptions(config)),
      gate_(workers, static_cast<size_t>(config.screen_queue)) {
  hash_options_.mode = config.pdq_mode == "cli512" ? hashing::PdqMode::kCli512 : hashing::PdqMode::kFull;
  hash_options_.dihedral = config.dihedral;
  hash_options_.limits.max_bytes = static_cast<uint64_t>(config.max_body_bytes);
  hash_options_.limits.max_pixels = static_cast<uint64_t>(config.max_pixels);
}

Status ReadHmacKey(const std::string& path, std::string* key) {
  key->clear();
  if (path.empty()) return Status::Ok();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("audit.hmac_key_file: cannot read " + path);
  std::string k((std::istreambuf_iterator<char>(in)), {});
  while (!k.empty() && (k.back() == '\n' || k.back() == '\r')) k.pop_back();
  if (k.size() < 16) return Status::InvalidArgument("audit.hmac_key_file: the key in " + path + " is shorter than 16 bytes");
  *key = std::move(k);
  return Status::Ok();
}

Status Service::Open(const ServerConfig& config, std::unique_ptr<Service>* out) {
  size_t workers = config.screen_workers > 0 ? static_cast<size_t>(config.screen_workers) : Cores();
  std::unique_ptr<Service> s(new Service(config, workers));
  store::AuditLog::Options audit_options;
  HS_RETURN_IF_ERROR(ReadHmacKey(config.hmac_key_file, &audit_options.hmac_key));
  audit_options.sync = config.sync;
  audit_options.group_commit = config.group_commit;
  HS_RETURN_IF_ERROR(store::Database::Open(config.data_dir, {}, &s->db_));
  HS_RETURN_IF_ERROR(store::HashLists::Open(s->db_.get(), &s->lists_));
  HS_RETURN_IF_ERROR(store::AuditLog::Open(s->db_.get(), audit_options, &s->audit_));
  store::ApiKeys::Options key_options;
  key_options.flush_interval_ms = config.keys_last_used_flush_s * 1000;
  HS_RETURN_IF_ERROR(store::ApiKeys::Open(s->db_.get(), key_options, &s->keys_));
  std::vector<store::ApiKey> keys;
  HS_RETURN_IF_ERROR(s->keys_->List(&keys));
  for (const auto& k : keys) {
    if (k.rate_per_s > 0) s->limiter_.SetKeyRate(k.id, k.rate_per_s);
  }
  *out = std::move(s);
  return Status::Ok();
}

}  // namespace server
