#include "base/coding.h"

namespace base {

namespace {
template <int N, class T>
void PutBig(std::string* out, T v) {
  char b[N];
  for (int i = 0; i < N; ++i) b[i] = static_cast<char>(v >> (8 * (N - 1 - i)));
  out->append(b, N);
}
template <int N, class T>
T GetBig(const char* p) {
  T v = 0;
  for (int i = 0; i < N; ++i) v = static_cast<T>(v << 8 | static_cast<uint8_t>(p[i]));
  return v;
}
}  // namespace

void PutU16(std::string* out, uint16_t v) { PutBig<2>(out, v); }
void PutU32(std::string* out, uint32_t v) { PutBig<4>(out, v); }
void PutU64(std::string* out, uint64_t v) { PutBig<8>(out, v); }
uint16_t GetU16(const char* p) { return GetBig<2, uint16_t>(p); }
uint32_t GetU32(const char* p) { return GetBig<4, uint32_t>(p); }
uint64_t GetU64(const char* p) { return GetBig<8, uint64_t>(p); }

std::string EncodeU64(uint64_t v) {
  std::string s;
  PutU64(&s, v);
  return s;
}

void PutLengthPrefixed(std::string* out, std::string_view bytes) {
  PutU64(out, bytes.size());
  out->append(bytes);
}

bool ByteReader::Need(size_t n) {
  if (bad_ || data_.size() - pos_ < n) {
    bad_ = true;
    return false;
  }
  return true;
}

uint8_t ByteReader::U8() { return Need(1) ? static_cast<uint8_t>(data_[pos_++]) : 0; }

uint16_t ByteReader::U16() {
  if (!Need(2)) return 0;
  pos_ += 2;
  return GetU16(data_.data() + pos_ - 2);
}

uint32_t ByteReader::U32() {
  if (!Need(4)) return 0;
  pos_ += 4;
  return GetU32(data_.data() + pos_ - 4);
}

uint64_t ByteReader::U64() {
  if (!Need(8)) return 0;
  pos_ += 8;
  return GetU64(data_.data() + pos_ - 8);
}

std::string_view ByteReader::Bytes(size_t n) {
  if (!Need(n)) return {};
  pos_ += n;
  return data_.substr(pos_ - n, n);
}

std::string_view ByteReader::LengthPrefixed(size_t max) {
  const uint64_t n = U64();
  if (n > max) {
    bad_ = true;
    return {};
  }
  return Bytes(static_cast<size_t>(n));
}

}  // namespace base
