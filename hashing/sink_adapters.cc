#include "hashing/sink_adapters.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include <sys/mman.h>

namespace hashing {

Status TeeSink::Start(int width, int height, int channels) {
  HS_RETURN_IF_ERROR(a_->Start(width, height, channels));
  return b_->Start(width, height, channels);
}

void TeeSink::Rows(int y, int n, const uint8_t* data) {
  a_->Rows(y, n, data);
  b_->Rows(y, n, data);
}

namespace {

Status CheckInside(const TrimRect& rect, int width, int height) {
  if (rect.left < 0 || rect.top < 0 || rect.width <= 0 || rect.height <= 0 || rect.left + rect.width > width ||
      rect.top + rect.height > height) {
    return Status::InvalidArgument("crop rectangle " + std::to_string(rect.width) + "x" + std::to_string(rect.height) +
                                   "+" + std::to_string(rect.left) + "+" + std::to_string(rect.top) +
                                   " is not inside the " + std::to_string(width) + "x" + std::to_string(height) +
                                   " image");
  }
  return Status::Ok();
}

}  // namespace

Status CropSink::Start(int width, int height, int channels) {
  HS_RETURN_IF_ERROR(CheckInside(rect_, width, height));
  width_ = width, channels_ = channels;
  return inner_->Start(rect_.width, rect_.height, channels);
}

void CropSink::Rows(int y, int n, const uint8_t* data) {
  rows_seen_ = std::max<int64_t>(rows_seen_, static_cast<int64_t>(y) + n);
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

namespace {

// Huge pages are 2 MiB on x86-64 and arm64 (4 KiB base pages); the mapping is
// aligned to them so that every full 2 MiB of the copy can be one.
constexpr size_t kHugePage = size_t{2} << 20;

}  // namespace

CopySink::~CopySink() { Drop(); }

void CopySink::Drop() {
  if (mapping_) munmap(mapping_, mapping_bytes_);
  mapping_ = nullptr, mapping_bytes_ = 0, pixels_ = nullptr;
  heap_.reset();
  budget_->Release(charged_);
  charged_ = 0;
}

Status CopySink::Start(int width, int height, int channels) {
  width_ = width, height_ = height, channels_ = channels;
  const uint64_t bytes = static_cast<uint64_t>(width) * static_cast<uint64_t>(height) * static_cast<uint64_t>(channels);
  // The room left must hold as much again (and 1 MiB): decoders make their
  // big allocations before Start, but a few (PNM's row chunk and sample
  // table) come after it, and the copy must never be why a decode that
  // fits is refused.
  if (width <= 0 || height <= 0 || bytes > max_bytes_ || bytes > SIZE_MAX - kHugePage ||
      !budget_->ChargeIfRoom(bytes, bytes + (1u << 20))) {
    return Status::Ok();
  }
  charged_ = bytes;
  if (bytes < kHugePage) {
    // Small: the heap's pages are warm, a mapping would cost system calls.
    heap_.reset(new uint8_t[bytes]);
    pixels_ = heap_.get();
    return Status::Ok();
  }
  mapping_bytes_ = static_cast<size_t>(bytes) + kHugePage;
  mapping_ = mmap(nullptr, mapping_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping_ == MAP_FAILED) {
    mapping_ = nullptr;
    Drop();
    return Status::Ok();
  }
  const uintptr_t base = reinterpret_cast<uintptr_t>(mapping_);
  pixels_ = reinterpret_cast<uint8_t*>((base + kHugePage - 1) & ~uintptr_t{kHugePage - 1});
  // Advice only: where huge pages are off the copy works on small pages.
  (void)madvise(pixels_, static_cast<size_t>(bytes), MADV_HUGEPAGE);
  return Status::Ok();
}

void CopySink::Rows(int y, int n, const uint8_t* data) {
  if (charged_ == 0) return;
  if (detector_ && !detector_->MayTrimWithoutBottom()) {
    Drop();
    return;
  }
  // Rows arrive top first, each once; anything else keeps the copy from
  // being used (the bytes are then decoded again).
  if (y != rows_kept_ || n < 0 || y + static_cast<int64_t>(n) > height_) {
    out_of_order_ = true;
    return;
  }
  const size_t row = static_cast<size_t>(width_) * channels_;
  std::memcpy(pixels_ + static_cast<size_t>(y) * row, data, row * n);
  rows_kept_ += n;
}

bool CopySink::complete() const { return charged_ != 0 && !out_of_order_ && rows_kept_ == height_; }

Status CopySink::Replay(const TrimRect& rect, PixelSink* sink) const {
  if (!complete()) return Status::InvalidArgument("the image was not kept whole");
  HS_RETURN_IF_ERROR(CheckInside(rect, width_, height_));
  HS_RETURN_IF_ERROR(sink->Start(rect.width, rect.height, channels_));
  const size_t row = static_cast<size_t>(width_) * channels_;
  const uint8_t* first = pixels_ + static_cast<size_t>(rect.top) * row + static_cast<size_t>(rect.left) * channels_;
  if (rect.left == 0 && rect.width == width_) {
    // Whole rows are contiguous: the sink takes them in slices of the size
    // decoders deliver, so its own buffers stay as small as in a decode.
    constexpr int kSlice = 16;
    for (int r = 0; r < rect.height; r += kSlice) sink->Rows(r, std::min(kSlice, rect.height - r), first + r * row);
    return Status::Ok();
  }
  for (int r = 0; r < rect.height; ++r) sink->Rows(r, 1, first + r * row);
  return Status::Ok();
}

}  // namespace hashing
