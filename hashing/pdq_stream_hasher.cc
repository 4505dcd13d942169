#include "hashing/pdq_stream_hasher.h"

namespace hashing {

PdqStreamHasher::PdqStreamHasher(const PdqKernels& kernels, PdqMode mode, bool dihedral)
    : k_(kernels), mode_(mode), dihedral_(dihedral) {}

Status PdqStreamHasher::Start(int width, int height, int channels) {
  if (channels != 1 && channels != 3) return Status::Unsupported("decoder produced " + std::to_string(channels) + " channels");
  width_ = width, height_ = height, channels_ = channels;
  const bool squash = mode_ == PdqMode::kCli512 && (width > 512 || height > 512);
  if (squash || width < 5 || height < 5 || (width == 64 && height == 64)) {
    plane_ = std::make_unique<LumaBuilder>(k_);
    return plane_->Start(width, height, channels);
  }
  stream_ = std::make_unique<JaroszStream>(width, height, k_, dihedral_);
  return Status::Ok();
}

void PdqStreamHasher::Rows(int y, int n, const uint8_t* data) {
  if (plane_) return plane_->Rows(y, n, data);
  const size_t row_bytes = static_cast<size_t>(width_) * channels_;
  for (int i = 0; i < n; ++i) {
    const uint8_t* row = data + i * row_bytes;
    if (channels_ == 1) {
      k_.luma_grey(row, width_, stream_->NextRow());
    } else {
      const bool grey = k_.luma_rgb(row, width_, stream_->NextRow());
      if (all_grey_ && grey) {
        for (int x = 0; x < width_; ++x) grey_rows_.push_back(row[3 * x]);
      } else if (all_grey_) {
        all_grey_ = false;
        std::vector<uint8_t>().swap(grey_rows_);
      }
    }
    stream_->RowDone();
  }
}

PdqResult PdqStreamHasher::Finish() {
  if (plane_) return ComputePdq(plane_->Finish(), mode_, dihedral_, k_);
  if (channels_ == 3 && all_grey_) {
    // Grey content in an RGB file: the reference hashes the grey values.
    stream_ = std::make_unique<JaroszStream>(width_, height_, k_, dihedral_);
    for (int y = 0; y < height_; ++y) {
      k_.luma_grey(grey_rows_.data() + static_cast<size_t>(y) * width_, width_, stream_->NextRow());
      stream_->RowDone();
    }
  }
  alignas(64) float a[64 * 64];
  std::unique_ptr<MirrorDownsamples> mirrors;
  if (dihedral_) mirrors = std::make_unique<MirrorDownsamples>();
  stream_->Finish(a, mirrors.get());
  return PdqFromDownsample(a, dihedral_, k_, mirrors.get());
}

}  // namespace hashing
