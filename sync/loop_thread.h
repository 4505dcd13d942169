// LoopThread: the start and stop of a sync/ worker thread (the Follower's
// feed loop, the AuditForwarder's forward loop), one implementation for
// both. The owner keeps the thread and its flags with the rest of its state
// under its own mutex; its loop must set `running` to false under that mutex
// and notify `cv` when it returns.
//
// Thread-safety: Start and Stop from one thread (the owner's).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "sync/feed_client.h"

namespace hsync {

struct LoopThread {
  std::mutex& mu;
  std::condition_variable& cv;
  bool& stopping;
  bool& running;
  std::thread& thread;

  // Starts `loop` on the thread unless it runs already; `on_start` runs
  // first, under the mutex.
  void Start(std::function<void()> loop, const std::function<void()>& on_start = {}) const;
  // Asks the loop to stop and cancels `client`'s request in flight until the
  // loop has returned (a Cancel landing between two requests would otherwise
  // leave the next one, a long poll, running), then joins it.
  void Stop(FeedClient* client) const;
  // The same with any cancel (an exchange's fetcher), called until the loop
  // has returned.
  void Stop(const std::function<void()>& cancel) const;
};

}  // namespace hsync
