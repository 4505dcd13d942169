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
  cap_top_open_ = false, cap_top_ = 0, cap_top_edge_rows_ = 0;
  cap_bottom_start_ = -1, cap_bottom_edge_rows_ = 0;
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
  if (options_.captions) CaptionRow(uniform, first);
}

int BorderDetector::TextInk(int shade) {
  const int margin = std::max(1, width_ / 40);
  if (RunFromLeft(shade, margin) < margin || RunFromRight(shade, margin) < margin) return -1;
  LumaFromLeft(width_);
  const int t = options_.tolerance;
  int ink = 0;
  for (int x = 0; x < width_; ++x) ink += std::abs(lum_[x] - shade) > t;
  return ink * 4 <= 3 * width_ ? ink : -1;
}

bool BorderDetector::CaptionShape(int outer, int band, int inner, int ink) const {
  return band > 0 && outer * 8 >= band && inner * 8 >= band && ink * 50 >= width_;
}

void BorderDetector::CaptionRow(bool uniform, int first) {
  const int t = options_.tolerance;
  // Top: row 0's shade, from row 0 on.
  if (rows_ == 1) {
    cap_top_open_ = uniform;
    cap_top_ = uniform ? 1 : 0;
    cap_top_run_ = 0;
    cap_top_ink_ = 0;
  } else if (cap_top_open_ && uniform && std::abs(first - top_shade_) <= t) {
    if (cap_top_ != rows_ - 1) cap_top_run_ = rows_ - 1;  // a bar run begins after text
    cap_top_ = rows_;  // a bar row: the caption may end here
    cap_top_edge_rows_ = 0;
  } else if (cap_top_open_ || (cap_top_ > top_ && cap_top_edge_rows_ < kEdge)) {
    if (cap_top_open_) {
      const int ink = TextInk(top_shade_);
      if (ink < 0) {
        cap_top_open_ = false;  // the picture
      } else {
        cap_top_ink_ = std::max(cap_top_ink_, ink);
      }
    }
    if (cap_top_edge_rows_ < kEdge) {
      cap_top_edge_[static_cast<size_t>(cap_top_edge_rows_++)] = MeanDeviation(static_cast<float>(top_shade_));
    }
  }
  // Bottom: a candidate ends at a row that is neither a bar row nor a text
  // row of its shade; one begins with each uniform run while there is none.
  if (cap_bottom_start_ >= 0) {
    if (uniform && std::abs(first - cap_bottom_shade_) <= t) {
      if (cap_bottom_run_ == rows_ - 1 - cap_bottom_start_) ++cap_bottom_run_;  // still its first run
    } else {
      const int ink = TextInk(cap_bottom_shade_);
      if (ink < 0) {
        cap_bottom_start_ = -1;
      } else {
        cap_bottom_ink_ = std::max(cap_bottom_ink_, ink);
      }
    }
  }
  if (cap_bottom_start_ < 0 && uniform && bottom_ == 1) {
    cap_bottom_start_ = rows_ - 1;
    cap_bottom_shade_ = first;
    cap_bottom_run_ = 1;
    cap_bottom_ink_ = 0;
    // The ring ends with the rows just above this one (the run's first row);
    // Extend stops at the first row too far from the shade, so do these.
    cap_bottom_edge_rows_ = 0;
    for (int i = 1; i <= kEdge && i <= ring_end_; ++i) {
      const int slot = (ring_end_ - i) % kEdge;
      const float mean = ring_[static_cast<size_t>(slot)].near ? MeanDeviation(slot, first) : 1e9f;
      cap_bottom_edge_[static_cast<size_t>(cap_bottom_edge_rows_++)] = mean;
      if (mean > static_cast<float>(options_.edge_tolerance)) break;
    }
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
  if (top_open_ || cap_top_open_) return true;
  // What Result() may remove, generously: each strict bar and its edge.
  const int top = std::max(top_ > 0 ? top_ + kEdge : 0, cap_top_ > top_ ? cap_top_ + kEdge : 0);
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
  // Caption bars reach further than the uniform rows at their edge.
  const int tol = options_.tolerance;
  const double max_caption = options_.max_caption * height_;
  const bool top_caption = cap_top_ > top && !cap_top_open_ && cap_top_ <= max_caption &&
                           cap_top_ < height_ - bottom && CaptionShape(top, cap_top_run_ - top, cap_top_ - cap_top_run_, cap_top_ink_);
  const int cap_bottom = cap_bottom_start_ >= 0 ? height_ - cap_bottom_start_ : 0;
  const bool bottom_caption = cap_bottom > bottom && bottom > 0 && std::abs(bottom_shade_ - cap_bottom_shade_) <= tol &&
                              cap_bottom <= max_caption && cap_bottom < height_ - (top_caption ? cap_top_ : 0) &&
                              CaptionShape(bottom, cap_bottom - cap_bottom_run_ - bottom, cap_bottom_run_, cap_bottom_ink_);
  // A caption is content added to the picture: the picture is kept whole on
  // the other side, unless a bar there has the caption's shade (a frame
  // around both). Else a sky or a dark ground at that edge, uniform as a bar
  // is, would be cut off the picture the caption was added to.
  const bool keep_top = !bottom_caption || top_caption || std::abs(top_shade_ - cap_bottom_shade_) <= tol;
  const bool keep_bottom = !top_caption || bottom_caption || std::abs(bottom_shade_ - top_shade_) <= tol;
  int t = keep_top ? top + Extend(top, top_edge_.data(), top_edge_rows_, height_ - bottom - 1) : 0;
  if (top_caption) t = std::max(t, cap_top_ + Extend(cap_top_, cap_top_edge_.data(), cap_top_edge_rows_, height_ - bottom - 1));
  // The ring ends with the rows just above the trailing run.
  int n = 0;
  for (int i = 1; i <= kEdge && i <= ring_end_; ++i, ++n) {
    const int slot = (ring_end_ - i) % kEdge;
    means[n] = ring_[static_cast<size_t>(slot)].near ? MeanDeviation(slot, bottom_shade_) : 1e9f;
  }
  int b = keep_bottom ? bottom + Extend(bottom, means, n, height_ - t - 1) : 0;
  if (bottom_caption) {
    b = std::max(b, cap_bottom + Extend(cap_bottom, cap_bottom_edge_.data(), cap_bottom_edge_rows_, height_ - t - 1));
  }

  TrimRect rect{l, t, width_ - l - r, height_ - t - b};
  const bool enough_removed = width_ - rect.width >= options_.min_trim * width_ ||
                              height_ - rect.height >= options_.min_trim * height_;
  const bool enough_kept = rect.width >= options_.min_keep * width_ && rect.height >= options_.min_keep * height_ &&
                           rect.width >= kMinSide && rect.height >= kMinSide;
  if (!enough_removed || !enough_kept) return std::nullopt;
  return rect;
}

}  // namespace hashing
