// Byte coding: fixed-width big-endian integers appended to and read from byte
// strings. Big-endian so that RocksDB's bytewise key order is numeric order
// (a list's signals and changes, audit entries by seq, are contiguous ranges
// in ascending order). ByteReader reads a value back with bounds checks: an
// overrun marks it bad instead of reading past the end.
//
// Thread-safety: pure functions; a ByteReader belongs to one thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace base {

void PutU16(std::string* out, uint16_t v);
void PutU32(std::string* out, uint32_t v);
void PutU64(std::string* out, uint64_t v);
// p must hold at least 2, 4, 8 bytes.
uint16_t GetU16(const char* p);
uint32_t GetU32(const char* p);
uint64_t GetU64(const char* p);
// The 8 bytes of PutU64(v), as a string.
std::string EncodeU64(uint64_t v);
// A u64 length, then the bytes.
void PutLengthPrefixed(std::string* out, std::string_view bytes);

class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}
  uint8_t U8();
  uint16_t U16();
  uint32_t U32();
  uint64_t U64();
  // Exactly n bytes (empty and bad if fewer remain).
  std::string_view Bytes(size_t n);
  // A PutLengthPrefixed value; `max` bounds the announced length.
  std::string_view LengthPrefixed(size_t max = SIZE_MAX);
  template <size_t N>
  void Array(std::array<uint8_t, N>* out) {
    std::string_view b = Bytes(N);
    if (!bad_) std::memcpy(out->data(), b.data(), N);
  }
  // Everything not read yet.
  std::string_view Rest() const { return data_.substr(pos_); }
  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool bad() const { return bad_; }
  // True when nothing went wrong and every byte was read.
  bool done() const { return !bad_ && pos_ == data_.size(); }

 private:
  bool Need(size_t n);
  std::string_view data_;
  size_t pos_ = 0;
  bool bad_ = false;
};

}  // namespace base
