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
//
// Mirrors (optional): the reference's box filter is asymmetric for an even
// window (it averages window/2 values before the centre and window/2 - 1
// after), so the filtered picture of a mirrored image is the mirrored
// filtered picture shifted by one pixel per pass; and along a side that is a
// multiple of 128 the sample positions mirror one pixel off. The downsample a
// mirrored image would have is therefore this image's filtered picture
// sampled those 1 to 3 pixels before the reference's sample positions along
// that axis, then mirrored. With `mirrors`, the stream also keeps those samples (64 more
// columns through passes C and D when the horizontal shift is not 0; other
// rows of the same columns for the vertical axis), so the dihedral variants
// can be computed as the hashes of the turned pictures themselves rather
// than of this picture's samples turned (PdqFromDownsamples). The reference
// samples, and so every reference hash, are unchanged.
// Not thread-safe; one stream per image.
#pragma once

#include "hashing/luma_image.h"
#include "hashing/pdq_kernels.h"

namespace hashing {

// The downsamples of an image's mirror images, mirrored back to this image's
// orientation: `x` for the image mirrored left-right, `y` top-bottom, `xy`
// both. Along an axis whose window is odd they equal the reference downsample.
struct MirrorDownsamples {
  alignas(64) float x[64 * 64];
  alignas(64) float y[64 * 64];
  alignas(64) float xy[64 * 64];
};

class JaroszStream {
 public:
  // width, height >= 1. The kernels must outlive the stream. `mirrors`: keep
  // the samples Finish needs to fill MirrorDownsamples.
  JaroszStream(int width, int height, const PdqKernels& kernels, bool mirrors = false);
  JaroszStream(const JaroszStream&) = delete;
  JaroszStream& operator=(const JaroszStream&) = delete;

  // Where to write luma row rows_pushed() (width floats); then call RowDone().
  float* NextRow() { return RingRow(pushed_); }
  void RowDone();
  int rows_pushed() const { return pushed_; }

  // After all `height` rows: the 64x64 downsample; with `mirrors` also the
  // mirror images' downsamples (all equal to `out` if the stream was not
  // made with mirrors).
  void Finish(float out[64 * 64], MirrorDownsamples* mirrors = nullptr);

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
  // Sampled columns, ascending (duplicates allowed): the reference's 64, and
  // with mirrors and a horizontal mirror shift 64 more, shifted.
  int col_at_[128];
  int num_cols_ = 64;
  const bool mirrors_;
  int col_ref_[64], col_shifted_[64];  // where each sample's column is in col_at_
  int pushed_ = 0;    // luma rows written
  int filtered_ = 0;  // rows through pass A
  int next_out_ = 0;  // next pass-B output row, a multiple of kStrip
  int count_ = 0;     // pass-B window count
  bool primed_ = false;  // pass B's first hy-1 rows accumulated
};

}  // namespace hashing
