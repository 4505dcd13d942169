#include "sync/loop_thread.h"

#include <chrono>

namespace hsync {

void LoopThread::Start(std::function<void()> loop, const std::function<void()>& on_start) const {
  std::lock_guard l(mu);
  if (thread.joinable()) return;
  running = true;
  stopping = false;
  if (on_start) on_start();
  thread = std::thread(std::move(loop));
}

void LoopThread::Stop(FeedClient* client) const {
  Stop([client] { client->Cancel(); });
}

void LoopThread::Stop(const std::function<void()>& cancel) const {
  {
    std::lock_guard l(mu);
    if (!thread.joinable()) return;
    stopping = true;
  }
  cv.notify_all();
  for (;;) {
    cancel();
    std::unique_lock l(mu);
    if (cv.wait_for(l, std::chrono::milliseconds(100), [&] { return !running; })) break;
  }
  thread.join();
}

}  // namespace hsync
