// ScreenGate: admission control for the CPU-bound screening work. At most
// `workers` screens hash at once (the pool sized to the cores); up to
// `queue` more wait for a turn; anything beyond is refused at once so the
// caller can answer 503 with Retry-After instead of piling up connections.
// The connection threads only wait here, so the accept loop never hashes.
//
// Admission is fair across API keys, not first-come: when a worker frees up
// it goes to a waiting screen of the key with the fewest running screens
// (ties: the key admitted longest ago), each key's own screens in arrival
// order. So one key sending many slow inputs at once (a 12 KB PNG that takes
// 0.75 s to decode) holds the workers only while no other key waits: another
// key's screen waits for the next free worker, never behind the whole queue
// of the first key. Measured: docs/deploy.md "Screen admission".
//
// Thread-safety: Enter/Leave from any thread; use the Ticket RAII helper.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace server {

class ScreenGate {
 public:
  ScreenGate(size_t workers, size_t queue) : workers_(workers), queue_(queue) {}
  ScreenGate(const ScreenGate&) = delete;
  ScreenGate& operator=(const ScreenGate&) = delete;

  // Holds one worker slot for `key` (an API key id) while alive; admitted()
  // is false if refused.
  class Ticket {
   public:
    Ticket(ScreenGate* gate, const std::string& key) : gate_(gate), key_(key), admitted_(gate->Enter(key_)) {}
    ~Ticket() { if (admitted_) gate_->Leave(key_); }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    bool admitted() const { return admitted_; }

   private:
    ScreenGate* gate_;
    const std::string key_;
    bool admitted_;
  };

  size_t running() const;
  size_t waiting() const;

 private:
  struct Waiter {
    bool granted = false;
    std::condition_variable cv;
  };
  struct KeyState {
    size_t running = 0;
    uint64_t last_admitted = 0;   // admission counter at the key's newest admission; 0 = never
    std::deque<Waiter*> waiting;  // oldest first
  };
  bool Enter(const std::string& key);
  void Leave(const std::string& key);
  void Admit(KeyState* k);  // mu_ held
  const size_t workers_, queue_;
  mutable std::mutex mu_;
  size_t running_ = 0, waiting_ = 0;
  uint64_t admissions_ = 0;
  std::map<std::string, KeyState> keys_;  // keys with running or waiting screens only
};

}  // namespace server
