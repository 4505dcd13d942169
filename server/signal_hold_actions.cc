#include "server/signal_hold_actions.h"

#include <mutex>

#include "base/clock.h"
#include "base/hex.h"
#include "server/log.h"
#include "server/request_id.h"
#include "server/screener.h"

namespace server {

namespace {

constexpr size_t kMaxDetail = 4096;

std::string HashHex(std::string_view hash) { return base::HexEncode(hash); }

// "list 3 (known, owner acme) pdq 8f3a...": the signal as people read it.
std::string Describe(Service& service, uint64_t list_id, base::SignalType type, std::string_view hash) {
  store::ListInfo info;
  std::string d = "list " + std::to_string(list_id);
  if (service.lists()->GetList(list_id, &info).ok()) d += " (" + info.name + ", owner " + info.owner + ")";
  return d + " " + base::SignalTypeName(type) + " " + HashHex(hash);
}

std::string Clip(std::string s) {
  if (s.size() > kMaxDetail) s.resize(kMaxDetail);
  return s;
}

// The hold, then its event; the hold is taken back if the event fails.
Status HoldWithEvent(Service& service, const store::SignalHold& hold, const char* event, const std::string& detail,
                     const std::string& key_id, const std::string& request_id, bool* added) {
  HS_RETURN_IF_ERROR(service.holds()->Put(hold, added));
  if (!*added) return Status::Ok();
  store::AuditEntry e;
  Status s = service.audit()->AppendEvent(event, key_id, Clip(detail), &e, request_id);
  if (s.ok()) return Status::Ok();
  store::SignalHold undone;
  if (Status u = service.holds()->Release(hold.list_id, hold.type, hold.hash, &undone); !u.ok()) {
    Log(LogLevel::kError, "taking back an unaudited signal hold failed", {{"error", u.ToString()}});
  }
  *added = false;
  return s;
}

// The reviewer vouched for the signal: the flood detector never
// quarantines it again, across restarts.
Status ExemptSignal(Service& service, uint64_t list_id, base::SignalType type, std::string_view hash,
                    store::ExemptReason reason, const std::string& by, uint64_t source_seq) {
  store::QuarantineExemption e;
  e.list_id = list_id;
  e.type = type;
  e.hash.assign(hash);
  e.reason = reason;
  e.time_ms = base::NowMs();
  e.by = by;
  e.source_seq = source_seq;
  bool added = false;
  HS_RETURN_IF_ERROR(service.holds()->Exempt(e, &added));
  if (added) {
    Log(LogLevel::kInfo, "signal exempt from flood quarantine",
        {{"signal", Describe(service, list_id, type, hash)}, {"reason", store::ExemptReasonName(reason)}, {"by", by}});
  }
  return Status::Ok();
}

Status ReleaseWithEvent(Service& service, uint64_t list_id, base::SignalType type, std::string_view hash,
                        const std::string& by, const std::string& why, const std::string& request_id,
                        store::SignalHold* released, uint64_t* audit_seq) {
  // A quarantine's release is written as an exemption first: once the
  // signal matches again it must not be quarantined again by the same
  // flood, nor by the floor after a restart (the detector's history is in
  // memory). A failed write releases nothing.
  store::SignalHold current;
  if (service.holds()->Get(list_id, type, hash, &current).ok() &&
      current.reason == store::HoldReason::kQuarantined) {
    HS_RETURN_IF_ERROR(ExemptSignal(service, list_id, type, hash, store::ExemptReason::kReleased, by, 0));
  }
  HS_RETURN_IF_ERROR(service.holds()->Release(list_id, type, hash, released));
  const std::string detail = Describe(service, list_id, type, hash) + ": " +
                             store::HoldReasonName(released->reason) + " since " +
                             std::to_string(released->time_ms) + " ms, released" + (why.empty() ? "" : ": " + why);
  store::AuditEntry e;
  Status s = service.audit()->AppendEvent("signal_released", by, Clip(detail), &e, request_id);
  if (!s.ok()) {
    bool again = false;
    if (Status u = service.holds()->Put(*released, &again); !u.ok()) {
      Log(LogLevel::kError, "restoring a signal hold after a failed audit append failed", {{"error", u.ToString()}});
    }
    return s;
  }
  if (audit_seq) *audit_seq = e.seq;
  service.metrics().CountEvent("signal_released");
  Log(LogLevel::kInfo, "signal released",
      {{"signal", Describe(service, list_id, type, hash)}, {"by", by}, {"audit_id", std::to_string(e.seq)}});
  return Status::Ok();
}

// The signal an audit hit names; false for a hit that names none.
bool ParseHitSignal(const store::AuditHit& hit, base::SignalType* type, std::string* hash) {
  if (!base::ParseSignalType(hit.signal, type).ok()) return false;
  hash->assign(base::SignalHashBytes(*type), '\0');
  return hit.hash_hex.size() == 2 * hash->size() &&
         base::HexDecode(hit.hash_hex, std::span<uint8_t>(reinterpret_cast<uint8_t*>(hash->data()), hash->size())).ok();
}

// A confirmed or reported review vouches for the block-list signals the
// screen hit, held ones included (a reviewer confirming a screen whose hit
// was quarantined is the way back for that signal): each is exempt from
// quarantine, and a quarantine on it is released.
Status ConfirmSignals(Service& service, const store::AuditEntry& review, const store::AuditEntry& stored,
                      HoldChanges* changes) {
  const store::AuditEntry& target = stored.effective();
  if (target.kind != store::AuditEntry::Kind::kScreen) return Status::Ok();
  for (const store::AuditHit& hit : target.hits) {
    if (hit.list_kind != base::ListKindName(base::ListKind::kBlock) && hit.list_kind != kHeldHitKind) continue;
    base::SignalType type;
    std::string hash;
    if (!ParseHitSignal(hit, &type, &hash)) continue;
    HS_RETURN_IF_ERROR(
        ExemptSignal(service, hit.list_id, type, hash, store::ExemptReason::kConfirmed, review.key_id, review.target_seq));
    store::SignalHold held;
    if (!service.holds()->Get(hit.list_id, type, hash, &held).ok() || held.reason != store::HoldReason::kQuarantined) {
      continue;
    }
    store::SignalHold released;
    Status s = ReleaseWithEvent(service, hit.list_id, type, hash, review.key_id,
                                "review " + std::to_string(review.seq) + " of entry " +
                                    std::to_string(review.target_seq) + " " + review.disposition + " it",
                                review.request_id, &released, nullptr);
    if (s.code() == Status::Code::kNotFound) continue;  // released meanwhile
    HS_RETURN_IF_ERROR(s);
    ++changes->released;
  }
  return Status::Ok();
}

}  // namespace

Status UpdateHoldsForReview(Service& service, const store::AuditEntry& review, const store::AuditEntry& stored,
                            HoldChanges* changes) {
  *changes = HoldChanges();
  // Serialised, and acting on the entry's current disposition rather than
  // this review's: two reviews of one entry racing here (a false_positive,
  // then a confirmed) leave the holds as the later one says, whichever
  // thread gets here first.
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  store::AuditEntry current;
  bool found = false;
  HS_RETURN_IF_ERROR(service.audit()->CurrentReview(review.target_seq, &current, &found));
  if (found && current.seq != review.seq) return Status::Ok();  // a later review acts (or acted) for both
  if (review.disposition != "false_positive") {
    for (const store::SignalHold& h : service.holds()->FromSource(review.target_seq)) {
      store::SignalHold released;
      Status s = ReleaseWithEvent(service, h.list_id, h.type, h.hash, review.key_id,
                                  "review " + std::to_string(review.seq) + " of entry " +
                                      std::to_string(review.target_seq) + " is now " + review.disposition,
                                  review.request_id, &released, nullptr);
      if (s.code() == Status::Code::kNotFound) continue;  // released meanwhile
      HS_RETURN_IF_ERROR(s);
      ++changes->released;
    }
    if (review.disposition == "confirmed" || review.disposition == "reported") {
      HS_RETURN_IF_ERROR(ConfirmSignals(service, review, stored, changes));
    }
    return Status::Ok();
  }
  const store::AuditEntry& target = stored.effective();
  if (target.kind != store::AuditEntry::Kind::kScreen || target.verdict != "match") return Status::Ok();
  for (const store::AuditHit& hit : target.hits) {
    if (hit.list_kind != base::ListKindName(base::ListKind::kBlock)) continue;
    store::SignalHold hold;
    hold.list_id = hit.list_id;
    if (!ParseHitSignal(hit, &hold.type, &hold.hash)) continue;
    hold.reason = store::HoldReason::kSuppressed;
    hold.time_ms = base::NowMs();
    hold.by = review.key_id;
    hold.why = Clip(review.note);
    hold.source_seq = review.target_seq;
    const std::string detail = Describe(service, hold.list_id, hold.type, hold.hash) + ": suppressed by review " +
                               std::to_string(review.seq) + " (false_positive) of entry " +
                               std::to_string(review.target_seq) + (review.note.empty() ? "" : ": " + review.note);
    bool added = false;
    HS_RETURN_IF_ERROR(
        HoldWithEvent(service, hold, "signal_suppressed", detail, review.key_id, review.request_id, &added));
    if (added) ++changes->held;
  }
  if (changes->held) service.metrics().CountEvent("signal_suppressed");
  return Status::Ok();
}

void QuarantineFlood(Service& service, const idx::Hit& hit, const FloodDetector::Observation& seen) {
  // Checked again here: a reviewer may have vouched for it since the screen looked.
  if (service.holds()->QuarantineExempt(hit.list_id, hit.type, hit.hash)) return;
  const FloodDetector::Options& o = service.flood().options();
  store::SignalHold hold;
  hold.list_id = hit.list_id;
  hold.type = hit.type;
  hold.hash = hit.hash;
  hold.reason = store::HoldReason::kQuarantined;
  hold.time_ms = base::NowMs();
  hold.by = "flood_detector";
  char usual[32];
  std::snprintf(usual, sizeof usual, "%.1f", seen.usual);
  hold.why = std::to_string(seen.in_window) + " distinct contents matched in the last " + std::to_string(o.window_ms / 1000) +
             " s against a usual " + usual + " (quarantine.min_hits " + std::to_string(o.min_hits) +
             ", quarantine.factor " + std::to_string(o.factor) + ")";
  const std::string what = Describe(service, hit.list_id, hit.type, hit.hash);
  bool added = false;
  Status s = HoldWithEvent(service, hold, "signal_quarantined",
                           what + ": quarantined: " + hold.why + "; release: hashscreen holds release", "",
                           std::string(CurrentRequestId()), &added);
  if (!s.ok()) {
    Log(LogLevel::kError, "quarantining a flooding signal failed", {{"signal", what}, {"error", s.ToString()}});
    return;
  }
  if (!added) return;
  service.metrics().CountQuarantine();
  service.metrics().CountEvent("signal_quarantined");
  Log(LogLevel::kWarn, "signal quarantined: it matched far more than its history",
      {{"signal", what}, {"in_window", std::to_string(seen.in_window)}, {"usual", usual}});
}

Status ReleaseHold(Service& service, uint64_t list_id, base::SignalType type, std::string_view hash,
                   const std::string& by, const std::string& note, const std::string& request_id,
                   store::SignalHold* released, uint64_t* audit_seq) {
  return ReleaseWithEvent(service, list_id, type, hash, by, note, request_id, released, audit_seq);
}

}  // namespace server
