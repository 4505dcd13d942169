// seed_audit: writes N realistic audit entries straight through
// store::AuditLog into a hashscreend data directory, for the console's
// queue at scale (tests/web/queue_scale.test.mjs, bench/console_queue.sh).
//
// The log looks like a working service's: screens of images and of hashes by
// several ingest keys, ~1% matches (--match-permille) on 20 lists of 5
// partners (PDQ hits with distances and dihedral variants, exact digests),
// 0.2% errors, a few events, --forwarded-percent of the entries forwarded
// from two follower instances (their own chains, appended with
// AppendForwarded between the primary's screens), and --reviewed-percent of
// the matches reviewed with every disposition (some twice, with a note).
// Appends go through AuditLog::Append from several threads with group commit
// and no fsync (one write per group of up to 1024 entries): the same chain,
// index and head a running server writes, so `audit verify` holds.
//
// Entry times are the log's own clock at append (AuditLog assigns them), so a
// seeded log spans the seconds it took to write.
//
// Prints one JSON object on stdout: counts, seconds, and the independently
// tracked queue (matches not reviewed, oldest first): its length and its
// first --queue-head seqs, which the browser test compares with the page.
//
//   seed_audit --data DIR --entries N [--match-permille 10]
//              [--reviewed-percent 30] [--forwarded-percent 5]
//              [--threads 8] [--queue-head 100] [--seed 1]
//
// Exit 0 on success, 2 for a usage error (naming the option), 1 for a store
// error. The data directory is created when missing; an existing audit log is
// appended to (the queue then counts only the entries written by this run).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "base/hex.h"
#include "base/number_parse.h"
#include "store/audit_log.h"
#include "store/database.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kPartners[] = {"acme", "globex", "initech", "umbrella", "hooli"};
constexpr const char* kIngestKeys[] = {"1a2b3c4d5e6f7081", "92a3b4c5d6e7f809", "0f1e2d3c4b5a6978"};
constexpr const char* kReviewers[] = {"7e57ab1e00c0ffee", "b01dface0ddba115"};
constexpr const char* kReplicaKey = "5eed5eed5eed5eed";
constexpr const char* kFormats[] = {"jpeg", "png", "webp", "gif"};
constexpr const char* kTags[] = {"csam", "sexual-exploitation", "grooming", "sextortion"};
constexpr const char* kErrors[] = {"unsupported", "corruption", "too_large"};
constexpr const char* kDispositions[] = {"confirmed", "false_positive", "escalated", "reported"};

struct Settings {
  std::string data;
  uint64_t entries = 0;
  uint64_t match_permille = 10;
  uint64_t reviewed_percent = 30;
  uint64_t forwarded_percent = 5;
  uint64_t threads = 8;
  uint64_t queue_head = 100;
  uint64_t seed = 1;
};

[[noreturn]] void Fail(const base::Status& s, const char* what) {
  std::fprintf(stderr, "seed_audit: %s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

std::string RandomHex(std::mt19937_64& rng, size_t bytes) {
  std::string raw(bytes, '\0');
  for (auto& c : raw) c = static_cast<char>(rng());
  return base::HexEncode(raw);
}

// One screen entry (or, rarely, an event); *is_match says whether it is a
// match, the only entries the queue holds.
store::AuditEntry MakeEntry(std::mt19937_64& rng, uint64_t match_permille, bool* is_match) {
  store::AuditEntry e;
  *is_match = false;
  const uint64_t r = rng() % 100000;
  e.key_id = kIngestKeys[rng() % 3];
  e.request_id = RandomHex(rng, 8);
  if (r < 20) {  // 0.02%: an event about a key
    e.kind = store::AuditEntry::Kind::kEvent;
    e.event = rng() % 2 ? "probing_suspected" : "key_created";
    e.detail = "seeded event";
    return e;
  }
  const bool image = rng() % 4 != 0;  // 3 in 4 uploads, 1 in 4 hash queries
  e.source = image ? "image" : "hashes";
  e.caller_ref = (image ? "upload-" : "item-") + std::to_string(rng() % 1000000000);
  e.pdq_hex = RandomHex(rng, 32);
  e.quality = 50 + static_cast<int>(rng() % 51);
  e.pdq_used = true;
  e.md5_hex = RandomHex(rng, 16);
  e.sha256_hex = RandomHex(rng, 32);
  if (image) {
    e.format = kFormats[rng() % 4];
    e.width = 320 + static_cast<int>(rng() % 3700);
    e.height = 240 + static_cast<int>(rng() % 2800);
    e.size_bytes = 20000 + rng() % 8000000;
  }
  if (r < 20 + match_permille * 100) {
    e.verdict = "match";
    *is_match = true;
    const int hits = rng() % 10 == 0 ? 2 : 1;
    for (int i = 0; i < hits; ++i) {
      store::AuditHit h;
      h.list_id = 1 + rng() % 20;
      h.list_name = "list-" + std::to_string(h.list_id);
      h.partner = kPartners[h.list_id % 5];
      h.partner_ref = h.partner + "-" + std::to_string(rng() % 10000000);
      h.list_kind = "block";
      const bool pdq = rng() % 5 != 0;
      h.signal = pdq ? "pdq" : "md5";
      h.hash_hex = pdq ? RandomHex(rng, 32) : e.md5_hex;
      h.distance = pdq ? static_cast<int>(rng() % 32) : 0;
      h.variant = pdq && rng() % 10 == 0 ? 1 + static_cast<int>(rng() % 7) : 0;
      if (rng() % 2) h.tags = {kTags[rng() % 4]};
      h.first_seen_ms = 1700000000000 + static_cast<int64_t>(rng() % 50000000000ULL);
      e.hits.push_back(std::move(h));
    }
  } else if (r < 20 + match_permille * 100 + 200) {
    e.verdict = "error";
    e.error_code = kErrors[rng() % 3];
    e.pdq_hex.clear();
    e.quality = -1;
    e.pdq_used = false;
  } else {
    e.verdict = "no_match";
  }
  return e;
}

// Appends n entries from `threads` threads (group commit); returns the seqs
// of the matches among them.
std::vector<uint64_t> Fill(store::AuditLog* log, uint64_t n, uint64_t threads, uint64_t seed, uint64_t match_permille) {
  std::vector<std::vector<uint64_t>> matches(threads);
  std::vector<std::thread> workers;
  for (uint64_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937_64 rng(seed * 1000 + t);
      for (uint64_t i = t; i < n; i += threads) {
        bool is_match = false;
        store::AuditEntry e = MakeEntry(rng, match_permille, &is_match);
        if (base::Status s = log->Append(&e); !s.ok()) Fail(s, "append");
        if (is_match) matches[t].push_back(e.seq);
      }
    });
  }
  for (auto& w : workers) w.join();
  std::vector<uint64_t> all;
  for (auto& m : matches) all.insert(all.end(), m.begin(), m.end());
  return all;
}

// A follower instance: its own database (in a temp dir) and chain, whose
// entries the primary takes with AppendForwarded as a real forwarder does.
struct Follower {
  std::string dir;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::AuditLog> log;
  std::vector<uint64_t> matches;  // the follower's own seqs
  uint64_t forwarded = 0;         // its last seq held by the primary
};

// Forwards the follower's entries not yet on the primary, in chunks of
// kMaxForwardEntries; appends the primary seqs of its matches to *out.
void Forward(store::AuditLog* primary, Follower* f, std::vector<uint64_t>* out) {
  size_t next_match = std::lower_bound(f->matches.begin(), f->matches.end(), f->forwarded + 1) - f->matches.begin();
  while (f->forwarded < f->log->last_seq()) {
    std::vector<std::string> stored;
    if (base::Status s = f->log->ReadStored(f->forwarded, store::AuditLog::kMaxForwardEntries, 64 << 20, &stored); !s.ok()) {
      Fail(s, "read follower");
    }
    const uint64_t before = primary->last_seq();
    store::ForwardResult r;
    if (base::Status s = primary->AppendForwarded(f->db->instance_id(), stored, kReplicaKey, "", &r); !s.ok()) {
      Fail(s, "forward");
    }
    // One atomic write of contiguous seqs (nothing else appends meanwhile):
    // the follower's seq k lands at before + (k - first).
    const uint64_t first = f->forwarded + 1;
    if (r.stored != stored.size() || primary->last_seq() != before + stored.size()) {
      Fail(base::Status::Corruption("forwarded entries did not land contiguously"), "forward");
    }
    for (; next_match < f->matches.size() && f->matches[next_match] <= r.last_seq; ++next_match) {
      out->push_back(before + 1 + (f->matches[next_match] - first));
    }
    f->forwarded = r.last_seq;
  }
}

bool ParseArgs(int argc, char** argv, Settings* s) {
  auto usage = [](const std::string& why) {
    std::fprintf(stderr,
                 "seed_audit: %s\nusage: seed_audit --data DIR --entries N [--match-permille 10] [--reviewed-percent 30]\n"
                 "                  [--forwarded-percent 5] [--threads 8] [--queue-head 100] [--seed 1]\n",
                 why.c_str());
    return false;
  };
  struct Number {
    const char* flag;
    uint64_t min, max;
    uint64_t* out;
  };
  const Number numbers[] = {
      {"--entries", 1, 100'000'000, &s->entries},          {"--match-permille", 0, 1000 - 3, &s->match_permille},
      {"--reviewed-percent", 0, 100, &s->reviewed_percent}, {"--forwarded-percent", 0, 50, &s->forwarded_percent},
      {"--threads", 1, 64, &s->threads},                    {"--queue-head", 0, 100000, &s->queue_head},
      {"--seed", 0, UINT32_MAX, &s->seed},
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage("option " + a + " needs a value (or is unknown)");
    const char* value = argv[++i];
    if (a == "--data") {
      s->data = value;
      continue;
    }
    bool known = false;
    for (const auto& n : numbers) {
      if (a != n.flag) continue;
      known = true;
      if (base::Status st = base::ParseUint(value, n.flag, n.min, n.max, n.out); !st.ok()) return usage(st.ToString());
    }
    if (!known) return usage("unknown option " + a);
  }
  if (s->data.empty()) return usage("--data is required");
  if (s->entries == 0) return usage("--entries is required");
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  if (!ParseArgs(argc, argv, &settings)) return 2;
  const auto t0 = Clock::now();

  store::AuditLog::Options options;
  options.sync = false;      // a seed, not a service: the data dir is thrown away if this dies
  options.max_group = 1024;  // bigger shared writes than a server's (256)
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::AuditLog> log;
  if (base::Status s = store::Database::Open(settings.data, {}, &db); !s.ok()) Fail(s, "open");
  if (base::Status s = store::AuditLog::Open(db.get(), options, &log); !s.ok()) Fail(s, "open");
  const uint64_t first_seq = log->last_seq() + 1;

  Follower followers[2];
  const std::string temp = (std::filesystem::temp_directory_path() / ("seed_audit." + std::to_string(::getpid()))).string();
  for (int i = 0; i < 2; ++i) {
    followers[i].dir = temp + "/follower" + std::to_string(i);
    if (base::Status s = store::Database::Open(followers[i].dir, {}, &followers[i].db); !s.ok()) Fail(s, "open follower");
    if (base::Status s = store::AuditLog::Open(followers[i].db.get(), options, &followers[i].log); !s.ok()) {
      Fail(s, "open follower");
    }
  }

  // The primary's screens in 10 slices; after each, the followers' entries
  // of that slice arrive (as a forwarder delivers them, between the primary's).
  const uint64_t forwarded = settings.entries * settings.forwarded_percent / 100;
  const uint64_t own = settings.entries - forwarded;
  std::vector<uint64_t> matches;
  constexpr uint64_t kSlices = 10;
  for (uint64_t slice = 0; slice < kSlices; ++slice) {
    const uint64_t n = own * (slice + 1) / kSlices - own * slice / kSlices;
    std::vector<uint64_t> m = Fill(log.get(), n, settings.threads, settings.seed * 100 + slice, settings.match_permille);
    matches.insert(matches.end(), m.begin(), m.end());
    for (uint64_t i = 0; i < 2; ++i) {
      const uint64_t share = forwarded / 2 + (i == 0 ? forwarded % 2 : 0);
      const uint64_t fn = share * (slice + 1) / kSlices - share * slice / kSlices;
      Follower& f = followers[i];
      std::vector<uint64_t> fm = Fill(f.log.get(), fn, 2, settings.seed * 100 + 50 + slice * 2 + i, settings.match_permille);
      std::sort(fm.begin(), fm.end());
      f.matches.insert(f.matches.end(), fm.begin(), fm.end());
      Forward(log.get(), &f, &matches);
    }
  }
  std::sort(matches.begin(), matches.end());
  const double append_s = std::chrono::duration<double>(Clock::now() - t0).count();

  // Reviews: --reviewed-percent of the matches, every disposition; one in
  // ten of them reviewed again (a change needs a note).
  std::mt19937_64 rng(settings.seed * 7919 + 3);
  std::vector<uint64_t> queue;
  uint64_t reviews = 0;
  for (uint64_t seq : matches) {
    if (rng() % 100 >= settings.reviewed_percent) {
      queue.push_back(seq);
      continue;
    }
    const int passes = rng() % 10 == 0 ? 2 : 1;
    for (int p = 0; p < passes; ++p) {
      store::ReviewInput in;
      in.disposition = kDispositions[rng() % 4];
      if (in.disposition == "reported") in.report_id = "CT-" + std::to_string(100000000 + seq);
      in.note = p == 0 ? (rng() % 2 ? "checked against the partner reference" : "") : "second look by the lead";
      store::AuditEntry review;
      bool note_required = false;
      if (base::Status s = log->AppendReview(seq, in, kReviewers[p], &review, "", &note_required); !s.ok()) Fail(s, "review");
      ++reviews;
    }
  }
  const double total_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const uint64_t written = log->last_seq() - first_seq + 1;

  std::printf("{\"entries\": %llu, \"forwarded\": %llu, \"matches\": %zu, \"reviews\": %llu, \"queue_length\": %zu, "
              "\"append_s\": %.2f, \"total_s\": %.2f, \"entries_per_s\": %.0f, \"instances\": [\"%s\", \"%s\", \"%s\"], "
              "\"queue_head\": [",
              static_cast<unsigned long long>(written), static_cast<unsigned long long>(forwarded), matches.size(),
              static_cast<unsigned long long>(reviews), queue.size(), append_s, total_s,
              static_cast<double>(written) / total_s, db->instance_id().c_str(),
              followers[0].db->instance_id().c_str(), followers[1].db->instance_id().c_str());
  for (size_t i = 0; i < queue.size() && i < settings.queue_head; ++i) {
    std::printf("%s%llu", i ? ", " : "", static_cast<unsigned long long>(queue[i]));
  }
  std::printf("]}\n");

  for (auto& f : followers) {
    f.log.reset();
    f.db.reset();
  }
  std::filesystem::remove_all(temp);
  log.reset();
  db.reset();
  return 0;
}
