#include "store/audit_retention.h"

#include <algorithm>
#include <vector>

#include "base/clock.h"
#include "base/coding.h"
#include "base/crypto.h"
#include "store/audit_index.h"
#include "store/audit_log.h"
#include "store/audit_stored.h"

#include <rocksdb/iterator.h>

namespace store {

namespace audit_retention {

namespace {

constexpr std::string_view kBaseMacDomain = "hashscreen audit base v1";
constexpr std::string_view kStubMacDomain = "hashscreen audit stub v1";
constexpr size_t kMaxInstances = 1 << 20;

// The base record without its MAC: what the MAC covers.
std::string BaseBody(const Base& b) {
  std::string v;
  base::PutU64(&v, b.seq);
  v.append(base::AsBytes(b.hash));
  base::PutU64(&v, static_cast<uint64_t>(b.time_ms));
  base::PutU64(&v, b.instances.size());
  for (const auto& [instance, at] : b.instances) {
    base::PutLengthPrefixed(&v, instance);
    base::PutU64(&v, at.first);
    v.append(base::AsBytes(at.second));
  }
  return v;
}

std::string Mac(std::string_view domain, std::string_view instance_id, std::string_view key, const std::string& body) {
  std::string message(domain);
  base::PutLengthPrefixed(&message, instance_id);
  message.append(body);
  return std::string(base::AsBytes(base::HmacSha256(key, message)));
}

// The stub without its MAC: what the MAC covers.
std::string StubBody(const AuditEntry& e) {
  std::string v;
  v.push_back(static_cast<char>(kStubMarker));
  base::PutU64(&v, e.seq);
  base::PutU64(&v, static_cast<uint64_t>(e.time_ms));
  v.push_back(static_cast<char>(e.kind));
  if (e.kind == AuditEntry::Kind::kForwarded) {
    base::PutLengthPrefixed(&v, e.instance);
    base::PutU64(&v, e.origin->seq);
    v.append(base::AsBytes(e.origin->prev_hash));
    v.append(base::AsBytes(e.origin->entry_hash));
  }
  v.append(base::AsBytes(e.prev_hash));
  v.append(base::AsBytes(e.entry_hash));
  v.push_back(static_cast<char>(e.hmac.size()));
  v.append(e.hmac);
  return v;
}

}  // namespace

std::string EncodeBase(const Base& b, std::string_view instance_id, std::string_view key) {
  std::string v = BaseBody(b);
  if (!key.empty()) v.append(Mac(kBaseMacDomain, instance_id, key, v));
  return v;
}

base::Status DecodeBase(std::string_view value, Base* out) {
  *out = Base();
  base::ByteReader r(value);
  out->seq = r.U64();
  r.Array(&out->hash);
  out->time_ms = static_cast<int64_t>(r.U64());
  const uint64_t n = r.U64();
  if (r.bad() || n > kMaxInstances) return base::Status::Corruption("the audit chain's base record is damaged");
  for (uint64_t i = 0; i < n && !r.bad(); ++i) {
    std::string instance(r.LengthPrefixed(64));
    std::pair<uint64_t, std::array<uint8_t, 32>> at;
    at.first = r.U64();
    r.Array(&at.second);
    out->instances[instance] = at;
  }
  if (r.bad() || (r.remaining() != 0 && r.remaining() != 32)) {
    return base::Status::Corruption("the audit chain's base record is damaged");
  }
  out->mac = std::string(r.Rest());
  out->present = true;
  return base::Status::Ok();
}

bool BaseMacValid(const Base& b, std::string_view instance_id, std::string_view key) {
  return !b.mac.empty() && base::ConstantTimeEquals(b.mac, Mac(kBaseMacDomain, instance_id, key, BaseBody(b)));
}

std::string EncodeStub(const AuditEntry& e, std::string_view instance_id, std::string_view key) {
  std::string v = StubBody(e);
  const std::string mac = key.empty() ? std::string() : Mac(kStubMacDomain, instance_id, key, v);
  v.push_back(static_cast<char>(mac.size()));
  v.append(mac);
  return v;
}

base::Status DecodeStub(std::string_view value, AuditEntry* e) {
  *e = AuditEntry();
  base::ByteReader r(value);
  const auto damaged = [] { return base::Status::Corruption("a pruned audit entry (stub) is damaged"); };
  if (r.U8() != kStubMarker) return damaged();
  e->pruned = true;
  e->seq = r.U64();
  e->time_ms = static_cast<int64_t>(r.U64());
  const uint8_t kind = r.U8();
  if (r.bad() || kind < 1 || kind > 5) return damaged();
  e->kind = static_cast<AuditEntry::Kind>(kind);
  if (e->kind == AuditEntry::Kind::kForwarded) {
    e->instance = std::string(r.LengthPrefixed(64));
    auto origin = std::make_shared<AuditEntry>();
    origin->pruned = true;
    origin->seq = r.U64();
    r.Array(&origin->prev_hash);
    r.Array(&origin->entry_hash);
    e->origin = std::move(origin);
  }
  r.Array(&e->prev_hash);
  r.Array(&e->entry_hash);
  e->hmac = std::string(r.Bytes(r.U8()));
  e->stub_mac = std::string(r.Bytes(r.U8()));
  if (!r.done() || (!e->stub_mac.empty() && e->stub_mac.size() != 32)) return damaged();
  return base::Status::Ok();
}

bool StubMacValid(const AuditEntry& e, std::string_view instance_id, std::string_view key) {
  return e.pruned && !e.stub_mac.empty() &&
         base::ConstantTimeEquals(e.stub_mac, Mac(kStubMacDomain, instance_id, key, StubBody(e)));
}

bool IsNoMatchRecord(const AuditEntry& x) {
  if (x.kind == AuditEntry::Kind::kBatch) return true;
  return x.kind == AuditEntry::Kind::kScreen && x.verdict != "match";
}

}  // namespace audit_retention

namespace {

using audit_retention::Base;

std::string Utc(int64_t ms) { return ms == INT64_MIN ? std::string("none") : base::FormatUtc(ms); }

Status ReadBaseRecord(const Database* db, Base* out) {
  *out = Base();
  std::string v;
  Status s = db->Get(Database::kMeta, audit_stored::kBaseKey, &v);
  if (s.code() == Status::Code::kNotFound) return Status::Ok();
  HS_RETURN_IF_ERROR(s);
  return audit_retention::DecodeBase(v, out);
}

}  // namespace

bool AuditLog::Pruned(uint64_t seq) const {
  if (seq == 0) return false;
  if (seq <= base_seq()) return true;
  std::string v;
  if (!db_->Get(Database::kAudit, AuditKey(seq), &v).ok()) return false;
  return !v.empty() && static_cast<uint8_t>(v[0]) == audit_retention::kStubMarker;
}

uint64_t AuditLog::base_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return base_seq_;
}

Status AuditLog::CutPoint(int64_t horizon_ms, uint64_t limit, uint64_t* cut, uint64_t* held_by) const {
  *cut = 0;
  *held_by = 0;
  // The last entry older than the horizon, from the index of all entries
  // (time, seq order): one seek.
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->family(Database::kAuditIndex)));
  const std::string all = audit_index::IndexPrefix(audit_index::Filter());
  it->SeekForPrev(audit_index::PositionKey(all, horizon_ms, 0));
  HS_RETURN_IF_ERROR(FromRocks(it->status(), "reading the audit index"));
  uint64_t s = 0;
  if (it->Valid() && it->key().starts_with(all)) {
    int64_t t = 0;
    if (!audit_index::DecodePosition(std::string_view(it->key().data(), it->key().size()), &t, &s)) {
      return Status::Corruption("an audit index key is damaged");
    }
  }
  // Stubs have no index keys: those after the last indexed old entry (all
  // entries there older than the horizon are stubs) are found by a walk.
  {
    std::unique_ptr<rocksdb::Iterator> a(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->family(Database::kAudit)));
    for (a->Seek(AuditKey(std::max(s, base_seq()) + 1)); a->Valid(); a->Next()) {
      AuditEntry e;
      const std::string v = a->value().ToString();
      if (v.empty() || static_cast<uint8_t>(v[0]) != audit_retention::kStubMarker) break;
      HS_RETURN_IF_ERROR(audit_stored::Decode(v, &e));
      if (e.time_ms >= horizon_ms) break;
      s = e.seq;
    }
    HS_RETURN_IF_ERROR(FromRocks(a->status(), "reading the audit log"));
  }
  s = std::min(s, limit);
  // Each screen cut must take its reviews with it: the cut moves before any
  // screen at or before it whose latest review lies after it.
  std::vector<std::pair<uint64_t, uint64_t>> reviewed;  // target, latest review
  {
    std::unique_ptr<rocksdb::Iterator> m(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->family(Database::kMeta)));
    const std::string prefix = audit_stored::ReviewPrefix(0).substr(0, audit_stored::ReviewPrefix(0).size() - 8);
    for (m->Seek(prefix); m->Valid() && m->key().starts_with(prefix); m->Next()) {
      const rocksdb::Slice k = m->key();
      if (k.size() != prefix.size() + 16) return Status::Corruption("a review record of the audit log is damaged");
      const uint64_t target = base::GetU64(k.data() + prefix.size());
      if (target > s) break;
      const uint64_t review = base::GetU64(k.data() + prefix.size() + 8);
      if (!reviewed.empty() && reviewed.back().first == target) {
        reviewed.back().second = std::max(reviewed.back().second, review);
      } else {
        reviewed.emplace_back(target, review);
      }
    }
    HS_RETURN_IF_ERROR(FromRocks(m->status(), "reading reviews"));
  }
  for (bool moved = true; moved;) {
    moved = false;
    for (const auto& [target, review] : reviewed) {
      if (target > s) break;
      if (review > s) {
        *held_by = target;
        s = target - 1;
        moved = true;
        break;
      }
    }
  }
  *cut = s;
  return Status::Ok();
}

Status AuditLog::CutBatch(uint64_t from, uint64_t through, uint64_t cut_to, Base* b, uint64_t* cut_through) {
  *cut_through = from - 1;
  // Reviews and forwards read entries and then write: none of them may see
  // an entry this batch removes half-way.
  std::lock_guard<std::mutex> reviews(review_mu_);
  std::lock_guard<std::mutex> forwards(forward_mu_);
  rocksdb::WriteBatch batch;
  rocksdb::ColumnFamilyHandle* audit = db_->family(Database::kAudit);
  rocksdb::ColumnFamilyHandle* index = db_->family(Database::kAuditIndex);
  rocksdb::ColumnFamilyHandle* meta = db_->family(Database::kMeta);
  const std::string& own = db_->instance_id();
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), audit));
  uint64_t expect = from;
  for (it->Seek(AuditKey(from)); it->Valid(); it->Next(), ++expect) {
    const uint64_t seq = base::GetU64(it->key().data());
    if (seq > through) break;
    if (it->key().size() != 8 || seq != expect) {
      return Status::Corruption("audit entry " + std::to_string(expect) + " is missing (run verify)");
    }
    AuditEntry e;
    HS_RETURN_IF_ERROR(audit_stored::Decode(it->value().ToString(), &e).WithContext("audit entry " + std::to_string(seq)));
    uint64_t review_seq = 0;
    std::string disposition;
    if (!e.pruned && e.effective().kind == AuditEntry::Kind::kScreen) {
      HS_RETURN_IF_ERROR(CurrentDisposition(seq, &review_seq, &disposition));
      // A review written since the cut point was chosen keeps its target.
      if (review_seq > cut_to) break;
      if (review_seq == 0) disposition = audit_index::InitialDisposition(e);
      for (const auto& k : audit_index::DispositionKeys(e, own, disposition)) batch.Delete(index, k);
      if (review_seq != 0) {
        batch.Delete(index, audit_index::CurrentKey(seq));
        std::unique_ptr<rocksdb::Iterator> m(db_->db()->NewIterator(rocksdb::ReadOptions(), meta));
        const std::string prefix = audit_stored::ReviewPrefix(seq);
        for (m->Seek(prefix); m->Valid() && m->key().starts_with(prefix); m->Next()) batch.Delete(meta, m->key());
        HS_RETURN_IF_ERROR(FromRocks(m->status(), "reading reviews"));
      }
    }
    if (!e.pruned) {
      for (const auto& k : audit_index::EntryKeys(e, own)) batch.Delete(index, k);
    }
    if (e.kind == AuditEntry::Kind::kForwarded) {
      batch.Delete(meta, audit_stored::ForwardSeqKey(e.instance, e.origin->seq));
      b->instances[e.instance] = {e.origin->seq, e.origin->entry_hash};
    }
    batch.Delete(audit, it->key());
    b->present = true;
    b->seq = seq;
    b->hash = e.entry_hash;
    b->time_ms = e.time_ms;
    *cut_through = seq;
  }
  HS_RETURN_IF_ERROR(FromRocks(it->status(), "reading the audit log"));
  if (*cut_through < from) return Status::Ok();
  // The new base goes in the same write as the removals: the log verifies
  // from it whatever happens next.
  batch.Put(meta, audit_stored::kBaseKey, audit_retention::EncodeBase(*b, own, options_.hmac_key));
  HS_RETURN_IF_ERROR(db_->Write(&batch, true));
  std::lock_guard<std::mutex> lock(mu_);
  base_seq_ = *cut_through;
  return Status::Ok();
}

Status AuditLog::StubBatch(uint64_t from, uint64_t limit, int64_t horizon_ms, size_t max, uint64_t* walked_through,
                           uint64_t* stubbed, bool* reached_horizon, bool dry_run,
                           const std::function<Status()>& before_write) {
  *walked_through = from - 1;
  *reached_horizon = false;
  std::lock_guard<std::mutex> reviews(review_mu_);
  std::lock_guard<std::mutex> forwards(forward_mu_);
  rocksdb::WriteBatch batch;
  rocksdb::ColumnFamilyHandle* audit = db_->family(Database::kAudit);
  rocksdb::ColumnFamilyHandle* index = db_->family(Database::kAuditIndex);
  const std::string& own = db_->instance_id();
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), audit));
  size_t walked = 0;
  for (it->Seek(AuditKey(from)); it->Valid() && walked < max; it->Next(), ++walked) {
    const uint64_t seq = base::GetU64(it->key().data());
    if (seq > limit) {
      *reached_horizon = true;
      break;
    }
    AuditEntry e;
    HS_RETURN_IF_ERROR(audit_stored::Decode(it->value().ToString(), &e).WithContext("audit entry " + std::to_string(seq)));
    if (e.time_ms >= horizon_ms) {
      *reached_horizon = true;
      break;
    }
    *walked_through = seq;
    if (e.pruned || !audit_retention::IsNoMatchRecord(e.effective())) continue;
    uint64_t review_seq = 0;
    std::string disposition;
    HS_RETURN_IF_ERROR(CurrentDisposition(seq, &review_seq, &disposition));
    if (review_seq != 0) continue;  // reviewed: kept whole with its reviews
    for (const auto& k : audit_index::EntryKeys(e, own)) batch.Delete(index, k);
    for (const auto& k : audit_index::DispositionKeys(e, own, audit_index::InitialDisposition(e))) batch.Delete(index, k);
    batch.Put(audit, it->key(), audit_retention::EncodeStub(e, own, options_.hmac_key));
    ++*stubbed;
  }
  HS_RETURN_IF_ERROR(FromRocks(it->status(), "reading the audit log"));
  if (!it->Valid()) *reached_horizon = true;
  if (dry_run || *walked_through < from) return Status::Ok();
  if (batch.Count() > 0) HS_RETURN_IF_ERROR(before_write());
  batch.Put(db_->family(Database::kMeta), audit_stored::kStubThroughKey, AuditKey(*walked_through));
  return db_->Write(&batch, true);
}

Status AuditLog::Prune(const RetentionPolicy& policy, PruneResult* out) {
  *out = PruneResult();
  std::lock_guard<std::mutex> one(prune_mu_);
  const int64_t now = policy.now_ms != 0 ? policy.now_ms : base::NowMs();
  const size_t batch = std::max<size_t>(1, policy.batch);
  auto say = [&policy](const std::string& line) {
    if (policy.progress) policy.progress(line);
  };
  auto stopping = [&policy] { return policy.stop && policy.stop(); };
  if (policy.retain_ms > 0) out->horizon_ms = now - policy.retain_ms;
  if (policy.retain_no_match_ms > 0) out->no_match_horizon_ms = now - policy.retain_no_match_ms;
  // The newest entry stays (Open checks the head against it), and so does
  // everything after max_seq.
  const uint64_t head = last_seq();
  const uint64_t limit = std::min(head == 0 ? 0 : head - 1, policy.max_seq);
  if (!keyed() && head != 0) {
    // Stubs and a base without MACs in a keyed log would fail every keyed
    // Verify from then on: like appending, pruning needs the key.
    AuditEntry newest;
    HS_RETURN_IF_ERROR(Get(head, &newest));
    if (!newest.hmac.empty()) {
      return Status::InvalidArgument("the audit log carries HMACs but no audit.hmac_key_file is configured: a prune without "
                                     "the key would leave stubs and a base no keyed verify accepts");
    }
  }
  Base b;
  HS_RETURN_IF_ERROR(ReadBaseRecord(db_, &b));
  if (b.present && keyed() && !audit_retention::BaseMacValid(b, db_->instance_id(), options_.hmac_key)) {
    return Status::Corruption("the audit chain's base record does not check with audit.hmac_key_file (run verify)");
  }
  if (out->horizon_ms == INT64_MIN && out->no_match_horizon_ms == INT64_MIN) {
    out->base_seq = b.seq;
    return Status::Ok();  // everything is kept forever
  }
  const std::string horizons = "retain_before=" + Utc(out->horizon_ms) + " no_match_before=" + Utc(out->no_match_horizon_ms);
  // Audited before anything is removed, once, and only when something will
  // be: a prune with nothing to do leaves no trace (it runs every hour).
  bool started = false;
  const std::function<Status()> start = [&]() -> Status {
    if (started || policy.dry_run) return Status::Ok();
    started = true;
    AuditEntry event;
    return AppendEvent("audit_prune_started", "", horizons + " base=" + std::to_string(b.seq), &event);
  };
  uint64_t cut_to = b.seq;
  if (out->horizon_ms != INT64_MIN) {
    HS_RETURN_IF_ERROR(CutPoint(out->horizon_ms, limit, &cut_to, &out->held_by_review));
  }
  say("audit prune: " + horizons + "; cutting entries " + std::to_string(b.seq + 1) + ".." + std::to_string(cut_to));
  // The prefix, batch by batch from the base.
  while (b.seq < cut_to && !out->stopped) {
    if (stopping()) {
      out->stopped = true;
      break;
    }
    const uint64_t through = std::min(cut_to, b.seq + batch);
    const uint64_t before = b.seq;
    if (policy.dry_run) {
      b.seq = through;
    } else {
      uint64_t done = 0;
      HS_RETURN_IF_ERROR(start());
      HS_RETURN_IF_ERROR(CutBatch(b.seq + 1, through, cut_to, &b, &done));
      if (done < through) {  // a review arrived: the prefix ends before its target
        out->cut += done - before;
        break;
      }
    }
    out->cut += b.seq - before;
    if (out->cut / 100000 != (out->cut - (b.seq - before)) / 100000) say("audit prune: cut " + std::to_string(out->cut));
  }
  // The no-match records after it.
  if (out->no_match_horizon_ms != INT64_MIN && !out->stopped) {
    std::string v;
    uint64_t from = b.seq + 1;
    Status s = db_->Get(Database::kMeta, audit_stored::kStubThroughKey, &v);
    if (s.ok() && v.size() == 8) from = std::max(from, base::GetU64(v.data()) + 1);
    else if (s.code() != Status::Code::kNotFound) HS_RETURN_IF_ERROR(s);
    for (bool end = false; !end;) {
      if (stopping()) {
        out->stopped = true;
        break;
      }
      uint64_t through = 0;
      const uint64_t before = out->stubbed;
      HS_RETURN_IF_ERROR(StubBatch(from, limit, out->no_match_horizon_ms, batch, &through, &out->stubbed, &end, policy.dry_run, start));
      if (through >= from) from = through + 1;
      if (out->stubbed / 100000 != before / 100000) say("audit prune: stubbed " + std::to_string(out->stubbed));
    }
  }
  out->base_seq = b.seq;
  if (b.present && !policy.dry_run) {
    AuditCheckpoint cp;
    cp.instance_id = db_->instance_id();
    cp.seq = b.seq;
    cp.hash = b.hash;
    if (keyed()) cp.mac = AuditCheckpoint::MacFor(options_.hmac_key, cp.instance_id, cp.seq, cp.hash);
    out->checkpoint = cp.ToString();
  }
  const std::string summary = horizons + " cut=" + std::to_string(out->cut) + " stubbed=" + std::to_string(out->stubbed) +
                              " base=" + std::to_string(out->base_seq) +
                              (out->held_by_review ? " held_by_review=" + std::to_string(out->held_by_review) : "") +
                              (out->stopped ? " stopped=1" : "") +
                              (out->checkpoint.empty() ? "" : " checkpoint=" + out->checkpoint);
  say("audit prune" + std::string(policy.dry_run ? " (dry run)" : "") + ": " + summary);
  if (policy.dry_run || !started) return Status::Ok();
  AuditEntry done;
  return AppendEvent("audit_prune", "", summary, &done);
}

}  // namespace store
