#include "server/service.h"

#include <fstream>
#include <iterator>
#include <thread>

namespace server {

namespace {
size_t Cores() { return std::max(1u, std::thread::hardware_concurrency()); }
}  // namespace

Service::Service(const ServerConfig& config, size_t workers)
    : config_(config),
      workers_(workers),
      limiter_(config.rate_per_key, static_cast<double>(config.rate_burst)),
      gate_(workers, static_cast<size_t>(config.screen_queue)) {
  hash_options_.mode = config.pdq_mode == "cli512" ? hashing::PdqMode::kCli512 : hashing::PdqMode::kFull;
  hash_options_.dihedral = config.dihedral;
  hash_options_.trim_borders = config.trim_borders;
  hash_options_.limits.max_bytes = static_cast<uint64_t>(config.max_body_bytes);
  hash_options_.limits.max_pixels = static_cast<uint64_t>(config.max_pixels);
  hash_options_.limits.max_decode_memory = static_cast<uint64_t>(config.max_decode_memory);
  hash_options_.limits.max_decode_ms = static_cast<uint64_t>(config.max_decode_ms);
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
  s->keys_ = std::make_unique<store::ApiKeys>(s->db_.get());
  *out = std::move(s);
  return Status::Ok();
}

}  // namespace server
