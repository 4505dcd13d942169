// SignalHolds: the block-list signals that must not match for now, each with
// who held it, when and why. A hold is either a suppression (a reviewer
// judged a match on the signal a false positive: the operator's own
// decision, taken without waiting for the partner) or a quarantine (the
// flood detector saw the signal match far more than its history). Either
// is lifted only by Release (a reviewer or admin); the signal stays in its
// list throughout, and a hold on a signal that later leaves its list is
// harmless.
//
// A hold names what a hit names: (list id, signal type, hash bytes). Holds
// live in the `meta` family under "signal_hold/" + the signal's key
// (store/key_encoding.h), written synced, and are loaded at Open. The
// in-memory set is an immutable map behind an atomic pointer: Held() (the
// index's idx::HitFilter, asked only for signals a screen would otherwise
// report) never waits for a writer, and a Put or Release is seen by every
// screen that starts after it returns.
//
// Holds are local to this instance: followers do not receive them (docs/
// exchanges.md "Suppression and quarantine").
//
// Beside the holds it keeps the signals a reviewer vouched for, which the
// flood detector must never quarantine (QuarantineExemption): one a reviewer
// confirmed (a confirmed or reported review of a screen that hit it) or
// released from a quarantine. Without them an uploader could switch a listed
// signal off by flooding it with near-copies, and a restart would forget the
// reviewer's release. Stored like holds under "quarantine_exempt/" + the
// signal's key, synced, loaded at Open, read without waiting; never removed
// (a later false_positive review suppresses the signal, which is a hold).
//
// Thread-safety: every method may be called from any number of threads;
// writers are serialised internally. The Database must outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "index/screening.h"
#include "store/database.h"

namespace store {

using base::SignalType;

enum class HoldReason : uint8_t { kSuppressed = 1, kQuarantined = 2 };
const char* HoldReasonName(HoldReason reason);  // "suppressed", "quarantined"

struct SignalHold {
  uint64_t list_id = 0;
  SignalType type = SignalType::kPdq;
  std::string hash;  // raw bytes (16 or 32)
  HoldReason reason = HoldReason::kSuppressed;
  int64_t time_ms = 0;
  std::string by;   // the reviewer's key id; "flood_detector" for a quarantine
  std::string why;  // the review's note, or the detector's counts (<= 4096 bytes)
  // The audit entry that screened the match a suppression came from (0 for
  // a quarantine): a later review of that entry with another disposition
  // releases the holds it made.
  uint64_t source_seq = 0;
};

enum class ExemptReason : uint8_t { kConfirmed = 1, kReleased = 2 };
const char* ExemptReasonName(ExemptReason reason);  // "confirmed", "released"

// A signal the flood detector never quarantines, and why.
struct QuarantineExemption {
  uint64_t list_id = 0;
  SignalType type = SignalType::kPdq;
  std::string hash;  // raw bytes (16 or 32)
  ExemptReason reason = ExemptReason::kConfirmed;
  int64_t time_ms = 0;
  std::string by;        // the reviewer's key id
  uint64_t source_seq = 0;  // the screen entry confirmed (0 for a release)
};

class SignalHolds : public idx::HitFilter {
 public:
  static Status Open(Database* db, std::unique_ptr<SignalHolds>* out);
  SignalHolds(const SignalHolds&) = delete;
  SignalHolds& operator=(const SignalHolds&) = delete;

  // Holds the signal (durably, before it returns). *added is false, and
  // nothing changes, when it is held already (the first hold and its reason
  // stand). InvalidArgument for a hash of the wrong length or a `why` over
  // 4096 bytes; NoSpace / IOError when it cannot be written.
  Status Put(const SignalHold& hold, bool* added);
  // Lifts the hold; *released gets it. NotFound when the signal is not held.
  Status Release(uint64_t list_id, SignalType type, std::string_view hash, SignalHold* released);

  bool Held(uint64_t list_id, SignalType type, std::string_view hash) const override;
  // Null while nothing is held, so a screen then asks nothing at all.
  const idx::HitFilter* filter() const { return count_.load(std::memory_order_acquire) ? this : nullptr; }
  Status Get(uint64_t list_id, SignalType type, std::string_view hash, SignalHold* out) const;
  // Every hold, ordered by (list id, type, hash).
  std::vector<SignalHold> List() const;
  // The holds a suppression of screen entry `source_seq` made.
  std::vector<SignalHold> FromSource(uint64_t source_seq) const;
  size_t Count(HoldReason reason) const;

  // Exempts the signal from quarantine (durably, before it returns). *added
  // is false, and nothing changes, when it is exempt already (the first
  // reason stands). InvalidArgument for a hash of the wrong length or a `by`
  // over 256 bytes; NoSpace / IOError when it cannot be written.
  Status Exempt(const QuarantineExemption& exemption, bool* added);
  bool QuarantineExempt(uint64_t list_id, SignalType type, std::string_view hash) const;
  // Every exemption, ordered by (list id, type, hash).
  std::vector<QuarantineExemption> Exemptions() const;

 private:
  using Map = std::unordered_map<std::string, SignalHold>;  // by signal key
  using ExemptMap = std::unordered_map<std::string, QuarantineExemption>;  // by signal key
  explicit SignalHolds(Database* db) : db_(db) {}
  std::shared_ptr<const Map> map() const { return map_.load(std::memory_order_acquire); }
  void Publish(std::shared_ptr<const Map> next);

  Database* const db_;
  std::mutex write_mu_;  // serialises Put and Release (read, write, publish)
  std::atomic<std::shared_ptr<const Map>> map_{std::make_shared<const Map>()};
  std::atomic<size_t> count_{0};
  std::atomic<std::shared_ptr<const ExemptMap>> exempt_{std::make_shared<const ExemptMap>()};
};

// The stored form, exposed for tests.
std::string HoldKey(uint64_t list_id, SignalType type, std::string_view hash);
std::string EncodeHold(const SignalHold& hold);
Status DecodeHold(std::string_view key, std::string_view value, SignalHold* out);
std::string ExemptionKey(uint64_t list_id, SignalType type, std::string_view hash);
std::string EncodeExemption(const QuarantineExemption& exemption);
Status DecodeExemption(std::string_view key, std::string_view value, QuarantineExemption* out);

}  // namespace store
