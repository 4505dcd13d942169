// LineReader: reads a file line by line through a fixed buffer (never the
// whole file in memory), with each line's byte offset, so an import can name
// a line and resume from an offset. Lines end at '\n'; a final line without
// one is still a line. A line longer than kMaxLineBytes is an error (a
// hostile file cannot make the reader hold more than that).
//
// Thread-safety: one reader per thread; the FILE stays owned by the caller.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string_view>
#include <vector>

namespace codec {

class LineReader {
 public:
  static constexpr size_t kMaxLineBytes = 16u << 20;

  explicit LineReader(FILE* f);
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // False at end of file (or on an error: check error()). `line` is valid
  // until the next call and excludes the '\n'; `offset` is its first byte.
  bool Next(std::string_view* line, uint64_t* offset);
  // A read error or an over-long line; error_message() says which.
  bool error() const;
  const char* error_message() const;
  // Bytes of the file consumed so far.
  uint64_t consumed() const { return base_ + begin_; }

 private:
  size_t Find(char c) const;
  void Refill();

  FILE* f_;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;
  uint64_t base_ = 0;
  bool eof_ = false;
  bool overlong_ = false;
};

}  // namespace codec
