#include "hashing/decode_budget.h"

#include <limits>
#include <string>

#include "base/clock.h"

namespace hashing {

namespace {

int64_t DeadlineFrom(uint64_t max_ms) {
  const int64_t now = base::MonotonicMs();
  const uint64_t room = static_cast<uint64_t>(std::numeric_limits<int64_t>::max() - now);
  return max_ms >= room ? std::numeric_limits<int64_t>::max() : now + static_cast<int64_t>(max_ms);
}

std::string MiB(uint64_t bytes) {
  return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB";
}

}  // namespace

DecodeBudget::DecodeBudget(const DecodeLimits& limits)
    : max_memory_(limits.max_decode_memory), max_ms_(limits.max_decode_ms), deadline_ms_(DeadlineFrom(limits.max_decode_ms)) {}

Status DecodeBudget::Charge(uint64_t bytes, std::string_view what) {
  if (TryCharge(bytes)) return Status::Ok();
  return Status::TooLarge("decoding needs " + MiB(bytes) + " for " + std::string(what) + " on top of " + MiB(in_use_) +
                          " already held, over the decode memory limit of " + MiB(max_memory_) +
                          " (limits.max_decode_memory)");
}

bool DecodeBudget::TryCharge(uint64_t bytes) {
  if (ChargeIfRoom(bytes, 0)) return true;
  refused_bytes_ = bytes;
  return false;
}

bool DecodeBudget::ChargeIfRoom(uint64_t bytes, uint64_t leave) {
  const uint64_t room = max_memory_ - in_use_;
  if (bytes > room || leave > room - bytes) return false;
  in_use_ += bytes;
  if (in_use_ > peak_) peak_ = in_use_;
  return true;
}

void DecodeBudget::Release(uint64_t bytes) { in_use_ -= bytes < in_use_ ? bytes : in_use_; }

Status DecodeBudget::MemoryExceeded() const {
  return Status::TooLarge("decoding needs " + MiB(refused_bytes_) + " more on top of " + MiB(in_use_) +
                          " already held, over the decode memory limit of " + MiB(max_memory_) +
                          " (limits.max_decode_memory)");
}

bool DecodeBudget::CheckClock() {
  if (base::MonotonicMs() >= deadline_ms_) expired_ = true;
  return expired_;
}

Status DecodeBudget::DeadlineExceeded() const {
  return Status::TooLarge("decoding took longer than the limit of " + std::to_string(max_ms_) +
                          " ms (limits.max_decode_ms)");
}

}  // namespace hashing
