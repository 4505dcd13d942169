// LargeArray: a fixed-size array of trivially copyable T for the index's big
// flat arrays (multi-index ids and partners). HugePageAllocator: the same
// allocation policy for a std::vector (the PDQ hashes, which are appended to
// while loading). Allocations of 2 MiB and more are 2 MiB aligned and advised
// to use transparent huge pages: the index is probed at random, and with
// 4 KiB pages most probes would also miss the TLB (and building it would take
// 512 times as many page faults). LargeArray contents start uninitialised.
//
// Thread-safety: like a std::vector (const access is safe concurrently).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

namespace idx {

inline void* AllocateLarge(size_t bytes, size_t align) {
  constexpr size_t kHuge = size_t{2} << 20;
  void* p;
  if (bytes >= kHuge) {
    bytes = (bytes + kHuge - 1) / kHuge * kHuge;
    p = std::aligned_alloc(kHuge, bytes);
    if (p) madvise(p, bytes, MADV_HUGEPAGE);
  } else {
    if (align < 64) align = 64;
    p = std::aligned_alloc(align, (bytes + align - 1) / align * align);
  }
  if (!p) throw std::bad_alloc();
  return p;
}

template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(AllocateLarge(n * sizeof(T), alignof(T))); }
  void deallocate(T* p, size_t) { std::free(p); }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const { return true; }
};

template <class T>
class LargeArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  LargeArray() = default;
  explicit LargeArray(size_t n) : size_(n) {
    if (n > 0) data_ = static_cast<T*>(AllocateLarge(n * sizeof(T), alignof(T)));
  }
  LargeArray(LargeArray&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  LargeArray& operator=(LargeArray&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  LargeArray(const LargeArray&) = delete;
  LargeArray& operator=(const LargeArray&) = delete;
  ~LargeArray() { std::free(data_); }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace idx
