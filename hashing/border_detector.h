// BorderDetector: a PixelSink that finds uniform borders and letterbox or
// pillarbox bars while the decoder streams rows, so the screener can also
// hash the picture inside them (PDQ alone matches a bordered copy ~1% of the
// time; docs/robustness.md). It keeps no pixels: O(width) sums and a few
// counters.
//
// Everything is judged on luma, as PDQ sees the picture: a 4:2:0 JPEG smears
// colour over two pixels of a bar's edge, but keeps luma sharp. A bar, side
// by side (tolerance t, in levels of luma):
//   top      the leading rows that are uniform (every pixel within t of the
//            row's first pixel) and of one shade (each within t of row 0's);
//   bottom   the same for the trailing rows (their shade is found at the end);
//   left     the columns, from the left, whose every pixel is within t of the
//            top-left pixel (the smallest such run over all rows);
//   right    the same from the right with the top-right pixel.
// So a frame, letterbox bars (top + bottom), pillarbox bars (left + right),
// one bar on one side, each side in one colour, are found.
//
// Caption bars (with `captions`): a bar with a line of text in it is not
// uniform, so the rules above stop at its text. A caption bar at the top or
// the bottom is taken instead when, from the image's edge inwards, it is
//   rows of one shade (uniform, as above), then
//   text rows: the first and last 1/40 of the row in that shade (text has
//     margins) and at least a quarter of all its pixels, then
//   rows of that shade again, the bar's inner margin, where it ends,
// and the picture follows (its first row is neither). Each margin is at
// least 1/8 of the text band between them, the band's inkiest row has at
// least 2% of its pixels out of the shade, and the whole bar takes at most
// `max_caption` of the height; its inner edge is refined as a bar's is.
// A caption is content added to a picture, so with one the picture is kept
// whole on the other side (its own sky or dark ground would pass for a
// bar) unless a bar there has the caption's shade (a frame around both).
// Rows of text on a page with no picture never end such a bar, so a
// text-only image is not trimmed; a picture whose own edge rows look like a
// caption (a plain sky with a kite in it, then plain sky again) gives one
// more trimmed query, as a plain bar in the picture does.
//
// Edges: a JPEG blurs a bar's edge over the 8x8 blocks it crosses, noise
// makes some bar pixel pass t somewhere along a long line, and PDQ is
// sensitive to a few pixels of misplaced edge (a 2% crop already costs ~40%
// of matches). So a found bar is then extended by up to kEdge lines whose
// *mean* deviation from the bar's shade is within `edge_tolerance` (ringing
// and noise average out along a line; picture content does not). The lines
// needed are known as rows stream: per-column sums over the first and last
// (bar + kEdge) columns, the kEdge rows after the top bar, and a ring of the
// kEdge rows before the current trailing uniform rows (their statistics are
// computed only for rows that pass a 16-sample pre-check, so a photo's rows
// cost a few compares).
//
// Cost per row: each side's scan stops at its first non-bar pixel, and the
// left, right and top scans stop for good once a row has ended them, so a
// photo costs a few dozen operations per row. A row's luma is computed at
// most once, lazily from either end in short chunks, and every scan, sum and
// ring copy of that row reads it from there (a bordered picture's content
// row is scanned across its bars three times: uniformity, the bar's run, the
// edge sums).
//
// Result(): the rectangle inside the bars, or nothing when trimming would
// not change enough (under `min_trim` of both sides) or leave too little
// (under `min_keep` of either side, or under kMinSide pixels). Not
// thread-safe; one detector per image.
#pragma once

#include <array>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>

#include "hashing/pdq_kernels.h"
#include "hashing/pixel_sink.h"

namespace hashing {

struct BorderTrimOptions {
  int tolerance = 16;       // levels of luma (of 255): a bar pixel (JPEG moves flat areas by a few)
  int edge_tolerance = 10;  // mean deviation of a blurred edge line from the bar's shade
  double min_trim = 0.02;   // trim only if it removes >= this share of the width or of the height
  double min_keep = 0.10;   // and keeps >= this share of both
  bool captions = true;     // also caption bars (text in a bar) at the top and bottom
  double max_caption = 1.0 / 3;  // of the height, at most, for a caption bar
};

struct TrimRect {
  int left = 0, top = 0, width = 0, height = 0;
  bool operator==(const TrimRect&) const = default;
};

class BorderDetector : public PixelSink {
 public:
  // The smallest side a trimmed picture may have (PDQ needs 5; below 32 px a
  // hash says little about a picture).
  static constexpr int kMinSide = 32;
  // Lines a bar may be extended by at its edge: one JPEG MCU.
  static constexpr int kEdge = 16;

  // `kernels` (luma8_rgb) must outlive the detector; every level gives the
  // same bytes.
  explicit BorderDetector(const BorderTrimOptions& options, const PdqKernels& kernels = ActivePdqKernels())
      : options_(options), luma8_rgb_(kernels.luma8_rgb) {}
  BorderDetector(const BorderDetector&) = delete;
  BorderDetector& operator=(const BorderDetector&) = delete;

  Status Start(int width, int height, int channels) override;
  void Rows(int y, int n, const uint8_t* data) override;
  // After the decoder returned ok.
  std::optional<TrimRect> Result() const;
  // While rows stream: false once no trim can meet min_trim without a bottom
  // bar (the top bar or top caption has ended short of it, or there is none,
  // and the side bars left are too narrow). Such a picture keeps (nearly)
  // whole rows from the top if it is trimmed at all, and most are not:
  // HashImage then stops keeping a copy of its pixels (but a PNG's) and
  // decodes again in the rare case it must (a copy costs every upload, a
  // second decode only trimmed ones). Never changes Result().
  bool MayTrimWithoutBottom() const;

 private:
  // A row of the ring (the bottom bar's shade is known only after the rows
  // above it are gone; with the row's luma kept, their mean deviation from
  // any shade is exact). Only rows that pass the pre-check keep their luma
  // (in ring_luma_, at the row's slot); a uniform row counts as all at its
  // first pixel's shade.
  struct RowStat {
    bool near = false;
    int uniform_shade = -1;  // >= 0: a uniform row, its luma not kept
  };
  // Mean |luma - shade| of the ring's row in `slot`, which is near.
  float MeanDeviation(int slot, int shade) const;

  void Row(const uint8_t* row);
  // Luma of pixel x, 0..255 (PdqKernels::luma8_rgb: integer weights 77, 150,
  // 29 of 256; runs of pixels go through the process's SIMD kernel).
  int Luma(const uint8_t* row, int x) const;
  // The current row's luma (lum_) holds columns [0, lum_left_) and
  // [lum_right_, width_); these extend the two parts to n columns from their
  // edge (for a grey row lum_ is the row itself).
  void LumaFromLeft(int n);
  void LumaFromRight(int n);
  // Pixels from the left (or right) of the current row within tolerance of
  // `ref`, at most `limit`.
  int RunFromLeft(int ref, int limit);
  int RunFromRight(int ref, int limit);
  // Mean |luma - ref| over the current row.
  float MeanDeviation(float ref);
  // Pushes the current row's statistics, or a run row's, onto the ring.
  void PushStat();
  void PushRing(const RowStat& s);
  // Extension of a bar of `strict` lines by edge lines (mean deviations in
  // order from the bar outwards), at most kEdge and never into `limit`.
  int Extend(int strict, const float* means, int n, int limit) const;
  // If the current row is a caption's text row in `shade` (see above), its
  // pixels out of that shade (its ink); -1 if not.
  int TextInk(int shade);
  // Whether a caption of `outer` bar rows at the image's edge, a text band
  // of `band` rows and an inner margin of `inner` bar rows, the band's
  // inkiest row with `ink` pixels of ink, has a caption's shape.
  bool CaptionShape(int outer, int band, int inner, int ink) const;
  // The caption-bar rules for the current row (after the bar rules).
  void CaptionRow(bool uniform, int first);

  const BorderTrimOptions options_;
  void (*const luma8_rgb_)(const uint8_t* rgb, size_t n, uint8_t* out);
  int width_ = 0, height_ = 0, channels_ = 0;
  int rows_ = 0;
  int top_left_ = 0, top_right_ = 0, top_shade_ = 0;  // luma of the corners, of row 0's first pixel
  int top_ = 0;               // leading bar rows
  bool top_open_ = true;      // every row so far was a top-bar row
  int left_ = 0, right_ = 0;  // smallest runs so far
  int bottom_ = 0;            // trailing uniform rows of one shade so far (the run)
  int bottom_shade_ = 0;
  // Edge statistics.
  std::vector<uint64_t> left_sums_, right_sums_;  // per column from the edge: sum of deviations
  std::array<float, kEdge> top_edge_{};           // mean deviations of the rows after the top bar
  int top_edge_rows_ = 0;
  std::array<RowStat, kEdge> ring_{};             // rows before the trailing uniform run, newest at ring_end_ - 1
  std::vector<uint8_t> ring_luma_;                // kEdge rows of width_: the ring's kept luma
  int ring_end_ = 0;                              // rows pushed so far
  std::array<RowStat, kEdge> run_{};              // the trailing uniform run's last rows, not yet pushed
  // Caption bars. Top: open while every row was a bar row of row 0's shade
  // or a text row in it; cap_top_ rows to the last bar row seen while open
  // (a caption when more than top_), and the mean deviations of the rows
  // after that row (its edge).
  bool cap_top_open_ = false;
  int cap_top_ = 0;
  int cap_top_run_ = 0;  // first row of the bar run that ends at cap_top_
  int cap_top_ink_ = 0;  // the inkiest text row's ink
  std::array<float, kEdge> cap_top_edge_{};
  int cap_top_edge_rows_ = 0;
  // Bottom: the trailing candidate, from the first row of a uniform run
  // through bar and text rows of its shade (-1: none), and the mean
  // deviations of the rows before it, nearest first, taken when it began.
  int cap_bottom_start_ = -1;
  int cap_bottom_shade_ = 0;
  int cap_bottom_run_ = 0;  // rows of its first bar run (its inner margin)
  int cap_bottom_ink_ = 0;
  std::array<float, kEdge> cap_bottom_edge_{};
  int cap_bottom_edge_rows_ = 0;
  // The row being looked at and its luma (see LumaFromLeft).
  const uint8_t* row_ = nullptr;
  const uint8_t* lum_ = nullptr;
  int lum_left_ = 0, lum_right_ = 0;
  std::vector<uint8_t> luma_;  // width_ bytes, for RGB rows
};

}  // namespace hashing
