// hashscreend: the screening service and its local administration commands.
//   hashscreend serve --config FILE [--FLAG VALUE ...]
//   hashscreend keys create --data DIR [--create] --role ROLE [--partner NAME] [KEY OPTIONS]
//   hashscreend keys list --data DIR
//   hashscreend keys revoke --data DIR ID
//   hashscreend lists import --data DIR --list ID [--format F] [--type T] FILE
// The keys and lists commands open the database directly, so they run only
// while the server is stopped (RocksDB allows one process at a time): they
// bootstrap the first admin key and bulk-load lists. While the server runs,
// `hashscreen keys ...` and `hashscreen lists push` do the same over the API.
// They open an existing database only; `keys create --create` makes a new one.
#include <fcntl.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <malloc.h>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <pthread.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "base/clock.h"
#include "base/kernel_registry.h"
#include "base/number_parse.h"
#include "base/version.h"
#include "hashing/pdq_kernels.h"
#include "index/pdq_scan_kernels.h"
#include "server/config.h"
#include "server/http_server.h"
#include "server/log.h"
#include "server/service.h"
#include "store/api_keys.h"
#include "store/audit_prune_schedule.h"
#include "store/list_import.h"
#include "sync/follower.h"

namespace {

using base::Status;

constexpr const char* kUsage =
    "usage: hashscreend COMMAND [OPTIONS]\n"
    "\n"
    "The hashscreen screening service: HTTPS API for screening images against\n"
    "hash lists of known abuse imagery, with a tamper-evident audit log.\n"
    "\n"
    "commands:\n"
    "  --version                       print the version, commit, compiler and SIMD paths\n"
    "  serve --config FILE [FLAGS]     run the service (prints 'listening on ADDR' when ready;\n"
    "                                  SIGTERM drains in-flight requests and exits 0;\n"
    "                                  SIGHUP reloads the TLS certificate and key)\n"
    "  keys create --data DIR [--create] --role ROLE [--partner NAME] [--label TEXT]\n"
    "              [--expires-in DURATION] [--hash-queries] [--rate N]\n"
    "                                  make an API key; the secret is the last line of stdout,\n"
    "                                  shown once (roles: ingest reviewer partner replica admin).\n"
    "                                  --create: make the database if DIR has none (first key);\n"
    "                                  --expires-in: 3600s, 30m, 12h, 90d; --hash-queries: the\n"
    "                                  ingest key may call /v1/screen/hashes; --rate: its own\n"
    "                                  requests per second instead of limits.rate_per_key\n"
    "  keys create ... --secret-file FILE\n"
    "                                  the same, with the secret read from FILE (one line, the\n"
    "                                  form `keys secret` prints, checked to look random): the\n"
    "                                  same key on every instance behind a load balancer;\n"
    "                                  repeatable (nothing changes if the key is already there)\n"
    "  keys secret                     print a new secret for --secret-file (stores nothing)\n"
    "  keys list --data DIR            list keys (ids, roles, partners, permissions; never secrets)\n"
    "  keys revoke --data DIR ID       revoke a key\n"
      "  audit reindex --data DIR        rebuild the audit log's index (filters of GET /v1/audit);\n"
    "                                  a server builds it by itself at start when it is missing\n"
    "  audit prune [--config FILE] [--data DIR] [--dry-run] [--retain-days N]\n"
    "              [--retain-no-match-days N] [--allow-short-retention] [--hmac-key-file F]\n"
    "                                  the retention prune ([audit] retain_days, retain_no_match_days)\n"
    "                                  of a stopped server's log, with progress; --dry-run counts only\n"
  "  lists import --data DIR --list ID [--format F] [--type pdq|md5|sha256] FILE\n"
    "                                  load a hash file into a list in resumable batches;\n"
    "                                  F: auto (default), csv, plain, hasher, jsonl, te-csv\n"
    "\n"
    "keys and lists work on an existing database directly, with the server stopped;\n"
    "while it runs use `hashscreen keys ...` and `hashscreen lists push` against it.\n"
    "Keys exempt from the probing limit are made only through the API, which audits it.\n"
    "`hashscreend serve --help` lists every setting.\n";

int Fail(const Status& s) {
  std::fprintf(stderr, "hashscreend: %s\n", s.ToString().c_str());
  return 1;
}

int Usage(const char* problem) {
  std::fprintf(stderr, "hashscreend: %s\n\n%s", problem, kUsage);
  return 2;
}

void PrintServeHelp() {
  std::printf(
      "usage: hashscreend serve [--config FILE] [FLAGS]\n\n"
      "Settings come from the TOML file (see config/hashscreen.toml, which documents every\n"
      "one with its default) and are overridden by flags. Unknown keys and bad values stop\n"
      "the start with an error naming the key.\n\nflags (section.key in the file):\n");
  for (const auto& s : server::Settings()) {
    std::printf("  --%-26s %s.%s: %s\n", s.flag.c_str(), s.section.c_str(), s.key.c_str(), s.help.c_str());
  }
}

// Pulls "--name VALUE" out of args; returns false if absent.
bool TakeFlag(std::vector<std::string>* args, const std::string& name, std::string* value) {
  for (size_t i = 0; i < args->size(); ++i) {
    if ((*args)[i] == name && i + 1 < args->size()) {
      *value = (*args)[i + 1];
      args->erase(args->begin() + i, args->begin() + i + 2);
      return true;
    }
    if ((*args)[i].rfind(name + "=", 0) == 0) {
      *value = (*args)[i].substr(name.size() + 1);
      args->erase(args->begin() + i);
      return true;
    }
  }
  return false;
}

int Serve(std::vector<std::string> args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      PrintServeHelp();
      return 0;
    }
  }
  server::ServerConfig config;
  std::string config_path;
  if (TakeFlag(&args, "--config", &config_path)) {
    if (Status s = server::LoadConfigFile(config_path, &config); !s.ok()) return Fail(s);
  }
  if (Status s = server::ApplyFlags(args, &config); !s.ok()) return Fail(s);
  if (Status s = server::ValidateConfig(config); !s.ok()) return Fail(s);
  server::SetLogLevel(server::ParseLogLevel(config.log_level));
  server::SetLogFormat(config.log_format == "json" ? server::LogFormat::kJson : server::LogFormat::kText);

  // glibc gives busy threads their own malloc arena (up to 8 x cores); with
  // 16 x cores connection threads each passing MB-sized image buffers, freed
  // memory then sits in many arenas and RSS doubles under load (measured:
  // ~270 MB vs ~140 MB on 2 cores, same throughput). Hashing runs on at most
  // `cores` threads at once, so that many arenas suffice. MALLOC_ARENA_MAX
  // in the environment still wins.
  if (!std::getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));

  // SIGTERM/SIGINT/SIGHUP are taken by one thread with sigwait; block them
  // before any other thread exists so none of them receives the signal (an
  // unhandled SIGHUP would kill the process).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<server::Service> service;
  if (Status s = server::Service::Open(config, &service); !s.ok()) return Fail(s);
  std::unique_ptr<server::HttpServer> http;
  if (Status s = server::HttpServer::Create(service.get(), &http); !s.ok()) return Fail(s);
  std::string bound;
  if (Status s = http->Bind(&bound); !s.ok()) return Fail(s);

  std::atomic<bool> stopping{false};
  // The reload runs on its own thread, so the thread that waits for signals
  // only ever waits for signals: whatever a reload meets on disk, SIGTERM is
  // still taken at once. SIGHUPs arriving during a reload coalesce into one
  // more reload.
  std::mutex reload_mu;
  std::condition_variable reload_cv;
  bool reload_pending = false, reload_quit = false;
  std::thread reload_thread([&] {
    std::unique_lock<std::mutex> lock(reload_mu);
    for (;;) {
      reload_cv.wait(lock, [&] { return reload_pending || reload_quit; });
      if (reload_quit) return;
      reload_pending = false;
      lock.unlock();
      // New connections use the reloaded certificate; open ones keep theirs.
      Status s = http->ReloadTls();
      if (s.ok()) {
        server::Log(server::LogLevel::kInfo, "SIGHUP: reloaded the TLS certificate and key",
                    {{"tls_cert", config.tls_cert}, {"tls_key", config.tls_key}});
      } else {
        server::Log(server::LogLevel::kError, "SIGHUP: TLS reload failed, keeping the current certificate",
                    {{"error", s.ToString()}});
      }
      lock.lock();
    }
  });
  std::thread signal_thread([&] {
    int sig = 0;
    for (;;) {
      sigwait(&signals, &sig);
      if (sig != SIGHUP) break;
      {
        std::lock_guard<std::mutex> lock(reload_mu);
        reload_pending = true;
      }
      reload_cv.notify_one();
    }
    stopping = true;
    server::Log(server::LogLevel::kInfo, "stopping: no new connections, finishing requests in flight",
                {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    service->set_draining();
    http->Stop();
  });
  server::Log(server::LogLevel::kInfo, "started",
              {{"listen", bound},
               {"tls", config.plain_http ? "off" : "on"},
               {"data", config.data_dir},
               {"screen_workers", std::to_string(service->screen_workers())},
               {"simd", base::DescribeSimd() + ", " + base::DescribeFamily(hashing::PdqKernelFamily()) + ", " +
                            base::DescribeFamily(idx::PdqScanKernelFamily())},
               {"audit_seq", std::to_string(service->audit()->last_seq())},
               {"metrics", http->metrics_address().empty() ? "off" : "http://" + http->metrics_address() + "/metrics"}});
  if (!http->metrics_address().empty()) std::printf("metrics on http://%s/metrics\n", http->metrics_address().c_str());
  std::printf("listening on %s\n", bound.c_str());
  std::fflush(stdout);
  http->Serve();
  // A Serve that ended without a signal (listener failure) must still
  // release the signal thread; after a signal it has already finished.
  if (!stopping.load()) pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  {
    std::lock_guard<std::mutex> lock(reload_mu);
    reload_quit = true;
  }
  reload_cv.notify_one();
  reload_thread.join();
  // Every request has been answered: its audit entry is already synced. Close
  // the store (flushes memtables) and leave.
  http.reset();
  uint64_t last = service->audit()->last_seq();
  service.reset();
  server::Log(server::LogLevel::kInfo, "stopped", {{"audit_seq", std::to_string(last)}});
  return 0;
}

// Removes a flag without a value ("--create") from args; true if present.
bool TakeSwitch(std::vector<std::string>* args, const std::string& name) {
  for (size_t i = 0; i < args->size(); ++i) {
    if ((*args)[i] == name) {
      args->erase(args->begin() + i);
      return true;
    }
  }
  return false;
}

// Whether another process holds RocksDB's lock on the database in `dir` (a
// running hashscreend): RocksDB takes a POSIX record lock on DIR/LOCK.
bool DatabaseLocked(const std::string& dir) {
  int fd = open((dir + "/LOCK").c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock probe{};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  const bool locked = fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
  close(fd);
  return locked;
}

// Opens the database named by --data. It must exist unless `create`
// (`missing_hint` then says how to make one); a running server is named as
// such, with the `online` command to use instead.
Status OpenDb(std::vector<std::string>* args, bool create, const char* missing_hint, const char* online,
              std::unique_ptr<store::Database>* db) {
  std::string dir;
  if (!TakeFlag(args, "--data", &dir)) return Status::InvalidArgument("--data DIR is required");
  const Status running =
      Status::Unavailable("the server is running on " + dir + "; use `" + online + "` against it");
  std::error_code ec;
  if (!create && !std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec)) {
    return Status::NotFound("no database in " + dir + " (is --data right?" + missing_hint + ")");
  }
  if (DatabaseLocked(dir)) return running;
  store::Database::Options options;
  options.create_if_missing = create;
  Status s = store::Database::Open(dir, options, db);
  // The server may have started in between.
  if (!s.ok() && DatabaseLocked(dir)) return running;
  return s;
}

int Keys(std::vector<std::string> args) {
  if (args.empty() || args[0] == "--help") {
    std::printf("%s", kUsage);
    return args.empty() ? 2 : 0;
  }
  std::string sub = args[0];
  args.erase(args.begin());
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::ApiKeys> keys;
  if (sub == "create") {
    std::string role_name, value;
    store::KeySpec spec;
    if (!TakeFlag(&args, "--role", &role_name)) return Usage("keys create needs --role ROLE");
    if (Status s = store::ParseRole(role_name, &spec.role); !s.ok()) return Fail(s);
    TakeFlag(&args, "--partner", &spec.partner);
    TakeFlag(&args, "--label", &spec.label);
    if (TakeFlag(&args, "--expires-in", &value)) {
      int64_t ms = 0;
      if (Status s = base::ParseDurationMs(value, "--expires-in", 3650ll * 86400000, &ms); !s.ok()) return Fail(s);
      spec.expires_ms = base::NowMs() + ms;
    }
    if (TakeFlag(&args, "--rate", &value)) {
      if (Status s = base::ParseDouble(value, "--rate", store::kMinKeyRate, store::kMaxKeyRate, &spec.rate_per_s); !s.ok()) {
        return Fail(s);
      }
    }
    spec.hash_queries = TakeSwitch(&args, "--hash-queries");
    if (TakeSwitch(&args, "--no-probing-limit")) {
      return Fail(Status::InvalidArgument(
          "--no-probing-limit: a key exempt from the probing limit is made only with `hashscreen keys create` "
          "against the running server, which records it in the audit log"));
    }
    std::string secret_file, secret;
    const bool given = TakeFlag(&args, "--secret-file", &secret_file);
    if (given) {
      // Checked before the database is opened or created: a bad file changes nothing.
      if (Status s = hsync::ReadKeyFile(secret_file, "--secret-file", &secret); !s.ok()) return Fail(s);
      if (Status s = store::ApiKeys::CheckSecretStrength(secret); !s.ok()) {
        return Fail(Status::InvalidArgument("--secret-file " + secret_file + ": " + s.message()));
      }
    }
    const bool create = TakeSwitch(&args, "--create");
    if (Status s = OpenDb(&args, create, " `keys create --create` makes a new one", "hashscreen keys create", &db); !s.ok()) return Fail(s);
    if (!args.empty()) return Usage(("unexpected argument " + args[0]).c_str());
    if (Status s = store::ApiKeys::Open(db.get(), &keys); !s.ok()) return Fail(s);
    store::ApiKey key;
    if (given) {
      bool created = false;
      if (Status s = keys->CreateWithSecret(spec, secret, &key, &created); !s.ok()) return Fail(s);
      std::printf("key id %s, role %s%s%s: %s (the secret is the one in %s)\n", key.id.c_str(),
                  std::string(store::RoleName(key.role)).c_str(), key.partner.empty() ? "" : ", partner ",
                  key.partner.c_str(), created ? "created" : "already present, unchanged", secret_file.c_str());
      return 0;
    }
    if (Status s = keys->Create(spec, &key, &secret); !s.ok()) return Fail(s);
    std::printf("key id %s, role %s%s%s\n", key.id.c_str(), std::string(store::RoleName(key.role)).c_str(),
                key.partner.empty() ? "" : ", partner ", key.partner.c_str());
    std::printf("the secret below is shown once; store it now:\n%s\n", secret.c_str());
    return 0;
  }
  if (sub == "secret") {
    if (!args.empty()) return Usage(("unexpected argument " + args[0]).c_str());
    std::printf("%s\n", store::ApiKeys::NewSecret().c_str());
    return 0;
  }
  if (sub == "list") {
    if (Status s = OpenDb(&args, false, "", "hashscreen keys list", &db); !s.ok()) return Fail(s);
    if (!args.empty()) return Usage(("unexpected argument " + args[0]).c_str());
    if (Status s = store::ApiKeys::Open(db.get(), &keys); !s.ok()) return Fail(s);
    std::vector<store::ApiKey> all;
    if (Status s = keys->List(&all); !s.ok()) return Fail(s);
    std::printf("%-16s  %-8s  %-16s  %-20s  %-20s  %-20s  %-20s  %s\n", "ID", "ROLE", "PARTNER", "CREATED", "EXPIRES",
                "LAST USED", "REVOKED", "PERMISSIONS / LABEL");
    for (const auto& k : all) {
      std::string extra = std::string(k.hash_queries ? "hash-queries " : "") + (k.probing_exempt ? "no-probing-limit " : "") +
                          (k.blocked_ms ? "BLOCKED " : "") + k.label;
      std::printf("%-16s  %-8s  %-16s  %-20s  %-20s  %-20s  %-20s  %s\n", k.id.c_str(),
                  std::string(store::RoleName(k.role)).c_str(), k.partner.empty() ? "-" : k.partner.c_str(),
                  base::FormatUtc(k.created_ms).c_str(), base::FormatUtc(k.expires_ms).c_str(),
                  base::FormatUtc(k.last_used_ms).c_str(), base::FormatUtc(k.revoked_ms).c_str(), extra.c_str());
    }
    return 0;
  }
  if (sub == "revoke") {
    if (Status s = OpenDb(&args, false, "", "hashscreen keys revoke", &db); !s.ok()) return Fail(s);
    if (args.size() != 1) return Usage("keys revoke needs exactly one key ID");
    if (Status s = store::ApiKeys::Open(db.get(), &keys); !s.ok()) return Fail(s);
    if (Status s = keys->Revoke(args[0]); !s.ok()) return Fail(s);
    std::printf("revoked %s\n", args[0].c_str());
    return 0;
  }
  return Usage(("unknown keys command '" + sub + "'").c_str());
}

int Lists(std::vector<std::string> args) {
  if (args.empty() || args[0] != "import") return Usage("lists supports: import");
  args.erase(args.begin());
  std::string list, format = "auto", type = "pdq";
  if (!TakeFlag(&args, "--list", &list)) return Usage("lists import needs --list ID");
  TakeFlag(&args, "--format", &format);
  TakeFlag(&args, "--type", &type);
  store::ImportOptions options;
  if (Status s = codec::ParseListFormat(format, &options.codec.format); !s.ok()) return Fail(s.WithContext("--format"));
  if (Status s = base::ParseSignalType(type, &options.codec.type); !s.ok()) return Fail(s.WithContext("--type"));
  uint64_t list_id = 0;
  if (Status s = base::ParseUint(list, "--list", 1, UINT64_MAX, &list_id); !s.ok()) return Fail(s);
  std::unique_ptr<store::Database> db;
  if (Status s = OpenDb(&args, false, "", "hashscreen lists push", &db); !s.ok()) return Fail(s);
  if (args.size() != 1) return Usage("lists import needs exactly one FILE");
  std::unique_ptr<store::HashLists> lists;
  if (Status s = store::HashLists::Open(db.get(), &lists); !s.ok()) return Fail(s);
  bool tty = isatty(STDERR_FILENO);
  store::ImportResult result;
  Status s = store::ImportFile(lists.get(), list_id, args[0], options,
                               [tty](const store::ImportResult& r, uint64_t total) {
                                 if (!tty) return;
                                 std::fprintf(stderr, "\r%5.1f%%  %llu lines  %llu added",
                                              total ? 100.0 * r.bytes / total : 100.0,
                                              static_cast<unsigned long long>(r.lines),
                                              static_cast<unsigned long long>(r.added));
                               },
                               &result);
  if (tty) std::fprintf(stderr, "\n");
  if (!s.ok()) return Fail(s);
  std::printf("imported %llu lines in %llu batches (%llu replayed): %llu added, %llu already present\n",
              static_cast<unsigned long long>(result.lines), static_cast<unsigned long long>(result.batches),
              static_cast<unsigned long long>(result.batches_replayed), static_cast<unsigned long long>(result.added),
              static_cast<unsigned long long>(result.already_present));
  return 0;
}

// hashscreend audit prune: the retention prune of a stopped server's log,
// with the [audit] settings of its config file (or flags), and progress.
int AuditPrune(std::vector<std::string> args) {
  server::ServerConfig config;
  std::string config_path, dir;
  if (TakeFlag(&args, "--config", &config_path)) {
    if (Status s = server::LoadConfigFile(config_path, &config); !s.ok()) return Fail(s);
  }
  if (TakeFlag(&args, "--data", &dir)) config.data_dir = dir;
  const bool dry_run = TakeSwitch(&args, "--dry-run");
  // Only the settings a prune uses; anything else is named as unknown.
  for (const auto& a : args) {
    const std::string name = a.substr(0, a.find('='));
    if (name.rfind("--", 0) == 0 && name != "--hmac-key-file" && name != "--retain-days" &&
        name != "--retain-no-match-days" && name != "--allow-short-retention") {
      return Usage(("audit prune: unknown option " + name).c_str());
    }
  }
  if (Status s = server::ApplyFlags(args, &config); !s.ok()) return Fail(s.WithContext("audit prune"));
  if (Status s = server::ValidateRetention(config); !s.ok()) return Fail(s);
  if (!config.follow_url.empty()) {
    return Fail(Status::InvalidArgument(
        "audit prune: this is a follower (follow.url): only its running server knows which entries its primary holds, "
        "and it prunes by itself on its schedule"));
  }
  if (config.retain_days == 0 && config.retain_no_match_days == 0) {
    std::printf("audit.retain_days and audit.retain_no_match_days are 0: everything is kept, nothing to prune\n");
    return 0;
  }
  store::AuditLog::Options options;
  if (Status s = server::ReadHmacKey(config.hmac_key_file, &options.hmac_key); !s.ok()) return Fail(s);
  options.progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  std::vector<std::string> data{"--data", config.data_dir};
  std::unique_ptr<store::Database> db;
  if (Status s = OpenDb(&data, false, "", "the server's own schedule ([audit] prune_interval_s)", &db); !s.ok()) return Fail(s);
  // The config may have lost its follow.url, the data cannot: a database
  // that ever followed a primary is a follower's, and only its running
  // server learns which of its entries the primary holds.
  if (std::string cursor; db->Get(store::Database::kMeta, hsync::Follower::kCursorKey, &cursor).ok()) {
    return Fail(Status::InvalidArgument("audit prune: " + config.data_dir +
                                        " is a follower's database (it has a follow cursor): only its running server "
                                        "knows which entries its primary holds, and it prunes by itself on its schedule"));
  }
  std::unique_ptr<store::AuditLog> log;
  if (Status s = store::AuditLog::Open(db.get(), options, &log); !s.ok()) return Fail(s);
  store::RetentionPolicy p = store::AuditPruneSchedule::PolicyFor(config.retain_days, config.retain_no_match_days);
  p.dry_run = dry_run;
  p.progress = options.progress;
  store::PruneResult r;
  if (Status s = log->Prune(p, &r); !s.ok()) return Fail(s);
  std::printf("%s%llu entries cut (the log now starts after entry %llu), %llu no-match records reduced to stubs\n",
              dry_run ? "dry run: " : "", static_cast<unsigned long long>(r.cut), static_cast<unsigned long long>(r.base_seq),
              static_cast<unsigned long long>(r.stubbed));
  if (r.held_by_review != 0) {
    std::printf("the cut stops before entry %llu: a review of it is younger than audit.retain_days\n",
                static_cast<unsigned long long>(r.held_by_review));
  }
  if (!r.checkpoint.empty()) std::printf("base checkpoint: %s\n", r.checkpoint.c_str());
  return 0;
}

int Audit(std::vector<std::string> args) {
  if (!args.empty() && args[0] == "prune") return AuditPrune({args.begin() + 1, args.end()});
  if (args.empty() || args[0] != "reindex") return Usage("audit: the commands are `audit reindex --data DIR` and `audit prune`");
  args.erase(args.begin());
  std::unique_ptr<store::Database> db;
  if (Status s = OpenDb(&args, false, "", "hashscreen audit list", &db); !s.ok()) return Fail(s);
  if (!args.empty()) return Usage(("audit reindex: unknown option " + args[0]).c_str());
  Status s = store::AuditLog::Reindex(db.get(), [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
  return s.ok() ? 0 : Fail(s);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::printf("%s", kUsage);
    return 0;
  }
  // A forced SIMD path the CPU lacks (or a typo) stops every command: the
  // server never silently runs another path than the operator asked for.
  if (Status s = base::InitSimd(); !s.ok()) return Fail(s);
  if (cmd == "--version") {
    std::printf("%ssimd: %s, %s, %s\n", base::VersionText("hashscreend").c_str(), base::DescribeSimd().c_str(),
                base::DescribeFamily(hashing::PdqKernelFamily()).c_str(), base::DescribeFamily(idx::PdqScanKernelFamily()).c_str());
    return 0;
  }
  if (cmd == "serve") return Serve(args);
  if (cmd == "keys") return Keys(args);
  if (cmd == "lists") return Lists(args);
  if (cmd == "audit") return Audit(args);
  return Usage(("unknown command '" + cmd + "'").c_str());
}
