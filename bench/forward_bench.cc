// forward_bench: how soon a screen on a follower is visible on the
// primary's GET /v1/audit (issue 10: within 5 s, p99), with a real primary
// and follower hashscreend on loopback over HTTPS.
//
// Each of --screens hash screens is sent to the follower, then the primary
// is polled (every 2 ms) until its log shows the entry under the follower's
// instance and the screen's audit_id; the time from sending the screen to
// seeing it is the latency. Baseline, same run: the screen's own round trip
// on the follower, so the printed ratio says what forwarding adds on this
// machine. Then a burst: --screens screens back to back, and the time until
// the primary holds them all.
//
// Usage: forward_bench [--screens N]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "base/number_parse.h"
#include "bench/bench_process.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

double MsSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

std::string CreateKey(const fs::path& data, const std::string& role, const std::vector<std::string>& flags = {}) {
  std::vector<std::string> argv = {HASHSCREEND, "keys", "create", "--create", "--data", data.string(), "--role", role};
  argv.insert(argv.end(), flags.begin(), flags.end());
  std::string out;
  if (bench::RunProgram(argv, &out) != 0) return "";
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out.substr(out.rfind('\n') + 1);
}

struct Server : bench::ServerProcess {
  fs::path certs;
  bool Start(const fs::path& data, const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {HASHSCREEND, "serve", "--data", data.string(), "--listen", "127.0.0.1:0",
                                     "--tls-cert", (certs / "cert.pem").string(), "--tls-key", (certs / "key.pem").string(),
                                     "--log-requests=false", "--metrics-listen", "", "--rate-per-key", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Spawn(argv, data.string() + ".log");
  }
  std::unique_ptr<httplib::SSLClient> Client() const {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port);
    c->set_ca_cert_path((certs / "cert.pem").c_str());
    c->enable_server_certificate_verification(true);
    c->set_keep_alive(true);
    c->set_read_timeout(60, 0);
    return c;
  }
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// The primary's entries of `instance` after `*after`; advances *after.
bool Poll(httplib::SSLClient& c, const std::string& key, const std::string& instance, uint64_t* after,
          uint64_t* newest_instance_seq) {
  auto r = c.Get(("/v1/audit?limit=1000&instance=" + instance + "&after=" + std::to_string(*after)).c_str(),
                 {{"Authorization", "Bearer " + key}});
  if (!r || r->status != 200) return false;
  json j = json::parse(r->body, nullptr, false);
  if (!j.is_object()) return false;
  for (const auto& e : j["entries"]) {
    *after = std::max(*after, e["seq"].get<uint64_t>());
    *newest_instance_seq = std::max(*newest_instance_seq, e["instance_seq"].get<uint64_t>());
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t screens = 300;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--screens" && i + 1 < argc) {
      if (auto s = base::ParseUint(argv[++i], "--screens", 1, 100000, &screens); !s.ok()) {
        std::fprintf(stderr, "forward_bench: %s\n", s.ToString().c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "forward_bench: unknown option %s\nusage: forward_bench [--screens N]\n", a.c_str());
      return 2;
    }
  }
  const fs::path dir = fs::temp_directory_path() / ("hashscreen-forward-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string out;
  if (bench::RunProgram({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                         "-nodes", "-keyout", (dir / "key.pem").string(), "-out", (dir / "cert.pem").string(), "-days",
                         "30", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"},
                        &out) != 0) {
    std::fprintf(stderr, "forward_bench: openssl failed\n");
    return 1;
  }
  const fs::path pdata = dir / "primary", fdata = dir / "follower";
  const std::string replica = CreateKey(pdata, "replica"), reviewer = CreateKey(pdata, "reviewer");
  const std::string ingest = CreateKey(fdata, "ingest", {"--hash-queries"}), fadmin = CreateKey(fdata, "admin");
  std::ofstream(dir / "replica.key") << replica << "\n";
  Server primary, follower;
  primary.certs = follower.certs = dir;
  int rc = 1;
  if (!primary.Start(pdata, {}) ||
      !follower.Start(fdata, {"--follow", "https://127.0.0.1:" + std::to_string(primary.port), "--follow-key-file",
                              (dir / "replica.key").string(), "--follow-cacert", (dir / "cert.pem").string()})) {
    std::fprintf(stderr, "forward_bench: a server did not start (logs in %s)\n", dir.c_str());
  } else {
    auto fc = follower.Client(), pc = primary.Client(), ac = follower.Client();
    std::string fid;
    if (auto r = ac->Get("/v1/audit/checkpoint", {{"Authorization", "Bearer " + fadmin}}); r && r->status == 200) {
      fid = json::parse(r->body)["instance_id"].get<std::string>();
    }
    std::mt19937_64 rng(1);
    auto screen = [&](uint64_t* audit_id) {
      static const char* kHex = "0123456789abcdef";
      std::string pdq(64, '0');
      for (auto& ch : pdq) ch = kHex[rng() & 15];
      auto r = fc->Post("/v1/screen/hashes", {{"Authorization", "Bearer " + ingest}}, json{{"pdq", pdq}}.dump(),
                        "application/json");
      if (!r || r->status != 200) return false;
      *audit_id = std::stoull(json::parse(r->body)["audit_id"].get<std::string>());
      return true;
    };
    std::vector<double> latency, round_trip;
    uint64_t after = 0, newest = 0;
    bool ok = !fid.empty();
    for (uint64_t i = 0; ok && i < screens; ++i) {
      const auto t0 = Clock::now();
      uint64_t id = 0;
      ok = screen(&id);
      round_trip.push_back(MsSince(t0));
      while (ok && newest < id) {
        ok = Poll(*pc, reviewer, fid, &after, &newest) && MsSince(t0) < 60000;
        if (newest < id) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      latency.push_back(MsSince(t0));
    }
    // Burst: all screens first, then wait for the last.
    const auto b0 = Clock::now();
    uint64_t last = 0;
    for (uint64_t i = 0; ok && i < screens; ++i) ok = screen(&last);
    const double burst_screens_ms = MsSince(b0);
    while (ok && newest < last && MsSince(b0) < 120000) {
      ok = Poll(*pc, reviewer, fid, &after, &newest);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const double burst_ms = MsSince(b0);
    if (!ok) {
      std::fprintf(stderr, "forward_bench: a request failed (logs in %s)\n", dir.c_str());
    } else {
      const double p50 = Percentile(latency, 0.5), p99 = Percentile(latency, 0.99);
      const double rt50 = Percentile(round_trip, 0.5), rt99 = Percentile(round_trip, 0.99);
      std::printf("screens: %llu (one at a time)\n", static_cast<unsigned long long>(screens));
      std::printf("baseline, the screen's round trip on the follower: p50 %.1f ms  p99 %.1f ms\n", rt50, rt99);
      std::printf("screen sent -> visible on the primary:             p50 %.1f ms  p99 %.1f ms  max %.1f ms\n", p50, p99,
                  Percentile(latency, 1.0));
      std::printf("ratio to baseline: p50 %.2fx  p99 %.2fx; target p99 < 5000 ms: %s\n", p50 / rt50, p99 / rt99,
                  p99 < 5000 ? "met" : "NOT met");
      std::printf("burst of %llu screens: sent in %.0f ms, all on the primary after %.0f ms\n",
                  static_cast<unsigned long long>(screens), burst_screens_ms, burst_ms);
      rc = 0;
    }
  }
  follower.Stop();
  primary.Stop();
  std::error_code ec;
  fs::remove_all(dir, ec);
  return rc;
}
