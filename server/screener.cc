#include "server/screener.h"

#include <atomic>

#include "base/clock.h"
#include "base/hex.h"
#include "base/merkle.h"
#include "base/query_variant.h"
#include "server/log.h"
#include "server/request_id.h"
#include "server/signal_hold_actions.h"
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

// The lists behind the hits, looked up once per hit (a screen without hits
// looks up and allocates nothing here). A list that cannot be looked up
// keeps id 0 and empty strings.
struct HitLists {
  std::vector<store::ListInfo> block, allow;
};

void LookUpLists(Service& service, const std::vector<idx::Hit>& hits, std::vector<store::ListInfo>* out) {
  out->resize(hits.size());
  for (size_t i = 0; i < hits.size(); ++i) {
    if (!service.lists()->GetList(hits[i].list_id, &(*out)[i]).ok()) (*out)[i] = store::ListInfo();
  }
}

// Fills the audit hits with the list and partner detail reviewers need.
// `kind` overrides the list's kind: "held" for the hits of held signals.
void AddHits(Service& service, const std::vector<idx::Hit>& hits, const std::vector<store::ListInfo>& lists,
             store::AuditEntry* entry, const char* kind = nullptr) {
  for (size_t i = 0; i < hits.size(); ++i) {
    const idx::Hit& h = hits[i];
    const store::ListInfo& info = lists[i];
    store::AuditHit a;
    a.list_id = h.list_id;
    if (info.id == h.list_id) {
      a.list_name = info.name;
      a.partner = info.owner;
      a.list_kind = base::ListKindName(info.kind);
    }
    if (kind) a.list_kind = kind;
    base::SignalEntry signal;
    int64_t added_ms = 0;
    store::SignalMeta meta;
    // Looked up only for a hit, so the no-match path costs nothing. First
    // seen: the partner's own time when its exchange gave one, else when
    // the signal came into this list.
    if (service.lists()->LookupSignal(h.list_id, h.type, h.hash, &signal, &added_ms, &meta).ok()) {
      a.partner_ref = signal.ref;
      a.tags = std::move(meta.tags);
      a.first_seen_ms = meta.first_seen_ms != 0 ? meta.first_seen_ms : added_ms;
    }
    a.signal = base::SignalTypeName(h.type);
    a.hash_hex = base::HexEncode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(h.hash.data()), h.hash.size()));
    a.distance = h.distance;
    a.variant = h.variant;
    entry->hits.push_back(std::move(a));
  }
}

// The first PDQ hit that lies near its list's threshold (ProbingDetector), or null.
const idx::Hit* NearThresholdHit(const ProbingDetector& detector, const std::vector<idx::Hit>& hits,
                                 const std::vector<store::ListInfo>& lists) {
  for (size_t i = 0; i < hits.size(); ++i) {
    if (hits[i].type == base::SignalType::kPdq && lists[i].id == hits[i].list_id &&
        detector.NearThreshold(hits[i].distance, lists[i].pdq_threshold)) {
      return &hits[i];
    }
  }
  return nullptr;
}

// The key tripped the probing detector: block it (persisted, so a restart
// does not lift it), record an audit event and a metric. If the block cannot
// be written the database is failing, and so is every screen's audit
// append: no verdict is given then anyway.
void BlockForProbing(Service& service, const store::ApiKey& key, const ProbingDetector::Observation& seen) {
  const ProbingDetector::Options& o = service.probing().options();
  Status s = service.keys()->SetBlocked(key.id, base::NowMs());
  if (!s.ok()) Log(LogLevel::kError, "blocking a key failed", {{"key", key.id}, {"error", s.ToString()}});
  const std::string detail =
      std::to_string(seen.in_window) + " screens within " + std::to_string(o.band) +
      " bits of a list's PDQ threshold in the last " + std::to_string(o.window_ms / 1000) + " s, " +
      std::to_string(seen.on_hash) + " of them on one list hash (budgets " + std::to_string(o.budget) + " and " +
      std::to_string(o.hash_budget) + "); key blocked " +
      (o.block_ms ? "for " + std::to_string(o.block_ms / 1000) + " s" : std::string("until an admin clears it")) +
      " (hashscreen keys unblock " + key.id + ")";
  store::AuditEntry event;
  s = service.audit()->AppendEvent("probing_suspected", key.id, detail, &event, std::string(CurrentRequestId()));
  if (!s.ok()) Log(LogLevel::kError, "audit append failed", {{"error", s.ToString()}});
  service.metrics().CountEvent("probing_suspected");
  Log(LogLevel::kWarn, "key blocked: probing suspected",
      {{"key", key.id},
       {"near_threshold_screens", std::to_string(seen.in_window)},
       {"on_one_hash", std::to_string(seen.on_hash)},
       {"audit_id", std::to_string(event.seq)}});
}

// What a screen's hits are counted as by the flood detector: the upload's
// SHA-256 for an image (the same file re-sent is one content), else, for a
// hash query, the queried hash that made each hit (not the whole query, so
// varying a field that did not hit makes no new content).
struct FloodContent {
  const base::Sha256Digest* upload = nullptr;
  const idx::ScreenQuery* query = nullptr;
};

std::string_view HitContent(const FloodContent& content, const idx::Hit& h) {
  if (content.upload) return base::AsBytes(*content.upload);
  const idx::ScreenQuery& q = *content.query;
  switch (h.type) {
    case base::SignalType::kMd5:
      if (q.md5) return base::AsBytes(*q.md5);
      break;
    case base::SignalType::kSha256:
      if (q.sha256) return base::AsBytes(*q.sha256);
      break;
    default:
      for (int i = 0; i < q.num_pdq; ++i) {
        if (q.labels[static_cast<size_t>(i)] == h.variant) {
          return std::string_view(reinterpret_cast<const char*>(q.pdq[static_cast<size_t>(i)].bytes.data()),
                                  q.pdq[static_cast<size_t>(i)].bytes.size());
        }
      }
  }
  return h.hash;  // not reached: a hit comes from one of the query's hashes
}

// Counts a match's block hits for the flood detector; a signal that floods
// is quarantined for the screens after this one. Signals a reviewer vouched
// for and lists the operator exempted are not counted at all.
void ObserveFloods(Service& service, const std::vector<idx::Hit>& hits, const std::vector<store::ListInfo>& lists,
                   const FloodContent& content) {
  FloodDetector& flood = service.flood();
  const int64_t now = base::MonotonicMs();
  for (size_t i = 0; i < hits.size(); ++i) {
    const idx::Hit& h = hits[i];
    if (lists[i].id == h.list_id && flood.ListExempt(lists[i].name)) continue;
    if (service.holds()->QuarantineExempt(h.list_id, h.type, h.hash)) continue;
    const FloodDetector::Observation seen = flood.Observe(h.list_id, h.type, h.hash, flood.Content(HitContent(content, h)), now);
    if (seen.flood) QuarantineFlood(service, h, seen);
  }
}

Status DecideResult(Service& service, const store::ApiKey& key, const idx::ScreenResult& result,
                    const FloodContent& content, store::AuditEntry* entry, ScreenVerdict* verdict) {
  HitLists lists;
  LookUpLists(service, result.block_hits, &lists.block);
  LookUpLists(service, result.allow_hits, &lists.allow);
  std::vector<store::ListInfo> held_lists;
  LookUpLists(service, result.held_hits, &held_lists);
  HitOwners owners;
  for (const auto& l : lists.block) owners.block.push_back(l.owner);
  for (const auto& l : lists.allow) owners.allow.push_back(l.owner);
  const VerdictDecision decision = DecideVerdict(result, owners);
  // The probing budget is settled before any verdict leaves: the screen is
  // counted and judged atomically, and a screen over the budget, or of a key
  // blocked while it ran, gives no verdict. Its audit entry is still written
  // (verdict "error", error_code probing_suspected, with the hits), so
  // reviewers see what the walk reached.
  ProbingDetector& detector = service.probing();
  ProbingDetector::Observation seen;
  if (!key.probing_exempt) {
    const idx::Hit* near = NearThresholdHit(detector, result.block_hits, lists.block);
    if (!near) near = NearThresholdHit(detector, result.allow_hits, lists.allow);
    const int64_t now = base::MonotonicMs();
    if (near) {
      seen = detector.Observe(key.id, std::hash<std::string>()(near->hash), now);
    } else {
      seen.answer = !detector.Blocked(key.id, now);
    }
  }
  if (seen.answer) {
    entry->verdict = decision.match ? "match" : "no_match";
  } else {
    entry->verdict = "error";
    entry->error_code = kProbingSuspected;
  }
  AddHits(service, result.block_hits, lists.block, entry);
  AddHits(service, result.allow_hits, lists.allow, entry);
  AddHits(service, result.held_hits, held_lists, entry, kHeldHitKind);
  Status appended = service.audit()->Append(entry);
  if (seen.tripped) BlockForProbing(service, key, seen);
  if (!appended.ok()) return AuditFailed(appended);
  service.metrics().CountVerdict(entry->verdict);
  if (!seen.answer) {
    service.metrics().CountRejected(kProbingSuspected);
    return Status::PermissionDenied(kProbingSuspectedMessage);
  }
  if (decision.match && service.flood().options().enabled) ObserveFloods(service, result.block_hits, lists.block, content);
  verdict->match = decision.match;
  verdict->audit_seq = entry->seq;
  return Status::Ok();
}

Status Decide(Service& service, const store::ApiKey& key, const idx::ScreenQuery& query, const FloodContent& content,
              store::AuditEntry* entry, ScreenVerdict* verdict) {
  return DecideResult(service, key, service.lists()->Screen(query), content, entry, verdict);
}

store::AuditEntry NewEntry(const store::ApiKey& key, const std::string& source, const std::string& ref) {
  store::AuditEntry e;
  e.kind = store::AuditEntry::Kind::kScreen;
  e.key_id = key.id;
  e.source = source;
  e.caller_ref = ref;
  e.request_id = std::string(CurrentRequestId());
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
    ScreenGate::Ticket ticket(&service.gate(), key.id);
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
  q.held = service.holds()->filter();
  return Decide(service, key, q, FloodContent{&hashes.sha256, nullptr}, &e, verdict);
}

namespace {

// The audit entry of a hash-only screen: the original PDQ hash as sent.
store::AuditEntry HashEntry(const store::ApiKey& key, const HashQuery& query, const idx::ScreenQuery& q) {
  store::AuditEntry e = NewEntry(key, "hashes", query.ref);
  if (!query.pdq.empty()) e.pdq_hex = query.pdq[0].ToHex();
  e.quality = query.quality;
  e.pdq_used = q.use_pdq;
  if (query.md5) e.md5_hex = base::HexEncode(*query.md5);
  if (query.sha256) e.sha256_hex = base::HexEncode(*query.sha256);
  return e;
}

}  // namespace

Status ScreenHashes(Service& service, const store::ApiKey& key, const HashQuery& query, ScreenVerdict* verdict) {
  idx::ScreenQuery q;
  query.ToScreenQuery(service.config(), &q);
  q.held = service.holds()->filter();
  store::AuditEntry e = HashEntry(key, query, q);
  return Decide(service, key, q, FloodContent{nullptr, &q}, &e, verdict);
}

Status ScreenBatchItem(Service& service, const store::ApiKey& key, const HashQuery& query, ScreenVerdict* verdict,
                       bool* pooled) {
  *pooled = false;
  idx::ScreenQuery q;
  query.ToScreenQuery(service.config(), &q);
  q.held = service.holds()->filter();
  idx::ScreenResult result = service.lists()->Screen(q);
  // No hit at all: no count for the probing detector (as in DecideResult),
  // only its block, checked per item, since an earlier item may have tripped it.
  // Hits of held signals only are pooled too: an entry of its own would tell
  // the caller the hash is on a list (docs/exchanges.md "Suppression and
  // quarantine"), so the pooled entry's count holds them.
  if (result.block_hits.empty() && result.allow_hits.empty() &&
      (key.probing_exempt || !service.probing().Blocked(key.id, base::MonotonicMs()))) {
    *pooled = true;
    verdict->match = false;
    verdict->audit_seq = 0;
    return Status::Ok();
  }
  store::AuditEntry e = HashEntry(key, query, q);
  return DecideResult(service, key, result, FloodContent{nullptr, &q}, &e, verdict);
}

Status AuditPooled(Service& service, const store::ApiKey& key, std::span<const base::Sha256Digest> leaves,
                   uint64_t* seq, base::Sha256Digest* root) {
  HS_RETURN_IF_ERROR(base::MerkleRoot(leaves, root));
  store::AuditEntry e;
  e.kind = store::AuditEntry::Kind::kBatch;
  e.key_id = key.id;
  e.source = "hashes";
  e.verdict = "no_match";
  e.batch_count = leaves.size();
  e.merkle_root = *root;
  if (Status s = service.audit()->Append(&e); !s.ok()) return AuditFailed(s);
  service.metrics().CountVerdicts("no_match", leaves.size());
  *seq = e.seq;
  return Status::Ok();
}

}  // namespace server
