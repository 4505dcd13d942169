#include "server/screen_gate.h"

namespace server {

bool ScreenGate::Enter() {
  std::unique_lock<std::mutex> lock(mu_);
  if (running_ < workers_) {
    ++running_;
    return true;
  }
  if (waiting_ >= queue_) return false;
  ++waiting_;
  cv_.wait(lock, [&] { return running_ < workers_; });
  --waiting_;
  ++running_;
  return true;
}

void ScreenGate::Leave() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
  }
  cv_.notify_one();
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
