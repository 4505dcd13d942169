#include "hashing/luma_image.h"

#include <cmath>
#include <new>

namespace hashing {

FloatBuffer::FloatBuffer(size_t n)
    : data_(static_cast<float*>(::operator new[](n * sizeof(float), std::align_val_t(64)))), size_(n) {}

void FloatBuffer::Free::operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }

Status LumaBuilder::Start(int width, int height, int channels) {
  if (channels != 1 && channels != 3) return Status::Unsupported("decoder produced " + std::to_string(channels) + " channels");
  image_.width = width;
  image_.height = height;
  image_.pixels = FloatBuffer(static_cast<size_t>(width) * height);
  channels_ = channels;
  all_grey_ = true;
  return Status::Ok();
}

void LumaBuilder::Rows(int y, int n, const uint8_t* data) {
  const size_t count = static_cast<size_t>(n) * image_.width;
  if (channels_ == 1) {
    kernels_.luma_grey(data, count, image_.row(y));
  } else {
    all_grey_ &= kernels_.luma_rgb(data, count, image_.row(y));
  }
}

LumaImage LumaBuilder::Finish() {
  if (channels_ == 3 && all_grey_) {
    // Every pixel was grey: the reference sees a grey image and uses g itself.
    // The RGB formula gave f(g) within 1e-4 of g, so rounding recovers g exactly
    // (a test checks this for all 256 values).
    float* p = image_.pixels.data();
    const size_t n = image_.pixels.size();
    for (size_t i = 0; i < n; ++i) p[i] = std::nearbyint(p[i]);
  }
  return std::move(image_);
}

}  // namespace hashing
