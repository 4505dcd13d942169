#include "client/progress.h"

#include <unistd.h>

#include <cstdio>

namespace client {

ProgressBar::ProgressBar(std::string what, uint64_t total)
    : what_(std::move(what)), total_(total), enabled_(isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { Clear(); }

void ProgressBar::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  if (enabled_) std::fprintf(stderr, "\r\033[K");
}

void ProgressBar::Advance(uint64_t n, const std::string& note) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ += n;
  if (!note.empty()) note_ = note;
  Draw(done_ == total_);
}

void ProgressBar::Print(FILE* out, const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (enabled_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(out, "%s\n", line.c_str());
  std::fflush(out);
  if (enabled_) Draw(true);
}

void ProgressBar::Draw(bool force) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  double frac = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  int filled = static_cast<int>(frac * kWidth);
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? static_cast<double>(done_) / secs : 0.0;
  std::string eta;
  if (rate > 0 && done_ < total_) {
    const auto left = static_cast<uint64_t>(static_cast<double>(total_ - done_) / rate);
    char text[32];
    std::snprintf(text, sizeof text, " ETA %llu:%02llu:%02llu", static_cast<unsigned long long>(left / 3600),
                  static_cast<unsigned long long>(left / 60 % 60), static_cast<unsigned long long>(left % 60));
    eta = text;
  }
  std::fprintf(stderr, "\r\033[K%s [%s] %llu/%llu %.0f/s%s %s", what_.c_str(), bar.c_str(),
               static_cast<unsigned long long>(done_), static_cast<unsigned long long>(total_), rate, eta.c_str(),
               note_.c_str());
  std::fflush(stderr);
}

}  // namespace client
