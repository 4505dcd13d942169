#include "hashing/jarosz_stream.h"

#include <algorithm>

namespace hashing {

JaroszStream::JaroszStream(int width, int height, const PdqKernels& kernels)
    : k_(kernels),
      width_(width),
      height_(height),
      window_x_((width + 127) / 128),
      window_y_((height + 127) / 128),
      half_y_((window_y_ + 2) / 2) {
  // Pass B reads rows up to y + hy - 1 and back to y - (wy - hy) - 1: wy + 1
  // live rows, plus the strip being filled and one of slack.
  capacity_ = (window_y_ + 1 + 2 * kStrip + kStrip - 1) / kStrip * kStrip;
  capacity_ = std::min(capacity_, (height + kStrip - 1) / kStrip * kStrip);
  ring_ = FloatBuffer(static_cast<size_t>(capacity_) * width);
  sums_ = FloatBuffer(width);
  std::fill(sums_.data(), sums_.data() + width, 0.0f);
  strip_ = FloatBuffer(static_cast<size_t>(kStrip) * width);
  cols_ = FloatBuffer(static_cast<size_t>(64) * height);
  scratch_ = FloatBuffer(BoxRowsScratchFloats(static_cast<size_t>(std::max(width, height))));
  for (int j = 0; j < 64; ++j) col_at_[j] = static_cast<int>(((j + 0.5) * width) / 64);
}

void JaroszStream::RowDone() {
  ++pushed_;
  if (pushed_ % kStrip != 0 && pushed_ != height_) return;
  // Pass A on the completed strip; strips start at multiples of kStrip and the
  // ring holds a multiple of kStrip rows, so the strip is contiguous.
  const int n = pushed_ - filtered_;
  k_.box_rows(RingRow(filtered_), width_, RingRow(filtered_), width_, n, width_, window_x_, scratch_.data());
  filtered_ = pushed_;
  AdvanceColumnPass();
}

void JaroszStream::AdvanceColumnPass() {
  const int wy = window_y_, hy = half_y_;
  if (!primed_) {
    if (filtered_ < std::min(hy - 1, height_)) return;
    for (int r = 0; r < hy - 1; ++r) k_.column_step(sums_.data(), RingRow(r), nullptr, nullptr, 0.0f, width_);
    count_ = hy - 1;
    primed_ = true;
  }
  while (next_out_ < height_) {
    const int y = next_out_;
    const int add_row = y + hy - 1, sub_row = y - (wy - hy) - 1;
    if (add_row < height_ && add_row >= filtered_) return;  // wait for more rows
    const float* add = add_row < height_ ? RingRow(add_row) : nullptr;
    const float* sub = sub_row >= 0 ? RingRow(sub_row) : nullptr;
    if (add && !sub) ++count_;
    if (!add && sub) --count_;
    k_.column_step(sums_.data(), add, sub, strip_.data() + static_cast<size_t>(y % kStrip) * width_,
                   static_cast<float>(count_), width_);
    ++next_out_;
    if (next_out_ % kStrip == 0 || next_out_ == height_) FilterOutputStrip();
  }
}

void JaroszStream::FilterOutputStrip() {
  // Pass C, keeping only the sampled columns, written straight into cols_.
  const int y0 = (next_out_ - 1) / kStrip * kStrip, n = next_out_ - y0;
  k_.box_rows_sampled(strip_.data(), width_, n, width_, window_x_, col_at_, 64, cols_.data() + y0, height_,
                      scratch_.data());
}

void JaroszStream::Finish(float out[64 * 64]) {
  // Pass D: along the 64 sampled columns, then decimate.
  k_.box_rows(cols_.data(), height_, cols_.data(), height_, 64, height_, window_y_, scratch_.data());
  for (int i = 0; i < 64; ++i) {
    const int row = static_cast<int>(((i + 0.5) * height_) / 64);
    for (int j = 0; j < 64; ++j) out[i * 64 + j] = cols_.data()[static_cast<size_t>(j) * height_ + row];
  }
}

}  // namespace hashing
