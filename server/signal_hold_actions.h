// Signal holds with their audit trail: every hold and every release of a
// signal (store/signal_holds.h) is an audit event naming who, what and why
// (signal_suppressed, signal_quarantined, signal_released), so the log says
// why a signal stopped matching and who let it match again.
//
// A hold is written first, then its event; if the event cannot be written
// the hold is taken back and the error returned, so no hold exists that the
// log does not record. A release likewise.
//
// Thread-safety: the functions may be called from any number of threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "index/screening.h"
#include "server/flood_detector.h"
#include "server/service.h"

namespace server {

// What a review did to holds (reported in the review's answer).
struct HoldChanges {
  size_t held = 0;
  size_t released = 0;
};

// Called after a review was appended. A `false_positive` review of a match
// suppresses the signals of its block-list hits (source_seq = the screen's
// seq): they stop matching for every screen that starts after this returns.
// Any other disposition of the same screen later releases the suppressions
// its earlier false_positive made (the reviewer changed their mind). A
// `confirmed` or `reported` review vouches for the signals of the screen's
// block and held hits: each is exempt from flood quarantine from then on
// (store::QuarantineExemption, persisted), and a quarantine on it is
// released (counted in changes->released).
// `target` is the reviewed entry as stored (the caller has read it once
// for every use). Errors (NoSpace, IOError) come after the review itself
// was recorded.
Status UpdateHoldsForReview(Service& service, const store::AuditEntry& review, const store::AuditEntry& target,
                            HoldChanges* changes);

// The flood detector tripped on `hit` (a block hit of a match): quarantine
// the signal (unless it is exempt), count the metric, log it. Failures are logged, never returned:
// the screen that tripped it has its verdict already.
void QuarantineFlood(Service& service, const idx::Hit& hit, const FloodDetector::Observation& seen);

// Lifts a hold (reviewer or admin `by`); a quarantine's signal is first
// exempted from quarantine for good (the reviewer accepted its rate, and a
// restart must not forget that). NotFound when the signal is not held.
Status ReleaseHold(Service& service, uint64_t list_id, base::SignalType type, std::string_view hash,
                   const std::string& by, const std::string& note, const std::string& request_id,
                   store::SignalHold* released, uint64_t* audit_seq);

}  // namespace server
