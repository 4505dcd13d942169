#include "server/screener.h"

#include <atomic>

#include "base/clock.h"
#include "base/hex.h"
#include "base/query_variant.h"
#include "server/log.h"
#include "server/verdict_policy.h"

namespace server {

namespace {

std::string ErrorReason(const Status& s) { return std::string(Status::CodeName(s.code())); }

// The audit entry could not be written, so no verdict may be given: NoSpace
// (507) on a full disk, else IOError (500). Logged at most once a second: a
// full disk fails every screen, and the log must not fill another disk.
Status AuditFailed(const Status& s) {
  static std::atomic<int64_t> last_log_ms{0};
  static std::atomic<uint64_t> unlogged{0};
  const int64_t now = base::NowMs();
  int64_t last = last_log_ms.load();
  if (now - last >= 1000 && last_log_ms.compare_exchange_strong(last, now)) {
    Log(LogLevel::kError, "audit append failed: no verdict given",
        {{"error", s.ToString()}, {"failures_not_logged", std::to_string(unlogged.exchange(0))}});
  } else {
    ++unlogged;
  }
  if (s.code() == Status::Code::kNoSpace) {
    return Status::NoSpace("the audit entry could not be written: the disk is full; no verdict was given, retry later");
  }
  return Status::IOError("the audit entry could not be written");
}

// Fills the audit hits with the list and partner detail reviewers need.
void AddHits(Service& service, const std::vector<idx::Hit>& hits, store::AuditEntry* entry) {
  for (const auto& h : hits) {
    store::AuditHit a;
    a.list_id = h.list_id;
    store::ListInfo info;
    if (service.lists()->GetList(h.list_id, &info).ok()) {
      a.list_name = info.name;
      a.partner = info.owner;
      a.list_kind = base::ListKindName(info.kind);
    }
    base::SignalEntry signal;
    int64_t added_ms = 0;
    if (service.lists()->LookupSignal(h.list_id, h.type, h.hash, &signal, &added_ms).ok()) a.partner_ref = signal.ref;
    a.signal = base::SignalTypeName(h.type);
    a.hash_hex = base::HexEncode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(h.hash.data()), h.hash.size()));
    a.distance = h.distance;
    a.variant = h.variant;
    entry->hits.push_back(std::move(a));
  }
}

Status Decide(Service& service, const idx::ScreenQuery& query, store::AuditEntry* entry, ScreenVerdict* verdict) {
  const idx::ScreenResult result = service.lists()->Screen(query);
  const VerdictDecision decision = DecideVerdict(result);
  entry->verdict = decision.match ? "match" : "no_match";
  AddHits(service, result.block_hits, entry);
  AddHits(service, result.allow_hits, entry);
  if (Status s = service.audit()->Append(entry); !s.ok()) return AuditFailed(s);
  service.metrics().CountVerdict(entry->verdict);
  verdict->match = decision.match;
  verdict->audit_seq = entry->seq;
  return Status::Ok();
}

store::AuditEntry NewEntry(const store::ApiKey& key, const std::string& source, const std::string& ref) {
  store::AuditEntry e;
  e.kind = store::AuditEntry::Kind::kScreen;
  e.key_id = key.id;
  e.source = source;
  e.caller_ref = ref;
  return e;
}

}  // namespace

Status ValidateCallerRef(const std::string& ref) {
  if (ref.size() > 256) return Status::InvalidArgument("ref is longer than 256 bytes");
  for (char c : ref) {
    if (static_cast<unsigned char>(c) < 0x20) return Status::InvalidArgument("ref contains a control character");
  }
  return Status::Ok();
}

Status AuditRefusal(Service& service, const store::ApiKey& key, const std::string& ref, uint64_t size_bytes,
                    const Status& why, ScreenVerdict* verdict) {
  store::AuditEntry e = NewEntry(key, "image", ref);
  e.verdict = "error";
  e.error_code = ErrorReason(why);
  e.size_bytes = size_bytes;
  service.metrics().CountDecodeError(e.error_code);
  if (Status s = service.audit()->Append(&e); !s.ok()) return AuditFailed(s);
  service.metrics().CountVerdict("error");
  verdict->match = false;
  verdict->audit_seq = e.seq;
  return Status::Ok();
}

Status ScreenImage(Service& service, const store::ApiKey& key, std::string_view bytes, const std::string& ref,
                   ScreenVerdict* verdict) {
  hashing::ImageHashes hashes;
  Status hashed;
  {
    ScreenGate::Ticket ticket(&service.gate());
    if (!ticket.admitted()) return Status::Unavailable("too many screens in progress; retry shortly");
    hashed = hashing::HashImage(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                                service.hash_options(), &hashes);
  }
  if (!hashed.ok()) {
    HS_RETURN_IF_ERROR(AuditRefusal(service, key, ref, bytes.size(), hashed, verdict));
    return hashed;
  }
  store::AuditEntry e = NewEntry(key, "image", ref);
  e.pdq_hex = hashes.pdq[hashing::kOrig].ToHex();
  e.quality = hashes.quality;
  e.md5_hex = base::HexEncode(hashes.md5);
  e.sha256_hex = base::HexEncode(hashes.sha256);
  e.format = hashes.format;
  e.width = hashes.width;
  e.height = hashes.height;
  e.size_bytes = bytes.size();

  // PDQ hashes by set (the image's, then the picture inside its borders),
  // each set only if its own quality passes; labelled with their
  // base::QueryVariant code, which the audit hit records for reviewers. The
  // turned variants are the aligned ones: the hashes the rotated or mirrored
  // pictures themselves have (docs/robustness.md), not the reference's
  // turned samples.
  idx::ScreenQuery q;
  const int per_set = service.config().dihedral ? hashing::kNumDihedral : 1;
  auto add_set = [&](const std::array<base::PdqHash, hashing::kNumDihedral>& set, int quality, int first_code) {
    if (quality < service.config().min_quality) return;
    for (int v = 0; v < per_set; ++v) {
      q.pdq[q.num_pdq] = set[v];
      q.labels[q.num_pdq++] = static_cast<uint8_t>(first_code + v);
    }
  };
  add_set(hashes.aligned, hashes.quality, 0);
  if (hashes.trimmed.present) add_set(hashes.trimmed.aligned, hashes.trimmed.quality, base::kTrimmedVariantBase);
  q.use_pdq = q.num_pdq > 0;
  e.pdq_used = q.use_pdq;
  q.md5 = hashes.md5;
  q.sha256 = hashes.sha256;
  return Decide(service, q, &e, verdict);
}

Status ScreenHashes(Service& service, const store::ApiKey& key, const std::string& pdq_hex, const std::string& md5_hex,
                    const std::string& sha256_hex, const std::string& ref, ScreenVerdict* verdict) {
  if (pdq_hex.empty() && md5_hex.empty() && sha256_hex.empty()) {
    return Status::InvalidArgument("give at least one of pdq, md5, sha256");
  }
  idx::ScreenQuery q;
  store::AuditEntry e = NewEntry(key, "hashes", ref);
  if (!pdq_hex.empty()) {
    HS_RETURN_IF_ERROR(base::PdqHash::FromHex(pdq_hex, &q.pdq[0]).WithContext("pdq"));
    q.num_pdq = 1;
    q.use_pdq = true;
    e.pdq_hex = q.pdq[0].ToHex();
    e.pdq_used = true;
  }
  if (!md5_hex.empty()) {
    std::array<uint8_t, 16> md5{};
    HS_RETURN_IF_ERROR(base::HexDecode(md5_hex, md5).WithContext("md5"));
    q.md5 = md5;
    e.md5_hex = base::HexEncode(md5);
  }
  if (!sha256_hex.empty()) {
    std::array<uint8_t, 32> sha{};
    HS_RETURN_IF_ERROR(base::HexDecode(sha256_hex, sha).WithContext("sha256"));
    q.sha256 = sha;
    e.sha256_hex = base::HexEncode(sha);
  }
  return Decide(service, q, &e, verdict);
}

}  // namespace server
