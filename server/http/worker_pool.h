// WorkerPool: a fixed set of threads running submitted tasks in order of
// submission. The front submits at most one task per connection at a time
// (checking a request head, or running its handler), so the queue is
// bounded by the connection cap and needs no bound of its own.
//
// Thread-safety: Submit from any thread. The destructor runs the tasks
// still queued, then joins the threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace server::http {

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Submit(std::function<void()> task);
  size_t threads() const { return threads_.size(); }

 private:
  void Run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace server::http
