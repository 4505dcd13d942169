// ScreenGate: admission control for the CPU-bound screening work. At most
// `workers` screens hash at once (the pool sized to the cores); up to
// `queue` more wait for a turn; anything beyond is refused at once so the
// caller can answer 503 with Retry-After instead of piling up connections.
// The connection threads only wait here, so the accept loop never hashes.
//
// Thread-safety: Enter/Leave from any thread; use the Ticket RAII helper.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace server {

class ScreenGate {
 public:
  ScreenGate(size_t workers, size_t queue) : workers_(workers), queue_(queue) {}
  ScreenGate(const ScreenGate&) = delete;
  ScreenGate& operator=(const ScreenGate&) = delete;

  // Holds one worker slot while alive; admitted() is false if refused.
  class Ticket {
   public:
    explicit Ticket(ScreenGate* gate) : gate_(gate), admitted_(gate->Enter()) {}
    ~Ticket() { if (admitted_) gate_->Leave(); }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    bool admitted() const { return admitted_; }

   private:
    ScreenGate* gate_;
    bool admitted_;
  };

  size_t running() const;
  size_t waiting() const;

 private:
  bool Enter();
  void Leave();
  const size_t workers_, queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t running_ = 0, waiting_ = 0;
};

}  // namespace server
