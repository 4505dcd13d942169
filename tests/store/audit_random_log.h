// Random audit logs for tests (tests/store/audit_index_test.cc,
// audit_retention_test.cc): a primary holding a follower's forwarded entries
// (random verdicts, lists, partners, reviews, events, batches, times), the
// brute-force answer of a query over every entry not pruned, and paging.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include "store/audit_index.h"
#include "store/audit_log.h"
#include "tests/test_support.h"

namespace audit_test {

using store::AuditEntry;
using store::AuditLog;
using store::AuditQuery;
using store::Database;

struct Instance {
  testing_support::TempDir dir;
  std::unique_ptr<Database> db;
  std::unique_ptr<AuditLog> log;
  std::vector<std::string> progress;
  std::string hmac_key;
  explicit Instance(std::string key = {}) : hmac_key(std::move(key)) { Open(); }
  void Open() {
    log.reset();
    db.reset();
    REQUIRE(Database::Open(dir.path().string(), {}, &db).ok());
    AuditLog::Options options;
    options.sync = false;
    options.hmac_key = hmac_key;
    options.progress = [this](const std::string& line) { progress.push_back(line); };
    REQUIRE(AuditLog::Open(db.get(), options, &log).ok());
  }
  // Empties the index, marker included: the database of a server from before it.
  void DropIndex() {
    rocksdb::WriteBatch batch;
    batch.DeleteRange(db->family(Database::kAuditIndex), "", std::string(1, '\xff'));
    REQUIRE(db->Write(&batch, true).ok());
  }
};

inline const char* const kPartners[] = {"acme", "beta", "gamma"};

inline AuditEntry RandomEntry(std::mt19937_64& rng) {
  AuditEntry e;
  e.key_id = "0123456789abcdef";
  const int kind = static_cast<int>(rng() % 20);
  if (kind == 0) {
    e.kind = AuditEntry::Kind::kEvent;
    e.event = "key_created";
    return e;
  }
  if (kind == 1) {
    e.kind = AuditEntry::Kind::kBatch;
    e.source = "hashes";
    e.verdict = "no_match";
    e.batch_count = 3;
    return e;
  }
  e.source = "hashes";
  e.caller_ref = "ref-" + std::to_string(rng() % 1000);
  const int v = static_cast<int>(rng() % 10);
  e.verdict = v < 5 ? "match" : v < 9 ? "no_match" : "error";
  const int hits = e.verdict == "match" ? 1 + static_cast<int>(rng() % 3) : e.verdict == "no_match" ? static_cast<int>(rng() % 2) : 0;
  for (int i = 0; i < hits; ++i) {
    store::AuditHit h;
    h.list_id = 1 + rng() % 4;
    h.partner = kPartners[(h.list_id + rng() % 2) % 3];
    h.list_kind = e.verdict == "match" ? "block" : "allow";
    h.signal = "md5";
    h.hash_hex = std::string(32, 'a');
    if (rng() % 2) h.first_seen_ms = 1700000000000 + static_cast<int64_t>(rng() % 1000);
    if (rng() % 3 == 0) h.tags = {"cat-a", "x;y"};
    e.hits.push_back(h);
  }
  return e;
}

inline const char* const kDispositions[] = {"confirmed", "false_positive", "escalated", "reported"};

// Builds a random log on `primary`: its own entries, a follower's forwarded
// in chunks between them, and reviews of both.
inline void BuildRandomLog(Instance& primary, Instance& follower, std::mt19937_64& rng, int n) {
  uint64_t forwarded = 0;
  std::vector<uint64_t> screens;
  for (int i = 0; i < n; ++i) {
    if (rng() % 25 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // distinct times
    const int what = static_cast<int>(rng() % 10);
    if (what < 5) {
      AuditEntry e = RandomEntry(rng);
      REQUIRE(primary.log->Append(&e).ok());
      if (e.kind == AuditEntry::Kind::kScreen) screens.push_back(e.seq);
    } else if (what < 8) {
      AuditEntry e = RandomEntry(rng);
      REQUIRE(follower.log->Append(&e).ok());
    } else if (what == 8 && forwarded < follower.log->last_seq()) {
      std::vector<std::string> stored;
      REQUIRE(follower.log->ReadStored(forwarded, 1 + rng() % 8, 1 << 20, &stored).ok());
      const uint64_t before = primary.log->last_seq();
      store::ForwardResult r;
      REQUIRE(primary.log->AppendForwarded(follower.db->instance_id(), stored, "replica", "", &r).ok());
      forwarded = r.last_seq;
      for (uint64_t s = before + 1; s <= primary.log->last_seq(); ++s) {
        AuditEntry got;
        REQUIRE(primary.log->Get(s, &got).ok());
        if (got.effective().kind == AuditEntry::Kind::kScreen) screens.push_back(s);
      }
    } else if (!screens.empty()) {
      store::ReviewInput in;
      in.disposition = kDispositions[rng() % 4];
      in.note = "note " + std::to_string(i);
      if (in.disposition == "reported") in.report_id = "CT-" + std::to_string(rng() % 100000);
      AuditEntry review;
      bool note_required = false;
      REQUIRE(primary.log->AppendReview(screens[rng() % screens.size()], in, "reviewer", &review, "", &note_required).ok());
    }
  }
}

// Every entry of the log, and each screen's current disposition, by brute force.
struct Truth {
  std::vector<AuditEntry> entries;
  std::map<uint64_t, std::string> disposition;  // reviewed screens
};

inline Truth ReadAll(const AuditLog& log) {
  Truth t;
  for (uint64_t s = 1; s <= log.last_seq(); ++s) {
    AuditEntry e;
    const base::Status got = log.Get(s, &e);
    if (got.code() == base::Status::Code::kNotFound && log.Pruned(s)) continue;  // retention
    REQUIRE(got.ok());
    if (e.kind == AuditEntry::Kind::kReview) t.disposition[e.target_seq] = e.disposition;
    t.entries.push_back(std::move(e));
  }
  return t;
}

inline std::vector<uint64_t> Expected(const Truth& t, const AuditQuery& q, const std::string& own) {
  std::vector<std::pair<int64_t, uint64_t>> hits;
  for (const auto& e : t.entries) {
    const AuditEntry& x = e.effective();
    if (q.instance && (e.origin ? e.instance : own) != *q.instance) continue;
    if (!q.verdict.empty() && store::audit_index::VerdictClass(x) != q.verdict) continue;
    if (q.list_id && std::none_of(x.hits.begin(), x.hits.end(), [&](auto& h) { return h.list_id == *q.list_id; })) continue;
    if (!q.partner.empty() && std::none_of(x.hits.begin(), x.hits.end(), [&](auto& h) { return h.partner == q.partner; })) {
      continue;
    }
    if (!q.disposition.empty()) {
      if (x.kind != AuditEntry::Kind::kScreen) continue;
      auto d = t.disposition.find(e.seq);
      const std::string current = d != t.disposition.end() ? d->second : x.verdict == "match" ? "unreviewed" : "";
      if (current != q.disposition) continue;
    }
    if (q.since_ms && e.time_ms < *q.since_ms) continue;
    if (q.until_ms && e.time_ms > *q.until_ms) continue;
    hits.push_back({e.time_ms, e.seq});
  }
  std::sort(hits.begin(), hits.end());
  if (q.newest_first) std::reverse(hits.begin(), hits.end());
  std::vector<uint64_t> out;
  for (auto& h : hits) out.push_back(h.second);
  return out;
}

// All pages of `q` with random limits; no page is empty while results remain.
inline std::vector<uint64_t> Paged(const AuditLog& log, AuditQuery q, std::mt19937_64& rng) {
  std::vector<uint64_t> out;
  q.after = 0;
  for (int pages = 0; pages < 100000; ++pages) {
    q.limit = 1 + rng() % 7;
    std::vector<AuditEntry> page;
    uint64_t next = 0;
    REQUIRE(log.Query(q, &page, &next).ok());
    for (auto& e : page) out.push_back(e.seq);
    if (next == 0) break;
    REQUIRE_MESSAGE(!page.empty(), "an empty page with a cursor");
    q.after = next;
  }
  return out;
}

inline void CompareAll(const AuditLog& log, const Database& db, const std::string& follower, std::mt19937_64& rng, int samples) {
  const Truth t = ReadAll(log);
  const int64_t t0 = t.entries.front().time_ms, t1 = t.entries.back().time_ms;
  const std::vector<std::string> verdicts = {"", "match", "no_match", "error", "review", "event", "batch"};
  const std::vector<std::string> dispositions = {"", "unreviewed", "confirmed", "false_positive", "escalated", "reported"};
  const std::vector<std::string> partners = {"", "acme", "beta", "gamma", "nobody"};
  for (int i = 0; i < samples; ++i) {
    AuditQuery q;
    // Each filter present with probability 1/2 (the single filters and the
    // empty query come up as often as any combination).
    if (rng() % 2) q.verdict = verdicts[rng() % verdicts.size()];
    if (rng() % 3 == 0) q.list_id = rng() % 6;
    if (rng() % 3 == 0) q.partner = partners[rng() % partners.size()];
    if (rng() % 2) q.disposition = dispositions[rng() % dispositions.size()];
    if (rng() % 3 == 0) q.instance = rng() % 2 ? follower : db.instance_id();
    const int64_t span = std::max<int64_t>(1, t1 - t0 + 2);
    if (rng() % 3 == 0) q.since_ms = t0 - 1 + static_cast<int64_t>(rng() % span);
    if (rng() % 3 == 0) q.until_ms = t0 - 1 + static_cast<int64_t>(rng() % span);
    q.newest_first = rng() % 2;
    CAPTURE(q.verdict);
    CAPTURE(q.list_id.value_or(0));
    CAPTURE(q.partner);
    CAPTURE(q.disposition);
    CAPTURE(q.instance.value_or(""));
    CAPTURE(q.since_ms.value_or(-1));
    CAPTURE(q.until_ms.value_or(-1));
    CAPTURE(q.newest_first);
    REQUIRE(Paged(log, q, rng) == Expected(t, q, db.instance_id()));
  }
}

}  // namespace audit_test
