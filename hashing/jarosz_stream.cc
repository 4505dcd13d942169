#include "hashing/jarosz_stream.h"

#include <algorithm>

namespace hashing {

namespace {

// How far before a reference sample the mirrored picture's sample lies, along
// an axis of `size` pixels filtered with `window`: the filter runs twice and
// an even window shifts by one each time; and when size is a multiple of 128
// the sample positions (j + 0.5) * size / 64 are whole numbers, so mirrored
// they land one pixel before the reference's (otherwise exactly on them).
int MirrorShift(int size, int window) { return (window % 2 == 0 ? 2 : 0) + (size % 128 == 0 ? 1 : 0); }

}  // namespace

JaroszStream::JaroszStream(int width, int height, const PdqKernels& kernels, bool mirrors)
    : k_(kernels),
      width_(width),
      height_(height),
      window_x_((width + 127) / 128),
      window_y_((height + 127) / 128),
      half_y_((window_y_ + 2) / 2),
      mirrors_(mirrors) {
  // Output rows [y0, y0 + 16) add rows up to y0 + 15 + hy - 1, so they wait
  // until pass A has filtered through F, the first multiple of kStripA at
  // or past y0 + 15 + hy; meanwhile they still need rows back to
  // y0 - (wy - hy) - 1, while the strip [F - kStripA, F) is being written:
  // F - y0 + wy - hy + 1 live rows. y0 is a multiple of kStrip: try each
  // phase of it within kStripA.
  auto round_up = [](int n) { return (n + kStripA - 1) / kStripA * kStripA; };
  int span = 0;
  for (int y0 = 0; y0 < kStripA; y0 += kStrip) {
    span = std::max(span, round_up(y0 + kStrip - 1 + half_y_) - y0 + window_y_ - half_y_ + 1);
  }
  capacity_ = std::min(round_up(span), round_up(height));
  ring_ = FloatBuffer(static_cast<size_t>(capacity_) * width);
  sums_ = FloatBuffer(width);
  std::fill(sums_.data(), sums_.data() + width, 0.0f);
  const int shift = mirrors ? MirrorShift(width, window_x_) : 0;
  for (int j = 0; j < 64; ++j) {
    const int ref = static_cast<int>(((j + 0.5) * width) / 64);
    if (shift == 0) {
      col_at_[j] = ref;
      col_ref_[j] = col_shifted_[j] = j;
      continue;
    }
    // Shift 1 needs width a multiple of 128, 2 an even window (width > 128),
    // 3 both (width a multiple of 256): samples are width / 64 apart, at
    // least the shift, so the merged list stays ascending.
    col_at_[2 * j] = std::max(0, ref - shift);
    col_at_[2 * j + 1] = ref;
    col_shifted_[j] = 2 * j;
    col_ref_[j] = 2 * j + 1;
  }
  num_cols_ = shift == 0 ? 64 : 128;
  cols_ = FloatBuffer(static_cast<size_t>(num_cols_) * height);
  const size_t longest = static_cast<size_t>(std::max(width, height));
  scratch_ = FloatBuffer(std::max(BoxRowsScratchFloats(longest), ColumnRowsScratchFloats(static_cast<size_t>(width))));
}

void JaroszStream::RowDone() {
  ++pushed_;
  if (pushed_ % kStripA != 0 && pushed_ != height_) return;
  // Pass A on the completed strip; strips start at multiples of kStripA and
  // the ring holds a multiple of kStripA rows, so the strip is contiguous.
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
    const int y0 = next_out_, n = std::min(kStrip, height_ - y0);
    // The last row the batch adds (rows past the image are not added).
    const int last_add = std::min(y0 + n - 1 + hy - 1, height_ - 1);
    if (last_add >= filtered_) return;  // wait for more rows
    const float* add[kStrip];
    const float* sub[kStrip];
    float counts[kStrip];
    for (int r = 0; r < n; ++r) {
      const int y = y0 + r, add_row = y + hy - 1, sub_row = y - (wy - hy) - 1;
      add[r] = add_row < height_ ? RingRow(add_row) : nullptr;
      sub[r] = sub_row >= 0 ? RingRow(sub_row) : nullptr;
      if (add[r] && !sub[r]) ++count_;
      if (!add[r] && sub[r]) --count_;
      counts[r] = static_cast<float>(count_);
    }
    // Passes B and C, keeping only the sampled columns, written into cols_.
    k_.column_rows_sampled(sums_.data(), add, sub, counts, n, width_, window_x_, col_at_, num_cols_,
                           cols_.data() + y0, height_, scratch_.data());
    next_out_ += n;
  }
}

void JaroszStream::Finish(float out[64 * 64], MirrorDownsamples* mirrors) {
  // Pass D: along the sampled columns, then decimate.
  k_.box_rows(cols_.data(), height_, cols_.data(), height_, static_cast<size_t>(num_cols_), height_, window_y_,
              scratch_.data());
  const float* cols = cols_.data();
  auto at = [&](int col, int row) { return cols[static_cast<size_t>(col) * height_ + row]; };
  const int shift_y = mirrors_ ? MirrorShift(height_, window_y_) : 0;
  for (int i = 0; i < 64; ++i) {
    const int row = static_cast<int>(((i + 0.5) * height_) / 64);
    for (int j = 0; j < 64; ++j) out[i * 64 + j] = at(col_ref_[j], row);
    if (!mirrors) continue;
    const int row_m = std::max(0, row - shift_y);
    for (int j = 0; j < 64; ++j) {
      mirrors->x[i * 64 + j] = at(col_shifted_[j], row);
      mirrors->y[i * 64 + j] = at(col_ref_[j], row_m);
      mirrors->xy[i * 64 + j] = at(col_shifted_[j], row_m);
    }
  }
}

}  // namespace hashing
