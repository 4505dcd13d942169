// DecodeBudget: what one decode may still spend, in memory and in time
// (DecodeLimits::max_decode_memory, max_decode_ms).
//
// Memory: a decoder charges each big allocation (pixel buffers, decoder
// state) *before* making it and releases it when freed, so a header that
// lies costs nothing: the charge fails and the decode stops with kTooLarge
// before the allocation exists. The allocators handed to libpng and
// stb_image charge every allocation; libjpeg and libwebp, which take no
// allocator, are charged what their documented buffers need for the
// header's dimensions (and libjpeg is capped there too). peak() is what the
// decode held at most.
//
// Time: decoders report progress with Tick(work) from their progress hooks;
// the clock is read every kTickWork units of work, so the deadline costs
// nothing measurable, and once it has passed Tick keeps returning true.
//
// One object per decode, used only by the thread running that decode (no
// locking). Not copyable: decoders hold pointers to it.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "hashing/decode_limits.h"

namespace hashing {

using base::Status;

class DecodeBudget {
 public:
  // Work units (about one byte produced or consumed) between clock reads.
  static constexpr uint64_t kTickWork = 1u << 20;

  explicit DecodeBudget(const DecodeLimits& limits);
  DecodeBudget(const DecodeBudget&) = delete;
  DecodeBudget& operator=(const DecodeBudget&) = delete;

  // Reserves `bytes` for `what` (a noun phrase for the message, e.g. "the
  // 4000x3000 RGB output"), or returns kTooLarge naming it and the limit.
  Status Charge(uint64_t bytes, std::string_view what);
  // For allocators that can only return null: reserves `bytes` or returns
  // false, reserving nothing and remembering the refusal (refused()).
  bool TryCharge(uint64_t bytes);
  void Release(uint64_t bytes);
  // For a buffer the caller can do without (a cache): reserves `bytes` when
  // at least `leave` bytes of the limit remain free afterwards (room for
  // what the decode may still allocate), else returns false and, unlike
  // TryCharge, records no refusal: the decode goes on as if not asked.
  bool ChargeIfRoom(uint64_t bytes, uint64_t leave);

  uint64_t in_use() const { return in_use_; }
  uint64_t peak() const { return peak_; }
  // True once a TryCharge was refused; MemoryExceeded() describes it.
  bool refused() const { return refused_bytes_ != 0; }
  Status MemoryExceeded() const;

  // Counts `work`; true once the deadline has passed (sticky).
  bool Tick(uint64_t work) {
    if (expired_) return true;
    work_since_check_ += work;
    if (work_since_check_ < kTickWork) return false;
    work_since_check_ = 0;
    return CheckClock();
  }
  bool expired() const { return expired_; }
  // Reads the clock now (whatever work was counted): true once the deadline
  // has passed (sticky). Between decodes sharing one budget.
  bool CheckClock();
  // The kTooLarge status of a decode stopped by the deadline.
  Status DeadlineExceeded() const;

 private:
  const uint64_t max_memory_;
  const uint64_t max_ms_;
  const int64_t deadline_ms_;  // on base::MonotonicMs()
  uint64_t in_use_ = 0;
  uint64_t peak_ = 0;
  uint64_t refused_bytes_ = 0;
  uint64_t work_since_check_ = 0;
  bool expired_ = false;
};

}  // namespace hashing
