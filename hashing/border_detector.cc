#include "hashing/border_detector.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace hashing {

namespace {

// Pixels the pre-check samples per row.
constexpr int kSamples = 16;

}  // namespace

Status BorderDetector::Start(int width, int height, int channels) {
  if (channels != 1 && channels != 3) return Status::Unsupported("decoder produced " + std::to_string(channels) + " channels");
  if (width <= 0 || height <= 0) return Status::InvalidArgument("empty image");
  width_ = width, height_ = height, channels_ = channels;
  rows_ = 0, top_ = 0, top_open_ = true, bottom_ = 0;
  left_ = right_ = width;
  left_sums_.assign(static_cast<size_t>(width), 0);
  right_sums_.assign(static_cast<size_t>(width), 0);
  luma_.assign(channels == 3 ? static_cast<size_t>(width) : 0, 0);
  ring_luma_.assign(static_cast<size_t>(width) * kEdge, 0);
  top_edge_rows_ = 0, ring_end_ = 0;
  return Status::Ok();
}

int BorderDetector::Luma(const uint8_t* row, int x) const {
  if (channels_ == 1) return row[x];
  uint8_t y;
  Luma8RgbReference(row + static_cast<size_t>(x) * 3, 1, &y);
  return y;
}

void BorderDetector::LumaFromLeft(int n) {
  n = std::min(n, width_);
  if (n <= lum_left_) return;
  if (channels_ == 3) {
    luma8_rgb_(row_ + static_cast<size_t>(lum_left_) * 3, static_cast<size_t>(n - lum_left_), luma_.data() + lum_left_);
  }
  lum_left_ = n;
}

void BorderDetector::LumaFromRight(int n) {
  const int from = width_ - std::min(n, width_);
  if (from >= lum_right_) return;
  if (channels_ == 3) {
    luma8_rgb_(row_ + static_cast<size_t>(from) * 3, static_cast<size_t>(lum_right_ - from), luma_.data() + from);
  }
  lum_right_ = from;
}

namespace {

// Luma is computed this many pixels ahead of a scan: a photo's scans end
// within a few pixels, a bar's run within a few chunks of its end.
constexpr int kChunk = 64;

}  // namespace

int BorderDetector::RunFromLeft(int ref, int limit) {
  const int t = options_.tolerance;
  int x = 0;
  while (x < limit) {
    const int end = std::min(limit, x + kChunk);
    LumaFromLeft(end);
    for (; x < end; ++x) {
      if (std::abs(lum_[x] - ref) > t) return x;
    }
  }
  return limit;
}

int BorderDetector::RunFromRight(int ref, int limit) {
  const int t = options_.tolerance;
  int n = 0;
  while (n < limit) {
    const int end = std::min(limit, n + kChunk);
    LumaFromRight(end);
    for (; n < end; ++n) {
      if (std::abs(lum_[width_ - 1 - n] - ref) > t) return n;
    }
  }
  return limit;
}

float BorderDetector::MeanDeviation(float ref) {
  LumaFromLeft(width_);
  float sum = 0;
  for (int x = 0; x < width_; ++x) sum += std::abs(static_cast<float>(lum_[x]) - ref);
  return sum / static_cast<float>(width_);
}

void BorderDetector::PushStat() {
  const int slot = ring_end_++ % kEdge;
  RowStat& s = ring_[static_cast<size_t>(slot)];
  s = RowStat();
  // Pre-check on samples: their mean deviation from their mean.
  int samples[kSamples], sample_sum = 0;
  for (int i = 0; i < kSamples; ++i) {
    samples[i] = Luma(row_, static_cast<int>(static_cast<int64_t>(i) * (width_ - 1) / (kSamples - 1)));
    sample_sum += samples[i];
  }
  int spread = 0;
  for (int v : samples) spread += std::abs(kSamples * v - sample_sum);
  if (spread > 2 * options_.edge_tolerance * kSamples * kSamples) return;  // not near: nothing kept
  LumaFromLeft(width_);
  std::memcpy(ring_luma_.data() + static_cast<size_t>(slot) * width_, lum_, static_cast<size_t>(width_));
  s.near = true;
}

float BorderDetector::MeanDeviation(int slot, int shade) const {
  const RowStat& s = ring_[static_cast<size_t>(slot)];
  uint64_t sum = 0;
  if (s.uniform_shade >= 0) {
    sum = static_cast<uint64_t>(width_) * static_cast<uint64_t>(std::abs(s.uniform_shade - shade));
  } else {
    const uint8_t* luma = ring_luma_.data() + static_cast<size_t>(slot) * width_;
    for (int x = 0; x < width_; ++x) sum += static_cast<uint64_t>(std::abs(luma[x] - shade));
  }
  return static_cast<float>(sum) / static_cast<float>(width_);
}

void BorderDetector::PushRing(const RowStat& s) { ring_[static_cast<size_t>(ring_end_++ % kEdge)] = s; }

void BorderDetector::Row(const uint8_t* row) {
  row_ = row;
  lum_ = channels_ == 1 ? row : luma_.data();
  lum_left_ = 0, lum_right_ = width_;
  if (channels_ == 1) lum_left_ = width_, lum_right_ = 0;
  if (rows_ == 0) {
    top_left_ = top_shade_ = Luma(row, 0);
    top_right_ = Luma(row, width_ - 1);
  }
  ++rows_;
  const int first = Luma(row, 0);
  const bool uniform = RunFromLeft(first, width_) == width_;
  if (top_open_ && !(uniform && std::abs(first - top_shade_) <= options_.tolerance)) top_open_ = false;
  // Side bars, and the deviations of the columns at and past their edges
  // (rows of the top bar add nothing: they are the bar's shade).
  if (left_ > 0) {
    left_ = RunFromLeft(top_left_, left_);
    if (left_ > 0 && !top_open_) {
      const int n = std::min(width_, left_ + kEdge);
      LumaFromLeft(n);
      for (int x = 0; x < n; ++x) left_sums_[static_cast<size_t>(x)] += static_cast<uint64_t>(std::abs(lum_[x] - top_left_));
    }
  }
  if (right_ > 0) {
    right_ = RunFromRight(top_right_, right_);
    if (right_ > 0 && !top_open_) {
      const int n = std::min(width_, right_ + kEdge);
      LumaFromRight(n);
      for (int i = 0; i < n; ++i) {
        right_sums_[static_cast<size_t>(i)] += static_cast<uint64_t>(std::abs(lum_[width_ - 1 - i] - top_right_));
      }
    }
  }
  if (top_open_) {
    ++top_;
  } else if (top_ > 0 && top_edge_rows_ < kEdge) {
    top_edge_[static_cast<size_t>(top_edge_rows_++)] = MeanDeviation(static_cast<float>(top_shade_));
  }
  // The trailing uniform run (bottom_ rows, the last kEdge of them kept in
  // run_); the rows before it go through the ring.
  if (uniform && bottom_ > 0 && std::abs(first - bottom_shade_) <= options_.tolerance) {
    ++bottom_;
  } else {
    // The run so far is not the bottom bar: its rows are ordinary rows.
    for (int i = std::max(0, bottom_ - kEdge); i < bottom_; ++i) PushRing(run_[static_cast<size_t>(i % kEdge)]);
    if (uniform) {
      bottom_ = 1;
      bottom_shade_ = first;
    } else {
      bottom_ = 0;
      PushStat();
    }
  }
  if (uniform) {
    RowStat& s = run_[static_cast<size_t>((bottom_ - 1) % kEdge)];  // a uniform row: all at its shade
    s.near = true;
    s.uniform_shade = first;
  }
}

void BorderDetector::Rows(int, int n, const uint8_t* data) {
  const size_t row_bytes = static_cast<size_t>(width_) * channels_;
  for (int i = 0; i < n; ++i) Row(data + i * row_bytes);
}

int BorderDetector::Extend(int strict, const float* means, int n, int limit) const {
  if (strict == 0) return 0;  // only a found bar has an edge to refine
  int ext = 0;
  while (ext < n && ext < kEdge && strict + ext < limit && means[ext] <= static_cast<float>(options_.edge_tolerance)) ++ext;
  return ext;
}

bool BorderDetector::MayTrimWithoutBottom() const {
  if (top_open_) return true;
  // What Result() may remove, generously: each strict bar and its edge.
  const int top = top_ > 0 ? top_ + kEdge : 0;
  const int sides = (left_ > 0 ? left_ + kEdge : 0) + (right_ > 0 ? right_ + kEdge : 0);
  return top >= options_.min_trim * height_ || sides >= options_.min_trim * width_;
}

std::optional<TrimRect> BorderDetector::Result() const {
  if (rows_ != height_ || width_ <= 0) return std::nullopt;
  const int left = left_, right = right_, top = top_, bottom = bottom_;
  if (left + right >= width_ || top + bottom >= height_) return std::nullopt;  // one shade: nothing inside
  // Edge refinement, each side against the lines between the strict bars.
  const float content_rows = static_cast<float>(height_ - top - bottom);
  float means[kEdge];
  const int nl = std::min(kEdge, width_ - left);
  for (int i = 0; i < nl; ++i) means[i] = static_cast<float>(left_sums_[static_cast<size_t>(left + i)]) / content_rows;
  const int l = left + Extend(left, means, nl, width_ - right - 1);
  const int nr = std::min(kEdge, width_ - right);
  for (int i = 0; i < nr; ++i) means[i] = static_cast<float>(right_sums_[static_cast<size_t>(right + i)]) / content_rows;
  const int r = right + Extend(right, means, nr, width_ - l - 1);
  const int t = top + Extend(top, top_edge_.data(), top_edge_rows_, height_ - bottom - 1);
  // The ring ends with the rows just above the trailing run.
  int n = 0;
  for (int i = 1; i <= kEdge && i <= ring_end_; ++i, ++n) {
    const int slot = (ring_end_ - i) % kEdge;
    means[n] = ring_[static_cast<size_t>(slot)].near ? MeanDeviation(slot, bottom_shade_) : 1e9f;
  }
  const int b = bottom + Extend(bottom, means, n, height_ - t - 1);

  TrimRect rect{l, t, width_ - l - r, height_ - t - b};
  const bool enough_removed = width_ - rect.width >= options_.min_trim * width_ ||
                              height_ - rect.height >= options_.min_trim * height_;
  const bool enough_kept = rect.width >= options_.min_keep * width_ && rect.height >= options_.min_keep * height_ &&
                           rect.width >= kMinSide && rect.height >= kMinSide;
  if (!enough_removed || !enough_kept) return std::nullopt;
  return rect;
}

}  // namespace hashing
