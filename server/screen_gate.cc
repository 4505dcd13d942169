#include "server/screen_gate.h"

namespace server {

void ScreenGate::Admit(KeyState* k) {
  ++running_;
  ++k->running;
  k->last_admitted = ++admissions_;
}

bool ScreenGate::Enter(const std::string& key) {
  std::unique_lock<std::mutex> lock(mu_);
  // A free worker with nobody waiting: Leave hands a freed worker to a
  // waiter at once, so waiters exist only while every worker is busy.
  if (running_ < workers_ && waiting_ == 0) {
    Admit(&keys_[key]);
    return true;
  }
  if (waiting_ >= queue_) return false;
  Waiter me;
  keys_[key].waiting.push_back(&me);
  ++waiting_;
  me.cv.wait(lock, [&] { return me.granted; });
  return true;
}

void ScreenGate::Leave(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  --running_;
  auto it = keys_.find(key);
  if (it != keys_.end() && --it->second.running == 0 && it->second.waiting.empty()) keys_.erase(it);
  if (waiting_ == 0) return;
  KeyState* next = nullptr;
  for (auto& [name, k] : keys_) {
    if (k.waiting.empty()) continue;
    if (!next || k.running < next->running || (k.running == next->running && k.last_admitted < next->last_admitted)) {
      next = &k;
    }
  }
  Waiter* w = next->waiting.front();
  next->waiting.pop_front();
  --waiting_;
  Admit(next);
  w->granted = true;
  w->cv.notify_one();
}

size_t ScreenGate::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

size_t ScreenGate::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_;
}

}  // namespace server
