// JaroszStream: the reference's two Jarosz passes (box filter along rows, then
// along columns, twice) and the decimation to 64x64, computed while luma rows
// arrive top to bottom, in O(width * window) memory instead of two full-size
// float planes.
//
//   pass A  each 32-row strip is box-filtered along its rows as soon as it is
//           complete, in a ring of ~window+40 rows (stays in L2 cache);
//   pass B  running column sums, 16 output rows at a time, once the filtered
//           rows they add are there;
//   pass C  those 16 rows filtered along rows, keeping only the 64 columns
//           the decimation samples (64 x height floats); B and C are one
//           kernel call (column_rows_sampled), so a kernel can keep the rows
//           in registers between them;
//   pass D  along those 64 columns only, at the end.
//
// Each output value is produced by exactly the reference's sequence of float
// operations (tests compare it bit for bit with a textbook transcription).
// Not thread-safe; one stream per image.
#pragma once

#include "hashing/luma_image.h"
#include "hashing/pdq_kernels.h"

namespace hashing {

class JaroszStream {
 public:
  // width, height >= 1. The kernels must outlive the stream.
  JaroszStream(int width, int height, const PdqKernels& kernels);
  JaroszStream(const JaroszStream&) = delete;
  JaroszStream& operator=(const JaroszStream&) = delete;

  // Where to write luma row rows_pushed() (width floats); then call RowDone().
  float* NextRow() { return RingRow(pushed_); }
  void RowDone();
  int rows_pushed() const { return pushed_; }

  // After all `height` rows: the 64x64 downsample.
  void Finish(float out[64 * 64]);

 private:
  static constexpr int kStrip = 16;   // rows per pass B+C batch
  static constexpr int kStripA = 32;  // rows per pass-A strip (two kernel strips: two independent chains)
  float* RingRow(int r) const { return ring_.data() + static_cast<size_t>(r % capacity_) * width_; }
  void AdvanceColumnPass();

  const PdqKernels& k_;
  const int width_, height_;
  const int window_x_, window_y_, half_y_;
  int capacity_;  // ring rows, a multiple of kStripA
  FloatBuffer ring_, sums_, cols_, scratch_;
  int col_at_[64];
  int pushed_ = 0;    // luma rows written
  int filtered_ = 0;  // rows through pass A
  int next_out_ = 0;  // next pass-B output row, a multiple of kStrip
  int count_ = 0;     // pass-B window count
  bool primed_ = false;  // pass B's first hy-1 rows accumulated
};

}  // namespace hashing
