// ProgressBar: one self-rewriting status line on stderr, shown only when
// stderr is a terminal (scripts and logs get no control characters).
// Redraws at most ~10 times a second; shows the rate and, once some work is
// done, the time left at that rate.
//
// Thread-safety: Advance and Print may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace client {

class ProgressBar {
 public:
  ProgressBar(std::string what, uint64_t total);
  ~ProgressBar();  // clears the line
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void Advance(uint64_t n, const std::string& note = "");
  // Prints a whole line (to `out`) above the bar without garbling it.
  void Print(FILE* out, const std::string& line);
  bool enabled() const { return enabled_; }
  // Clears the line now (before a summary is printed).
  void Clear();

 private:
  void Draw(bool force);
  const std::string what_;
  const uint64_t total_;
  const bool enabled_;
  std::mutex mu_;
  uint64_t done_ = 0;
  std::string note_;
  std::chrono::steady_clock::time_point last_draw_{}, start_;
};

}  // namespace client
