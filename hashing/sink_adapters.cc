#include "hashing/sink_adapters.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace hashing {

Status TeeSink::Start(int width, int height, int channels) {
  HS_RETURN_IF_ERROR(a_->Start(width, height, channels));
  return b_->Start(width, height, channels);
}

void TeeSink::Rows(int y, int n, const uint8_t* data) {
  a_->Rows(y, n, data);
  b_->Rows(y, n, data);
}

Status CropSink::Start(int width, int height, int channels) {
  if (rect_.left < 0 || rect_.top < 0 || rect_.width <= 0 || rect_.height <= 0 || rect_.left + rect_.width > width ||
      rect_.top + rect_.height > height) {
    return Status::InvalidArgument("crop rectangle " + std::to_string(rect_.width) + "x" + std::to_string(rect_.height) +
                                   "+" + std::to_string(rect_.left) + "+" + std::to_string(rect_.top) +
                                   " is not inside the " + std::to_string(width) + "x" + std::to_string(height) +
                                   " image");
  }
  width_ = width, channels_ = channels;
  return inner_->Start(rect_.width, rect_.height, channels);
}

void CropSink::Rows(int y, int n, const uint8_t* data) {
  const int first = std::max(y, rect_.top), last = std::min(y + n, rect_.top + rect_.height);
  if (first >= last) return;
  const size_t in_row = static_cast<size_t>(width_) * channels_;
  const size_t out_row = static_cast<size_t>(rect_.width) * channels_;
  const size_t offset = static_cast<size_t>(rect_.left) * channels_;
  if (rect_.left == 0 && rect_.width == width_) {
    inner_->Rows(first - rect_.top, last - first, data + (first - y) * in_row);
    return;
  }
  rows_.resize(out_row * (last - first));
  for (int r = first; r < last; ++r) {
    std::memcpy(rows_.data() + (r - first) * out_row, data + (r - y) * in_row + offset, out_row);
  }
  inner_->Rows(first - rect_.top, last - first, rows_.data());
}

}  // namespace hashing
