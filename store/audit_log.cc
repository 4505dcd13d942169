#include "store/audit_log.h"

#include "base/clock.h"
#include "base/coding.h"
#include "base/crypto.h"
#include "store/audit_index.h"
#include "store/audit_stored.h"

#include <cstring>
#include <map>


#include <rocksdb/iterator.h>

namespace store {

namespace {

constexpr char kHeadKey[] = "audit_head";       // meta: seq(8) + hash(32) [+ MAC(32)]
constexpr char kReviewPrefix[] = "audit_review/";  // meta: target(8) + review(8) -> ""
// Forwarded chains: instance -> origin seq(8) + origin entry_hash(32) of the
// newest entry held; instance + '/' + origin seq(8) -> the entry's seq(8).
constexpr char kForwardHeadPrefix[] = "audit_fwd_head/";
constexpr char kForwardSeqPrefix[] = "audit_fwd_seq/";
// Format 1: the fields below. Format 2: the same, then the request id
// (length-prefixed); written only for entries that have one.
constexpr uint8_t kFormatVersion = 1;
constexpr uint8_t kFormatWithRequestId = 2;
// Format 3: as format 2 (the request id, possibly empty, always present),
// then the fields added with dispositions v2: per hit its first-seen time and
// tags (screens), the report id (reviews). Written only when one is set.
constexpr uint8_t kFormatV2Fields = 3;
constexpr size_t kMaxReportIdBytes = 64;
constexpr size_t kMaxTags = 64;
constexpr size_t kMaxRequestIdBytes = 64;

bool HasV2Fields(const AuditEntry& e) {
  if (e.kind == AuditEntry::Kind::kReview) return !e.report_id.empty();
  if (e.kind != AuditEntry::Kind::kScreen) return false;
  for (const auto& h : e.hits) {
    if (!h.tags.empty() || h.first_seen_ms != 0) return true;
  }
  return false;
}

void PutStr(std::string* s, const std::string& v) { base::PutLengthPrefixed(s, v); }

// Strings in entries are length-prefixed; no field is longer than this.
constexpr size_t kMaxFieldBytes = 1 << 20;

// The canonical bytes: every field in a fixed order, integers big-endian,
// strings length-prefixed. Unambiguous, so two different entries never
// serialise alike; this is what the chain hash covers.
std::string Canonical(const AuditEntry& e) {
  std::string s;
  const bool v2_fields = HasV2Fields(e);
  s.push_back(static_cast<char>(v2_fields ? kFormatV2Fields : e.request_id.empty() ? kFormatVersion : kFormatWithRequestId));
  base::PutU64(&s, e.seq);
  base::PutU64(&s, static_cast<uint64_t>(e.time_ms));
  s.push_back(static_cast<char>(e.kind));
  PutStr(&s, e.key_id);
  if (e.kind == AuditEntry::Kind::kScreen) {
    PutStr(&s, e.source);
    PutStr(&s, e.caller_ref);
    PutStr(&s, e.verdict);
    PutStr(&s, e.error_code);
    PutStr(&s, e.pdq_hex);
    base::PutU64(&s, static_cast<uint64_t>(static_cast<int64_t>(e.quality)));
    s.push_back(e.pdq_used ? 1 : 0);
    PutStr(&s, e.md5_hex);
    PutStr(&s, e.sha256_hex);
    PutStr(&s, e.format);
    base::PutU64(&s, static_cast<uint64_t>(e.width));
    base::PutU64(&s, static_cast<uint64_t>(e.height));
    base::PutU64(&s, e.size_bytes);
    base::PutU64(&s, e.hits.size());
    for (const auto& h : e.hits) {
      base::PutU64(&s, h.list_id);
      PutStr(&s, h.list_name);
      PutStr(&s, h.partner);
      PutStr(&s, h.partner_ref);
      PutStr(&s, h.list_kind);
      PutStr(&s, h.signal);
      PutStr(&s, h.hash_hex);
      base::PutU64(&s, static_cast<uint64_t>(h.distance));
      base::PutU64(&s, static_cast<uint64_t>(h.variant));
    }
  } else if (e.kind == AuditEntry::Kind::kBatch) {
    PutStr(&s, e.source);
    PutStr(&s, e.verdict);
    base::PutU64(&s, e.batch_count);
    s.append(base::AsBytes(e.merkle_root));
  } else if (e.kind == AuditEntry::Kind::kReview) {
    base::PutU64(&s, e.target_seq);
    PutStr(&s, e.disposition);
    PutStr(&s, e.note);
  } else if (e.kind == AuditEntry::Kind::kForwarded) {
    PutStr(&s, e.instance);
    PutStr(&s, e.origin_stored);
  } else {
    PutStr(&s, e.event);
    PutStr(&s, e.detail);
  }
  if (v2_fields || !e.request_id.empty()) PutStr(&s, e.request_id);
  if (v2_fields && e.kind == AuditEntry::Kind::kScreen) {
    for (const auto& h : e.hits) {
      base::PutU64(&s, static_cast<uint64_t>(h.first_seen_ms));
      base::PutU64(&s, h.tags.size());
      for (const auto& t : h.tags) PutStr(&s, t);
    }
  } else if (v2_fields) {
    PutStr(&s, e.report_id);
  }
  return s;
}

Status DecodeStored(const std::string& v, AuditEntry* e, std::string* canonical, bool allow_forwarded = true);

Status ParseCanonical(base::ByteReader* r, AuditEntry* e, bool allow_forwarded) {
  auto str = [r] { return std::string(r->LengthPrefixed(kMaxFieldBytes)); };
  const uint8_t format = r->U8();
  if (format != kFormatVersion && format != kFormatWithRequestId && format != kFormatV2Fields) {
    return Status::Corruption("audit entry of an unknown format");
  }
  e->seq = r->U64();
  e->time_ms = static_cast<int64_t>(r->U64());
  uint8_t kind = r->U8();
  if (kind < 1 || kind > 5) return Status::Corruption("audit entry of an unknown kind");
  e->kind = static_cast<AuditEntry::Kind>(kind);
  e->key_id = str();
  if (e->kind == AuditEntry::Kind::kScreen) {
    e->source = str();
    e->caller_ref = str();
    e->verdict = str();
    e->error_code = str();
    e->pdq_hex = str();
    e->quality = static_cast<int>(static_cast<int64_t>(r->U64()));
    e->pdq_used = r->U8() != 0;
    e->md5_hex = str();
    e->sha256_hex = str();
    e->format = str();
    e->width = static_cast<int>(r->U64());
    e->height = static_cast<int>(r->U64());
    e->size_bytes = r->U64();
    uint64_t n = r->U64();
    if (r->bad() || n > 1'000'000) return Status::Corruption("audit entry is truncated");
    e->hits.resize(n);
    for (auto& h : e->hits) {
      h.list_id = r->U64();
      h.list_name = str();
      h.partner = str();
      h.partner_ref = str();
      h.list_kind = str();
      h.signal = str();
      h.hash_hex = str();
      h.distance = static_cast<int>(r->U64());
      h.variant = static_cast<int>(r->U64());
      if (r->bad()) break;
    }
  } else if (e->kind == AuditEntry::Kind::kBatch) {
    e->source = str();
    e->verdict = str();
    e->batch_count = r->U64();
    r->Array(&e->merkle_root);
  } else if (e->kind == AuditEntry::Kind::kReview) {
    e->target_seq = r->U64();
    e->disposition = str();
    e->note = str();
  } else if (e->kind == AuditEntry::Kind::kForwarded) {
    // One level only: an instance's entries are its own, never forwarded ones.
    if (!allow_forwarded) return Status::Corruption("a forwarded audit entry holds a forwarded entry");
    e->instance = str();
    e->origin_stored = str();
    if (r->bad()) return Status::Corruption("audit entry is truncated");
    auto origin = std::make_shared<AuditEntry>();
    std::string origin_canonical;
    HS_RETURN_IF_ERROR(DecodeStored(e->origin_stored, origin.get(), &origin_canonical, false).WithContext("forwarded entry"));
    e->origin = std::move(origin);
  } else {
    e->event = str();
    e->detail = str();
  }
  if (format == kFormatWithRequestId) {
    e->request_id = std::string(r->LengthPrefixed(kMaxRequestIdBytes));
    // Format 2 exists only for entries with an id: an empty one would give
    // a second encoding of the same entry.
    if (!r->bad() && e->request_id.empty()) return Status::Corruption("audit entry has an empty request id");
  }
  if (format == kFormatV2Fields) {
    e->request_id = std::string(r->LengthPrefixed(kMaxRequestIdBytes));
    if (e->kind == AuditEntry::Kind::kScreen) {
      for (auto& h : e->hits) {
        h.first_seen_ms = static_cast<int64_t>(r->U64());
        const uint64_t n = r->U64();
        if (r->bad() || n > kMaxTags) return Status::Corruption("audit entry is truncated");
        h.tags.resize(n);
        for (auto& t : h.tags) t = str();
      }
    } else if (e->kind == AuditEntry::Kind::kReview) {
      e->report_id = std::string(r->LengthPrefixed(kMaxReportIdBytes));
    } else {
      return Status::Corruption("audit entry of format 3 is of a kind without its fields");
    }
    // Format 3 exists only for entries that use its fields: one encoding per entry.
    if (!r->bad() && !HasV2Fields(*e)) return Status::Corruption("audit entry of format 3 uses none of its fields");
  }
  if (r->bad()) return Status::Corruption("audit entry is truncated");
  return Status::Ok();
}

std::array<uint8_t, 32> ChainHash(const std::array<uint8_t, 32>& prev, const std::string& canonical) {
  return base::Sha256Of({base::AsBytes(prev), canonical});
}

// Entry HMACs: the current form has its own domain; logs written before head
// MACs carry the legacy form (store/audit_log.h says why both are kept).
constexpr std::string_view kEntryMacDomain = "hashscreen audit entry v2";
constexpr std::string_view kHeadMacDomain = "hashscreen audit head v1";

std::string Hmac(const std::string& key, const std::array<uint8_t, 32>& entry_hash) {
  std::string message(kEntryMacDomain);
  message.append(base::AsBytes(entry_hash));
  return std::string(base::AsBytes(base::HmacSha256(key, message)));
}

std::string LegacyHmac(const std::string& key, const std::array<uint8_t, 32>& entry_hash) {
  return std::string(base::AsBytes(base::HmacSha256(key, base::AsBytes(entry_hash))));
}

enum class MacCheck { kAbsent, kLegacy, kCurrent, kWrong };

MacCheck CheckEntryMac(const std::string& key, const std::array<uint8_t, 32>& entry_hash, const std::string& mac) {
  if (mac.empty()) return MacCheck::kAbsent;
  if (base::ConstantTimeEquals(mac, Hmac(key, entry_hash))) return MacCheck::kCurrent;
  if (base::ConstantTimeEquals(mac, LegacyHmac(key, entry_hash))) return MacCheck::kLegacy;
  return MacCheck::kWrong;
}

std::string HeadMac(const std::string& key, uint64_t seq, const std::array<uint8_t, 32>& hash) {
  std::string message(kHeadMacDomain);
  base::PutU64(&message, seq);
  message.append(base::AsBytes(hash));
  return std::string(base::AsBytes(base::HmacSha256(key, message)));
}

// The head record: seq(8) + hash(32), then the MAC (32) when written with a
// key. 40 bytes is also the whole record of a log from before head MACs.
struct Head {
  bool present = false;
  uint64_t seq = 0;
  std::array<uint8_t, 32> hash{};
  std::string mac;  // empty: none
};

std::string EncodeHead(uint64_t seq, const std::array<uint8_t, 32>& hash, const std::string& key) {
  std::string v;
  base::PutU64(&v, seq);
  v.append(base::AsBytes(hash));
  if (!key.empty()) v.append(HeadMac(key, seq, hash));
  return v;
}

Status ReadHead(const Database* db, Head* out) {
  *out = Head();
  std::string v;
  Status s = db->Get(Database::kMeta, kHeadKey, &v);
  if (s.code() == Status::Code::kNotFound) return Status::Ok();
  HS_RETURN_IF_ERROR(s);
  if (v.size() != 40 && v.size() != 72) return Status::Corruption("audit chain head is damaged");
  out->present = true;
  out->seq = base::GetU64(v.data());
  std::copy(v.begin() + 8, v.begin() + 40, out->hash.begin());
  out->mac = v.substr(40);
  return Status::Ok();
}

// Stored value: canonical bytes, then prev hash, own hash, HMAC length + HMAC.
std::string EncodeStored(const AuditEntry& e, const std::string& canonical) {
  std::string v = canonical;
  v.append(reinterpret_cast<const char*>(e.prev_hash.data()), 32);
  v.append(reinterpret_cast<const char*>(e.entry_hash.data()), 32);
  v.push_back(static_cast<char>(e.hmac.size()));
  v.append(e.hmac);
  return v;
}

// Decodes a stored value; `canonical` receives the bytes the hash covers.
Status DecodeStored(const std::string& v, AuditEntry* e, std::string* canonical, bool allow_forwarded) {
  if (!v.empty() && static_cast<uint8_t>(v[0]) == audit_retention::kStubMarker) {
    // A stub has no canonical bytes left; only this log's own chain holds stubs.
    if (!allow_forwarded) return Status::Corruption("a pruned entry (stub) where a whole entry is required");
    canonical->clear();
    return audit_retention::DecodeStub(v, e);
  }
  base::ByteReader r(v);
  HS_RETURN_IF_ERROR(ParseCanonical(&r, e, allow_forwarded));
  *canonical = v.substr(0, r.position());
  r.Array(&e->prev_hash);
  r.Array(&e->entry_hash);
  const uint8_t n = r.U8();
  e->hmac = std::string(r.Bytes(n));
  if (!r.done()) return Status::Corruption("audit entry trailer is damaged");
  return Status::Ok();
}

uint64_t DecodeSeqKey(const rocksdb::Slice& k) { return k.size() >= 8 ? base::GetU64(k.data()) : 0; }

std::string ForwardHeadKey(const std::string& instance) { return kForwardHeadPrefix + instance; }
std::string ForwardSeqKey(const std::string& instance, uint64_t origin_seq) {
  return kForwardSeqPrefix + instance + "/" + AuditKey(origin_seq);
}

std::string EncodeForwardHead(uint64_t seq, const std::array<uint8_t, 32>& hash) {
  std::string v;
  base::PutU64(&v, seq);
  v.append(base::AsBytes(hash));
  return v;
}

bool ValidInstanceId(const std::string& id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool ValidDisposition(const std::string& d) {
  return d == "confirmed" || d == "false_positive" || d == "escalated" || d == "reported";
}

bool ValidReportId(const std::string& id) {
  if (id.empty() || id.size() > kMaxReportIdBytes) return false;
  for (char c : id) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// Index writes go in batches of this many entries while rebuilding.
constexpr size_t kReindexBatch = 10000;

}  // namespace

std::string AuditKey(uint64_t seq) {
  std::string k;
  base::PutU64(&k, seq);
  return k;
}

namespace audit_stored {

Status Decode(const std::string& stored, AuditEntry* e) {
  std::string canonical;
  return DecodeStored(stored, e, &canonical, true);
}

std::string ReviewPrefix(uint64_t target) { return kReviewPrefix + AuditKey(target); }

std::string ForwardSeqKey(const std::string& instance, uint64_t origin_seq) {
  return store::ForwardSeqKey(instance, origin_seq);
}

}  // namespace audit_stored

struct AuditLog::Waiter {
  AuditEntry* entries;  // `count` entries written together, in order
  size_t count = 1;
  Status status;
  bool done = false;
  std::condition_variable cv;
};

Status AuditLog::Open(Database* db, const Options& options, std::unique_ptr<AuditLog>* out) {
  std::unique_ptr<AuditLog> log(new AuditLog(db, options));
  Head head;
  HS_RETURN_IF_ERROR(ReadHead(db, &head));
  log->head_seq_ = head.seq;
  log->head_hash_ = head.hash;
  {
    std::string v;
    Status bs = db->Get(Database::kMeta, audit_stored::kBaseKey, &v);
    if (bs.ok()) {
      audit_retention::Base b;
      HS_RETURN_IF_ERROR(audit_retention::DecodeBase(v, &b));
      log->base_seq_ = b.seq;
    } else if (bs.code() != Status::Code::kNotFound) {
      return bs;
    }
  }
  // The last stored entry must be the head: a cheap check at every start.
  std::unique_ptr<rocksdb::Iterator> it(db->db()->NewIterator(rocksdb::ReadOptions(), db->family(Database::kAudit)));
  it->SeekToLast();
  HS_RETURN_IF_ERROR(FromRocks(it->status(), "reading the audit log"));
  uint64_t last = it->Valid() ? DecodeSeqKey(it->key()) : 0;
  if (last != log->head_seq_) {
    return Status::Corruption("audit log ends at seq " + std::to_string(last) + " but its head says " +
                              std::to_string(log->head_seq_) + " (run verify)");
  }
  if (last == 0) {
    HS_RETURN_IF_ERROR(log->EnsureIndex());
    *out = std::move(log);
    return Status::Ok();
  }
  AuditEntry newest;
  std::string canonical;
  HS_RETURN_IF_ERROR(DecodeStored(it->value().ToString(), &newest, &canonical).WithContext("audit entry " + std::to_string(last)));
  log->head_time_ = newest.time_ms;
  if (newest.entry_hash != head.hash) {
    return Status::Corruption("the audit chain head does not match entry " + std::to_string(last) + " (run verify)");
  }
  if (!options.hmac_key.empty()) {
    // A log that does not check with this key is not extended: appending
    // would give a cut tail a fresh, valid head, or mix two keys in one chain.
    const MacCheck newest_mac = CheckEntryMac(options.hmac_key, newest.entry_hash, newest.hmac);
    // An entry without an HMAC never verifies under a key (VerifyImpl), so a
    // newest one means a server without the key wrote on top of this log:
    // perhaps after its tail was cut, to launder the cut under a MAC-less head.
    if (newest_mac == MacCheck::kAbsent) {
      return Status::Corruption("audit entry " + std::to_string(last) +
                                " carries no HMAC: it was written without audit.hmac_key_file, so the log does not verify "
                                "with the key and is not extended with it (run verify; docs/store.md)");
    }
    if (newest_mac == MacCheck::kWrong) {
      return Status::Corruption("the HMAC of audit entry " + std::to_string(last) +
                                " does not check with audit.hmac_key_file: a wrong key, or the entry was replaced (run verify with the right key)");
    }
    if (!head.mac.empty() && !base::ConstantTimeEquals(head.mac, HeadMac(options.hmac_key, head.seq, head.hash))) {
      return Status::Corruption("the audit chain head's MAC does not check with audit.hmac_key_file: a wrong key, or the newest entries were removed and the head rewritten (run verify with the right key)");
    }
    if (head.mac.empty() && newest_mac == MacCheck::kCurrent) {
      return Status::Corruption("the audit chain head has no MAC although entry " + std::to_string(last) +
                                " was written with head MACs: the head was replaced (were entries removed? run verify)");
    }
  }
  HS_RETURN_IF_ERROR(log->EnsureIndex());
  *out = std::move(log);
  return Status::Ok();
}

uint64_t AuditLog::last_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return head_seq_;
}

Status AuditLog::WriteGroup(const std::vector<Waiter*>& group) {
  // Only the leader runs this, so the head cannot move underneath it.
  uint64_t seq;
  std::array<uint8_t, 32> prev;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seq = head_seq_;
    prev = head_hash_;
  }
  int64_t now = base::NowMs();
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Never before the newest entry: the index orders by (time, seq).
    now = std::max(now, head_time_);
  }
  rocksdb::WriteBatch batch;
  std::map<uint64_t, std::string> moved;
  for (Waiter* w : group) {
    for (size_t i = 0; i < w->count; ++i) {
      AuditEntry& e = w->entries[i];
      e.seq = ++seq;
      e.time_ms = now;
      e.prev_hash = prev;
      std::string canonical = Canonical(e);
      e.entry_hash = ChainHash(prev, canonical);
      e.hmac = options_.hmac_key.empty() ? std::string() : Hmac(options_.hmac_key, e.entry_hash);
      batch.Put(db_->family(Database::kAudit), AuditKey(e.seq), EncodeStored(e, canonical));
      if (e.kind == AuditEntry::Kind::kReview) {
        batch.Put(db_->family(Database::kMeta), kReviewPrefix + AuditKey(e.target_seq) + AuditKey(e.seq), "");
      }
      if (e.kind == AuditEntry::Kind::kForwarded) {
        // The instance's head moves in the same write as its entries.
        batch.Put(db_->family(Database::kMeta), ForwardSeqKey(e.instance, e.origin->seq), AuditKey(e.seq));
        batch.Put(db_->family(Database::kMeta), ForwardHeadKey(e.instance),
                  EncodeForwardHead(e.origin->seq, e.origin->entry_hash));
      }
      HS_RETURN_IF_ERROR(IndexEntry(e, &batch, &moved));
      prev = e.entry_hash;
    }
  }
  batch.Put(db_->family(Database::kMeta), kHeadKey, EncodeHead(seq, prev, options_.hmac_key));
  HS_RETURN_IF_ERROR(db_->Write(&batch, options_.sync));
  std::lock_guard<std::mutex> lock(mu_);
  head_seq_ = seq;
  head_hash_ = prev;
  head_time_ = now;
  appended_.notify_all();
  return Status::Ok();
}

Status AuditLog::Append(AuditEntry* entry) {
  if (entry->kind == AuditEntry::Kind::kForwarded) {
    return Status::InvalidArgument("forwarded entries are appended with AppendForwarded");
  }
  return AppendMany(entry, 1);
}

Status AuditLog::AppendMany(AuditEntry* entries, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (entries[i].request_id.size() > kMaxRequestIdBytes) {
      return Status::InvalidArgument("request id is longer than " + std::to_string(kMaxRequestIdBytes) + " bytes");
    }
  }
  Waiter self;
  self.entries = entries;
  self.count = count;
  if (!options_.group_commit) {
    std::lock_guard<std::mutex> solo(solo_mu_);
    return WriteGroup({&self});
  }
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&self);
  self.cv.wait(lock, [&] { return self.done || queue_.front() == &self; });
  if (self.done) return self.status;

  // Leader: everything queued now (up to max_group) shares one synced write.
  std::vector<Waiter*> group;
  for (Waiter* w : queue_) {
    group.push_back(w);
    if (group.size() == options_.max_group) break;
  }
  lock.unlock();
  Status s = WriteGroup(group);
  lock.lock();
  for (Waiter* w : group) {
    queue_.pop_front();
    if (w == &self) continue;
    w->status = s;
    w->done = true;
    w->cv.notify_one();
  }
  if (!queue_.empty()) queue_.front()->cv.notify_one();
  return s;
}

Status AuditLog::AppendReview(uint64_t target_seq, const std::string& disposition, const std::string& note,
                              const std::string& reviewer_key_id, AuditEntry* out, const std::string& request_id) {
  return AppendReview(target_seq, ReviewInput{disposition, note, ""}, reviewer_key_id, out, request_id, nullptr);
}

Status AuditLog::AppendReview(uint64_t target_seq, const ReviewInput& review, const std::string& reviewer_key_id,
                              AuditEntry* out, const std::string& request_id, bool* note_required) {
  if (note_required) *note_required = false;
  if (!ValidDisposition(review.disposition)) {
    return Status::InvalidArgument("disposition must be confirmed, false_positive, escalated or reported");
  }
  if (review.note.size() > 4096) return Status::InvalidArgument("note is longer than 4096 bytes");
  if (review.disposition == "reported" && review.report_id.empty()) {
    return Status::InvalidArgument("disposition reported requires report_id (the report's id, e.g. a CyberTipline report number)");
  }
  if (review.disposition != "reported" && !review.report_id.empty()) {
    return Status::InvalidArgument("report_id is only for disposition reported");
  }
  if (!review.report_id.empty() && !ValidReportId(review.report_id)) {
    return Status::InvalidArgument("report_id must be 1-64 printable ASCII characters");
  }
  // The note rule reads the current disposition, then appends: one review at a time.
  std::lock_guard<std::mutex> serial(review_mu_);
  AuditEntry target;
  Status s = Get(target_seq, &target);
  if (!s.ok()) return s;
  // A forwarded screen is reviewed here, on the primary, like a local one.
  if (target.effective().kind != AuditEntry::Kind::kScreen) {
    return Status::NotFound("no screen entry " + std::to_string(target_seq));
  }
  uint64_t current_review = 0;
  std::string current;
  HS_RETURN_IF_ERROR(CurrentDisposition(target_seq, &current_review, &current));
  if (current_review != 0 && review.note.empty()) {
    if (note_required) *note_required = true;
    return Status::InvalidArgument("entry " + std::to_string(target_seq) + " is already reviewed (" + current +
                                   "): a new review needs a note saying why");
  }
  *out = AuditEntry();
  out->kind = AuditEntry::Kind::kReview;
  out->key_id = reviewer_key_id;
  out->target_seq = target_seq;
  out->disposition = review.disposition;
  out->note = review.note;
  out->report_id = review.report_id;
  out->request_id = request_id;
  return Append(out);
}

Status AuditLog::CurrentDisposition(uint64_t seq, uint64_t* review_seq, std::string* disposition) const {
  *review_seq = 0;
  disposition->clear();
  std::string v;
  Status s = db_->Get(Database::kAuditIndex, audit_index::CurrentKey(seq), &v);
  if (s.code() == Status::Code::kNotFound) return Status::Ok();
  HS_RETURN_IF_ERROR(s);
  if (!audit_index::DecodeCurrent(v, review_seq, disposition)) {
    return Status::Corruption("the current disposition of audit entry " + std::to_string(seq) + " is damaged");
  }
  return Status::Ok();
}

Status AuditLog::CurrentReview(uint64_t seq, AuditEntry* review, bool* found) const {
  *found = false;
  uint64_t review_seq = 0;
  std::string disposition;
  HS_RETURN_IF_ERROR(CurrentDisposition(seq, &review_seq, &disposition));
  if (review_seq == 0) return Status::Ok();
  HS_RETURN_IF_ERROR(Get(review_seq, review));
  *found = true;
  return Status::Ok();
}

Status AuditLog::IndexEntry(const AuditEntry& e, rocksdb::WriteBatch* batch, std::map<uint64_t, std::string>* moved) {
  rocksdb::ColumnFamilyHandle* index = db_->family(Database::kAuditIndex);
  const std::string& own = db_->instance_id();
  for (const auto& k : audit_index::EntryKeys(e, own)) batch->Put(index, k, "");
  if (e.kind != AuditEntry::Kind::kReview) {
    for (const auto& k : audit_index::DispositionKeys(e, own, audit_index::InitialDisposition(e))) batch->Put(index, k, "");
    return Status::Ok();
  }
  // A review moves its target to the review's disposition.
  AuditEntry target;
  HS_RETURN_IF_ERROR(Get(e.target_seq, &target));
  std::string old;
  if (auto m = moved->find(e.target_seq); m != moved->end()) {
    old = m->second;
  } else {
    uint64_t review_seq = 0;
    HS_RETURN_IF_ERROR(CurrentDisposition(e.target_seq, &review_seq, &old));
    if (review_seq == 0) old = audit_index::InitialDisposition(target);
  }
  for (const auto& k : audit_index::DispositionKeys(target, own, old)) batch->Delete(index, k);
  for (const auto& k : audit_index::DispositionKeys(target, own, e.disposition)) batch->Put(index, k, "");
  batch->Put(index, audit_index::CurrentKey(e.target_seq), audit_index::EncodeCurrent(e.seq, e.disposition));
  (*moved)[e.target_seq] = e.disposition;
  return Status::Ok();
}

Status AuditLog::EnsureIndex() {
  std::string marker;
  Status s = db_->Get(Database::kAuditIndex, audit_index::kCompleteKey, &marker);
  if (s.ok() && marker == audit_index::kIndexVersion) return Status::Ok();
  if (!s.ok() && s.code() != Status::Code::kNotFound) return s;
  return Reindex(db_, options_.progress);  // missing, interrupted, or of an older version
}

Status AuditLog::Reindex(Database* db, const std::function<void(const std::string&)>& progress) {
  auto say = [&progress](const std::string& line) {
    if (progress) progress(line);
  };
  rocksdb::ColumnFamilyHandle* index = db->family(Database::kAuditIndex);
  {
    rocksdb::WriteBatch drop;
    drop.DeleteRange(index, "", std::string(1, '\xff'));
    HS_RETURN_IF_ERROR(db->Write(&drop, true));
  }
  // The latest review of each target, from the review records (few next to the entries).
  std::map<uint64_t, uint64_t> latest;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->db()->NewIterator(rocksdb::ReadOptions(), db->family(Database::kMeta)));
    const std::string prefix = kReviewPrefix;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      rocksdb::Slice k = it->key();
      if (k.size() != prefix.size() + 16) return Status::Corruption("a review record of the audit log is damaged");
      latest[base::GetU64(k.data() + prefix.size())] = base::GetU64(k.data() + prefix.size() + 8);
    }
    HS_RETURN_IF_ERROR(FromRocks(it->status(), "reading reviews"));
  }
  std::map<uint64_t, std::pair<uint64_t, std::string>> current;  // target -> review seq, disposition
  for (const auto& [target, review_seq] : latest) {
    std::string v, canonical;
    HS_RETURN_IF_ERROR(db->Get(Database::kAudit, AuditKey(review_seq), &v).WithContext("review " + std::to_string(review_seq)));
    AuditEntry review;
    HS_RETURN_IF_ERROR(DecodeStored(v, &review, &canonical).WithContext("review " + std::to_string(review_seq)));
    current[target] = {review_seq, review.disposition};
  }
  const std::string& own = db->instance_id();
  std::unique_ptr<rocksdb::Iterator> it(db->db()->NewIterator(rocksdb::ReadOptions(), db->family(Database::kAudit)));
  it->SeekToLast();
  const uint64_t total = it->Valid() ? DecodeSeqKey(it->key()) : 0;
  say("building the audit index of " + std::to_string(total) + " entries");
  rocksdb::WriteBatch batch;
  uint64_t done = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    AuditEntry e;
    std::string canonical;
    const uint64_t seq = DecodeSeqKey(it->key());
    HS_RETURN_IF_ERROR(DecodeStored(it->value().ToString(), &e, &canonical).WithContext("audit entry " + std::to_string(seq)));
    if (e.pruned) {  // a stub is never answered: no keys
      ++done;
      continue;
    }
    for (const auto& k : audit_index::EntryKeys(e, own)) batch.Put(index, k, "");
    std::string disposition = audit_index::InitialDisposition(e);
    if (auto c = current.find(seq); c != current.end()) {
      disposition = c->second.second;
      batch.Put(index, audit_index::CurrentKey(seq), audit_index::EncodeCurrent(c->second.first, disposition));
    }
    if (e.effective().kind == AuditEntry::Kind::kScreen) {
      for (const auto& k : audit_index::DispositionKeys(e, own, disposition)) batch.Put(index, k, "");
    }
    if (++done % kReindexBatch == 0) {
      HS_RETURN_IF_ERROR(db->Write(&batch, false));
      batch.Clear();
    }
    if (done % 1000000 == 0) say("audit index: " + std::to_string(done) + " of " + std::to_string(total) + " entries");
  }
  HS_RETURN_IF_ERROR(FromRocks(it->status(), "reading the audit log"));
  // The marker last, in a synced write: an interrupted build starts again.
  batch.Put(index, audit_index::kCompleteKey, audit_index::kIndexVersion);
  HS_RETURN_IF_ERROR(db->Write(&batch, true));
  say("audit index built: " + std::to_string(done) + " entries");
  return Status::Ok();
}

Status AuditLog::ResolveInstance(const std::string& name, std::string* id) const {
  std::vector<std::string> known{db_->instance_id()};
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->family(Database::kMeta)));
  for (it->Seek(kForwardHeadPrefix); it->Valid() && it->key().starts_with(kForwardHeadPrefix); it->Next()) {
    known.push_back(it->key().ToString().substr(sizeof(kForwardHeadPrefix) - 1));
  }
  HS_RETURN_IF_ERROR(FromRocks(it->status(), "reading the forwarded heads"));
  std::vector<std::string> found;
  for (const auto& k : known) {
    if (k == name) {
      *id = k;
      return Status::Ok();
    }
    if (name.size() >= 8 && k.starts_with(name)) found.push_back(k);
  }
  if (found.empty()) return Status::NotFound("no instance " + name + " in the audit log");
  if (found.size() > 1) return Status::InvalidArgument("instance " + name + " names several instances: give more of its id");
  *id = found.front();
  return Status::Ok();
}

Status AuditLog::AppendEvent(const std::string& event, const std::string& key_id, const std::string& detail,
                             AuditEntry* out, const std::string& request_id) {
  bool name_ok = !event.empty() && event.size() <= 64;
  for (char c : event) name_ok = name_ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (!name_ok) return Status::InvalidArgument("event name must be 1-64 of a-z, 0-9, '_'");
  if (detail.size() > 4096) return Status::InvalidArgument("event detail is longer than 4096 bytes");
  *out = AuditEntry();
  out->kind = AuditEntry::Kind::kEvent;
  out->key_id = key_id;
  out->event = event;
  out->detail = detail;
  out->request_id = request_id;
  return Append(out);
}

Status AuditLog::Get(uint64_t seq, AuditEntry* out) const {
  std::string v;
  Status s = db_->Get(Database::kAudit, AuditKey(seq), &v);
  if (s.code() == Status::Code::kNotFound) {
    if (seq != 0 && seq <= base_seq()) {
      return Status::NotFound("audit entry " + std::to_string(seq) + " was pruned (retention: the log now starts after entry " +
                              std::to_string(base_seq()) + ")");
    }
    return Status::NotFound("no audit entry " + std::to_string(seq));
  }
  HS_RETURN_IF_ERROR(s);
  std::string canonical;
  *out = AuditEntry();
  HS_RETURN_IF_ERROR(DecodeStored(v, out, &canonical).WithContext("audit entry " + std::to_string(seq)));
  if (out->pruned) {
    *out = AuditEntry();
    return Status::NotFound("audit entry " + std::to_string(seq) + " was pruned (retention: a no-match record past audit.retain_no_match_days)");
  }
  return Status::Ok();
}

Status AuditLog::ReviewsOf(uint64_t target_seq, std::vector<AuditEntry>* out) const {
  out->clear();
  std::string prefix = kReviewPrefix + AuditKey(target_seq);
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->family(Database::kMeta)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    rocksdb::Slice k = it->key();
    k.remove_prefix(prefix.size());
    AuditEntry review;
    HS_RETURN_IF_ERROR(Get(DecodeSeqKey(k), &review));
    out->push_back(std::move(review));
  }
  return FromRocks(it->status(), "reading reviews");
}

namespace {

// The filters an index key does not imply, checked on the entry read.
bool Matches(const AuditEntry& e, const AuditQuery& q, const std::string& own_instance) {
  if (q.instance && (e.origin ? e.instance : own_instance) != *q.instance) return false;
  const AuditEntry& x = e.effective();
  if (!q.verdict.empty() && audit_index::VerdictClass(x) != q.verdict) return false;
  if (q.list_id) {
    bool hit = false;
    for (const auto& h : x.hits) hit |= h.list_id == *q.list_id;
    if (!hit) return false;
  }
  if (!q.partner.empty()) {
    bool hit = false;
    for (const auto& h : x.hits) hit |= h.partner == q.partner;
    if (!hit) return false;
  }
  return true;
}

}  // namespace

Status AuditLog::Query(const AuditQuery& q, std::vector<AuditEntry>* out, uint64_t* next) const {
  out->clear();
  *next = 0;
  // Nothing follows the largest seq (and after + 1 would wrap to entry 1).
  if (q.after == UINT64_MAX && !q.newest_first) return Status::Ok();
  const size_t limit = q.limit == 0 ? 1 : q.limit;
  audit_index::Filter f;
  f.verdict = q.verdict;
  f.list_id = q.list_id;
  f.partner = q.partner;
  f.disposition = q.disposition;
  if (q.instance) f.instance = *q.instance;
  const std::string prefix = audit_index::IndexPrefix(f);
  const std::string lower = audit_index::PositionKey(prefix, q.since_ms.value_or(INT64_MIN), 0);
  const std::string upper = audit_index::PositionKey(prefix, q.until_ms.value_or(INT64_MAX), UINT64_MAX);
  // The cursor's place in the index: its entry's time, then its seq.
  std::string start;
  if (q.after != 0) {
    // A cursor may name an entry pruned since its page was read: a stub
    // still has its time; before the base, nothing older is left.
    std::string v;
    Status s = db_->Get(Database::kAudit, AuditKey(q.after), &v);
    if (s.code() == Status::Code::kNotFound) {
      if (q.after > base_seq()) return Status::InvalidArgument("the cursor names no audit entry");
      if (q.newest_first) return Status::Ok();
      start = lower;
    } else {
      HS_RETURN_IF_ERROR(s);
      AuditEntry cursor;
      std::string canonical;
      HS_RETURN_IF_ERROR(DecodeStored(v, &cursor, &canonical).WithContext("audit entry " + std::to_string(q.after)));
      start = audit_index::PositionKey(prefix, cursor.time_ms, q.after);
    }
  }
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->family(Database::kAuditIndex)));
  if (!q.newest_first) {
    it->Seek(start.empty() || start < lower ? lower : start);
    if (it->Valid() && !start.empty() && it->key() == start) it->Next();
  } else {
    it->SeekForPrev(start.empty() || start > upper ? upper : start);
    if (it->Valid() && !start.empty() && it->key() == start) it->Prev();
  }
  const std::string& own = db_->instance_id();
  size_t rejected = 0;
  for (; it->Valid(); q.newest_first ? it->Prev() : it->Next()) {
    const rocksdb::Slice k = it->key();
    if (!k.starts_with(prefix) || k.compare(lower) < 0 || k.compare(upper) > 0) break;
    int64_t time_ms = 0;
    uint64_t seq = 0;
    if (k.size() != prefix.size() + 16 || !audit_index::DecodePosition(std::string_view(k.data(), k.size()), &time_ms, &seq)) {
      return Status::Corruption("an audit index key is damaged");
    }
    AuditEntry e;
    Status got = Get(seq, &e);
    if (got.code() == Status::Code::kNotFound && Pruned(seq)) continue;  // pruned after the index was read
    HS_RETURN_IF_ERROR(got);
    if (!Matches(e, q, own)) {
      if (++rejected >= kMaxRejected && !out->empty()) {
        *next = seq;
        return Status::Ok();
      }
      continue;
    }
    out->push_back(std::move(e));
    if (out->size() == limit) {
      *next = seq;
      break;
    }
  }
  return FromRocks(it->status(), "reading the audit index");
}

const char* AuditVerifyResult::OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kOk: return "ok";
    case Outcome::kFailed: return "failed";
    case Outcome::kHmacUnchecked: return "hmac_unchecked";
    case Outcome::kHeadUnauthenticated: return "head_unauthenticated";
    case Outcome::kCheckpointUnauthenticated: return "checkpoint_unauthenticated";
    case Outcome::kCheckpointPruned: return "checkpoint_pruned";
  }
  return "failed";
}

AuditCheckpoint AuditLog::Checkpoint() const {
  AuditCheckpoint cp;
  cp.instance_id = db_->instance_id();
  {
    std::lock_guard<std::mutex> lock(mu_);
    cp.seq = head_seq_;
    cp.hash = head_hash_;
  }
  if (keyed()) cp.mac = AuditCheckpoint::MacFor(options_.hmac_key, cp.instance_id, cp.seq, cp.hash);
  return cp;
}

AuditVerifyResult AuditLog::Verify() const { return VerifyImpl(nullptr); }

AuditVerifyResult AuditLog::Verify(const AuditCheckpoint& checkpoint) const { return VerifyImpl(&checkpoint); }

AuditVerifyResult AuditLog::VerifyImpl(const AuditCheckpoint* cp) const {
  AuditVerifyResult r;
  auto fail = [&r](uint64_t seq, std::string why) {
    r.outcome = AuditVerifyResult::Outcome::kFailed;
    r.ok = false;
    r.head_authenticated = false;
    r.first_bad_seq = seq;
    r.problem = std::move(why);
    return r;
  };
  const std::string& key = options_.hmac_key;
  bool checkpoint_mac_unchecked = false;
  bool checkpoint_without_mac = false;  // with a key: anyone could have written it
  if (cp) {
    if (cp->instance_id != db_->instance_id()) {
      return fail(0, "the checkpoint is of another database (instance " + cp->instance_id + "; this one is " +
                         db_->instance_id() + ")");
    }
    if (cp->mac.empty()) {
      checkpoint_without_mac = !key.empty();
    } else {
      if (key.empty()) {
        checkpoint_mac_unchecked = true;
      } else if (!base::ConstantTimeEquals(cp->mac, AuditCheckpoint::MacFor(key, cp->instance_id, cp->seq, cp->hash))) {
        return fail(cp->seq, "the checkpoint's MAC is wrong: it was not made with this server's HMAC key, or it was altered");
      }
    }
  }
  // The walk starts at the base a prune left (store/audit_retention.h), or
  // at the genesis: entry 1 linking to 32 zero bytes.
  audit_retention::Base base_record;
  {
    std::string v;
    Status bs = db_->Get(Database::kMeta, audit_stored::kBaseKey, &v);
    if (bs.ok()) bs = audit_retention::DecodeBase(v, &base_record);
    if (!bs.ok() && bs.code() != Status::Code::kNotFound) return fail(1, "the chain's base record: " + bs.message());
  }
  bool saw_mac = false;               // without a key: some entry (or the base) carries an HMAC
  if (base_record.present) {
    if (!key.empty()) {
      if (!audit_retention::BaseMacValid(base_record, db_->instance_id(), key)) {
        return fail(base_record.seq + 1, "the chain's base record (the prune point, entry " + std::to_string(base_record.seq) +
                                             ") has a wrong or missing MAC: it was moved or altered");
      }
      r.base_authenticated = true;
    } else {
      saw_mac |= !base_record.mac.empty();
    }
    r.base_seq = base_record.seq;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->family(Database::kAudit)));
  std::array<uint8_t, 32> prev = base_record.hash;
  uint64_t expect = base_record.seq + 1;
  r.entries = base_record.seq;
  MacCheck newest = MacCheck::kAbsent;  // with a key: the newest entry's HMAC form
  std::map<std::string, ForwardedChain> chains;  // by instance
  for (const auto& [instance, at] : base_record.instances) {
    ForwardedChain& c = chains[instance];
    c.instance = instance;
    c.last_seq = at.first;
    c.last_hash = at.second;
  }
  bool checkpoint_held = cp && cp->seq == base_record.seq && base_record.present;
  if (checkpoint_held && !base::ConstantTimeEquals(base::AsBytes(cp->hash), base::AsBytes(base_record.hash))) {
    return fail(cp->seq, "the chain's base (entry " + std::to_string(cp->seq) + ") differs from the checkpoint: the log was rewritten at or before it");
  }
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++expect) {
    uint64_t seq = DecodeSeqKey(it->key());
    if (it->key().size() != 8 || seq != expect) {
      if (it->key().size() == 8 && seq < expect) {
        return fail(seq, "entry " + std::to_string(seq) + " lies before the chain's base (entry " + std::to_string(base_record.seq) + ")");
      }
      return fail(expect, "entry " + std::to_string(expect) + " is missing");
    }
    AuditEntry e;
    std::string canonical;
    Status s = DecodeStored(it->value().ToString(), &e, &canonical);
    if (!s.ok()) return fail(seq, "entry " + std::to_string(seq) + ": " + s.message());
    if (e.seq != seq) return fail(seq, "entry " + std::to_string(seq) + " claims seq " + std::to_string(e.seq));
    if (!base::ConstantTimeEquals(base::AsBytes(e.prev_hash), base::AsBytes(prev))) {
      return fail(seq, "entry " + std::to_string(seq) + " does not link to its predecessor");
    }
    // A stub's content is gone: its hash is taken as stored, bound by the
    // next entry's link, its entry HMAC and (with a key) its stub MAC.
    std::array<uint8_t, 32> h = e.pruned ? e.entry_hash : ChainHash(prev, canonical);
    if (e.pruned) {
      ++r.stubs;
      if (!key.empty() && !audit_retention::StubMacValid(e, db_->instance_id(), key)) {
        return fail(seq, "entry " + std::to_string(seq) + " is a pruned stub with a wrong or missing stub MAC: it was not made by a prune with this key (an entry replaced?)");
      }
      saw_mac |= !e.stub_mac.empty();
    }
    if (!base::ConstantTimeEquals(base::AsBytes(h), base::AsBytes(e.entry_hash))) {
      return fail(seq, "entry " + std::to_string(seq) + " was altered (hash mismatch)");
    }
    if (!key.empty()) {
      newest = CheckEntryMac(key, h, e.hmac);
      if (newest == MacCheck::kAbsent || newest == MacCheck::kWrong) {
        return fail(seq, "entry " + std::to_string(seq) + " has a wrong or missing HMAC");
      }
    } else {
      saw_mac |= !e.hmac.empty();
    }
    if (e.kind == AuditEntry::Kind::kForwarded) {
      ForwardedChain& c = chains[e.instance];
      c.instance = e.instance;
      const std::string where = "entry " + std::to_string(seq) + " (instance " + e.instance + " entry " +
                                std::to_string(e.origin->seq) + ")";
      if (e.origin->seq != c.last_seq + 1) return fail(seq, where + " leaves a gap in its instance's chain");
      std::string origin_canonical;
      AuditEntry origin;
      if (e.pruned) {
        origin = *e.origin;  // a stub keeps the origin's seq and hashes: its link, not its content
      } else if (Status os = DecodeStored(e.origin_stored, &origin, &origin_canonical, false); !os.ok()) {
        return fail(seq, where + ": " + os.message());
      }
      if (!base::ConstantTimeEquals(base::AsBytes(origin.prev_hash), base::AsBytes(c.last_hash)) ||
          (!e.pruned && !base::ConstantTimeEquals(base::AsBytes(ChainHash(origin.prev_hash, origin_canonical)),
                                                  base::AsBytes(origin.entry_hash)))) {
        return fail(seq, where + " does not link to its instance's chain");
      }
      c.last_seq = origin.seq;
      c.last_hash = origin.entry_hash;
      ++c.entries;
    }
    if (cp && seq == cp->seq) {
      if (!base::ConstantTimeEquals(base::AsBytes(h), base::AsBytes(cp->hash))) {
        return fail(seq, "entry " + std::to_string(seq) + " differs from the checkpoint: the log was rewritten at or before it");
      }
      checkpoint_held = true;
    }
    prev = h;
    r.entries = seq;
  }
  if (!it->status().ok()) return fail(expect, "reading the audit log: " + it->status().ToString());
  if (cp && cp->seq != 0 && cp->seq > r.entries) {
    return fail(r.entries + 1, "the log ends at entry " + std::to_string(r.entries) + " but the checkpoint holds entry " +
                                   std::to_string(cp->seq) + ": entries were removed from the tail");
  }
  Head head;
  if (!ReadHead(db_, &head).ok()) return fail(r.entries, "the chain head record is damaged");
  if (head.seq != r.entries || !base::ConstantTimeEquals(base::AsBytes(head.hash), base::AsBytes(prev))) {
    return fail(r.entries + 1, "the chain head (seq " + std::to_string(head.seq) + ") does not match the last entry (seq " +
                                   std::to_string(r.entries) + "): entries were removed or replaced");
  }
  // Each forwarded chain's recorded head (what the next forward links to)
  // must be the last entry held of it, and no head may name a chain not held.
  std::unique_ptr<rocksdb::Iterator> heads(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->family(Database::kMeta)));
  size_t recorded = 0;
  for (heads->Seek(kForwardHeadPrefix); heads->Valid() && heads->key().starts_with(kForwardHeadPrefix); heads->Next()) {
    std::string instance = heads->key().ToString().substr(sizeof(kForwardHeadPrefix) - 1);
    auto c = chains.find(instance);
    const rocksdb::Slice v = heads->value();
    if (c == chains.end() || v.size() != 40 || base::GetU64(v.data()) != c->second.last_seq ||
        std::memcmp(v.data() + 8, c->second.last_hash.data(), 32) != 0) {
      return fail(r.entries + 1, "the recorded head of forwarded instance " + instance +
                                     " does not match the last of its entries held: entries were removed or the record altered");
    }
    ++recorded;
  }
  if (!heads->status().ok()) return fail(r.entries + 1, "reading the forwarded heads: " + heads->status().ToString());
  if (recorded != chains.size()) return fail(r.entries + 1, "a forwarded instance's head record is missing");
  for (auto& [id, c] : chains) r.forwarded.push_back(std::move(c));
  r.head = prev;
  r.checkpoint_checked = cp != nullptr && (checkpoint_held || cp->seq == 0) && !(cp->seq == 0 && base_record.present);
  r.outcome = AuditVerifyResult::Outcome::kOk;
  if (!key.empty()) {
    if (!head.present) {
      r.head_authenticated = true;  // the empty log: nothing to authenticate
    } else if (!head.mac.empty()) {
      if (!base::ConstantTimeEquals(head.mac, HeadMac(key, head.seq, head.hash))) {
        return fail(r.entries + 1, "the chain head's MAC is wrong: the newest entries were removed and the head rewritten, or it was replaced");
      }
      r.head_authenticated = true;
    } else if (newest == MacCheck::kCurrent) {
      return fail(r.entries + 1, "the chain head has no MAC although entry " + std::to_string(r.entries) +
                                     " was written with head MACs: the head was replaced (the newest entries removed?)");
    } else {
      r.outcome = AuditVerifyResult::Outcome::kHeadUnauthenticated;
      r.problem = "the chain head has no MAC (the log was written before head MACs), so a removed tail cannot be ruled out; "
                  "the next entry appended authenticates it. Compare with a checkpoint kept elsewhere (verify --checkpoint)";
    }
  } else if (saw_mac || !head.mac.empty() || checkpoint_mac_unchecked) {
    r.outcome = AuditVerifyResult::Outcome::kHmacUnchecked;
    r.problem = "the log carries HMACs but this server has no HMAC key (audit.hmac_key_file): the HMACs and the head's MAC "
                "could not be checked, so a rebuilt chain or a removed tail would go unnoticed";
  }
  if (cp && !r.checkpoint_checked && r.outcome == AuditVerifyResult::Outcome::kOk) {
    r.outcome = AuditVerifyResult::Outcome::kCheckpointPruned;
    r.problem = "the checkpoint's entry " + std::to_string(cp->seq) + " was pruned (retention): the log now starts after entry " +
                std::to_string(base_record.seq) + ", so this checkpoint can no longer be checked; verify with a checkpoint "
                "taken at or after that entry (each prune's audit_prune event holds the base as a checkpoint line)";
  }
  if (checkpoint_without_mac && r.outcome == AuditVerifyResult::Outcome::kOk) {
    r.outcome = AuditVerifyResult::Outcome::kCheckpointUnauthenticated;
    r.problem = "the checkpoint carries no MAC although this server has an HMAC key, so it cannot be shown to come from "
                "this server (a MAC-less line could replace a kept one to hide a cut tail); its entry is in the log. "
                "Verify a checkpoint taken with the key (hashscreen audit checkpoint)";
  }
  r.ok = r.outcome == AuditVerifyResult::Outcome::kOk;
  return r;
}

}  // namespace store

namespace store {

uint64_t AuditLog::WaitForAppend(uint64_t seq, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  appended_.wait_for(lock, timeout, [&] { return head_seq_ > seq; });
  return head_seq_;
}

Status AuditLog::ForwardedHead(const std::string& instance, ForwardedChain* out) const {
  *out = ForwardedChain();
  out->instance = instance;
  std::string v;
  Status s = db_->Get(Database::kMeta, ForwardHeadKey(instance), &v);
  if (s.code() == Status::Code::kNotFound) return Status::Ok();
  HS_RETURN_IF_ERROR(s);
  if (v.size() != 40) return Status::Corruption("the forwarded head of instance " + instance + " is damaged");
  out->last_seq = base::GetU64(v.data());
  std::copy(v.begin() + 8, v.end(), out->last_hash.begin());
  return Status::Ok();
}

Status AuditLog::AppendForwarded(const std::string& instance, const std::vector<std::string>& stored,
                                 const std::string& key_id, const std::string& request_id, ForwardResult* out) {
  *out = ForwardResult();
  if (!ValidInstanceId(instance)) return Status::InvalidArgument("instance must be 32 lowercase hex digits");
  if (instance == db_->instance_id()) {
    return Status::InvalidArgument("instance " + instance + " is this server's own: only other instances forward");
  }
  if (stored.size() > kMaxForwardEntries) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxForwardEntries) + " entries per forward");
  }
  // One forward at a time: the head read here is still the head when the
  // entries are appended below.
  std::lock_guard<std::mutex> forward(forward_mu_);
  ForwardedChain head;
  HS_RETURN_IF_ERROR(ForwardedHead(instance, &head));
  std::vector<AuditEntry> fresh;
  uint64_t expect = 0;  // the seq the next entry must carry (0: the first sets it)
  std::array<uint8_t, 32> prev = head.last_hash;
  for (size_t i = 0; i < stored.size(); ++i) {
    // Held as one length-prefixed field of the forwarded entry: it must read back.
    if (stored[i].size() > kMaxFieldBytes) {
      return Status::Corruption("entry " + std::to_string(i) + " of the batch is over " + std::to_string(kMaxFieldBytes) + " bytes");
    }
    auto origin = std::make_shared<AuditEntry>();
    std::string canonical;
    if (Status s = DecodeStored(stored[i], origin.get(), &canonical, false); !s.ok()) {
      return Status::Corruption("entry " + std::to_string(i) + " of the batch: " + s.message());
    }
    const uint64_t seq = origin->seq;
    const std::string where = "instance " + instance + " entry " + std::to_string(seq);
    if (seq == 0 || (expect != 0 && seq != expect)) {
      return Status::Corruption(where + ": the batch's seqs are not contiguous (expected " + std::to_string(expect) + ")");
    }
    expect = seq + 1;
    if (seq <= head.last_seq) {
      // Already held (a retry after a lost answer): the same bytes, or a conflict.
      std::string at;
      Status found = db_->Get(Database::kMeta, ForwardSeqKey(instance, seq), &at);
      if (found.code() == Status::Code::kNotFound && base_seq() != 0) {
        ++out->skipped;  // held once, cut by a prune since: nothing left to compare
        continue;
      }
      HS_RETURN_IF_ERROR(found.WithContext(where));
      if (at.size() != 8) return Status::Corruption(where + ": its index record is damaged");
      AuditEntry held;
      Status got = Get(base::GetU64(at.data()), &held);
      if (got.code() == Status::Code::kNotFound && Pruned(base::GetU64(at.data()))) {
        ++out->skipped;  // a stub now: its content is gone by retention
        continue;
      }
      HS_RETURN_IF_ERROR(got);
      if (held.kind != AuditEntry::Kind::kForwarded || held.instance != instance ||
          !base::ConstantTimeEquals(held.origin_stored, stored[i])) {
        return Status::AlreadyExists(where + " differs from the one already held (entry " +
                                     std::to_string(held.seq) + " here): the instance's log was rewritten");
      }
      ++out->skipped;
      continue;
    }
    if (seq != head.last_seq + 1 + fresh.size()) {
      return Status::Corruption(where + " leaves a gap: the next entry held would be " +
                                std::to_string(head.last_seq + 1 + fresh.size()));
    }
    if (!base::ConstantTimeEquals(base::AsBytes(origin->prev_hash), base::AsBytes(prev))) {
      return Status::Corruption(where + " does not link to its predecessor (prev_hash)");
    }
    if (!base::ConstantTimeEquals(base::AsBytes(ChainHash(prev, canonical)), base::AsBytes(origin->entry_hash))) {
      return Status::Corruption(where + " was altered (its entry_hash does not match its fields)");
    }
    prev = origin->entry_hash;
    AuditEntry e;
    e.kind = AuditEntry::Kind::kForwarded;
    e.key_id = key_id;
    e.request_id = request_id;
    e.instance = instance;
    e.origin_stored = stored[i];
    e.origin = std::move(origin);
    fresh.push_back(std::move(e));
  }
  if (!fresh.empty()) HS_RETURN_IF_ERROR(AppendMany(fresh.data(), fresh.size()));
  out->stored = fresh.size();
  out->last_seq = head.last_seq + fresh.size();
  return Status::Ok();
}

Status AuditLog::ReadStored(uint64_t after, size_t max_entries, size_t max_bytes, std::vector<std::string>* out) const {
  out->clear();
  if (after == UINT64_MAX) return Status::Ok();
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->family(Database::kAudit)));
  size_t bytes = 0;
  for (it->Seek(AuditKey(after + 1)); it->Valid() && out->size() < max_entries; it->Next()) {
    if (!out->empty() && bytes + it->value().size() > max_bytes) break;
    bytes += it->value().size();
    out->push_back(it->value().ToString());
  }
  return FromRocks(it->status(), "reading the audit log");
}

}  // namespace store
