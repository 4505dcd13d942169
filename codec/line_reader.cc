#include "codec/line_reader.h"

#include <cstring>
#include <string>

namespace codec {

LineReader::LineReader(FILE* f) : f_(f), buf_(1 << 20) {}

const char* LineReader::error_message() const {
  if (overlong_) return "a line is longer than 16 MiB";
  return std::ferror(f_) ? "read error" : "";
}

bool LineReader::Next(std::string_view* line, uint64_t* offset) {
  for (;;) {
    size_t nl = Find('\n');
    if (nl != std::string::npos) {
      *line = std::string_view(buf_.data() + begin_, nl - begin_);
      *offset = base_ + begin_;
      begin_ = nl + 1;
      return true;
    }
    if (overlong_) return false;
    if (eof_) {
      if (begin_ == end_) return false;
      *line = std::string_view(buf_.data() + begin_, end_ - begin_);
      *offset = base_ + begin_;
      begin_ = end_;
      return true;
    }
    Refill();
  }
}

bool LineReader::error() const { return overlong_ || std::ferror(f_) != 0; }

size_t LineReader::Find(char c) const {
  const void* p = std::memchr(buf_.data() + begin_, c, end_ - begin_);
  return p ? static_cast<size_t>(static_cast<const char*>(p) - buf_.data()) : std::string::npos;
}

void LineReader::Refill() {
  // Keep the partial line, then fill the rest (grow only for a line longer than the buffer).
  size_t keep = end_ - begin_;
  std::memmove(buf_.data(), buf_.data() + begin_, keep);
  base_ += begin_;
  begin_ = 0;
  end_ = keep;
  if (end_ == buf_.size()) {
    if (buf_.size() >= kMaxLineBytes) {
      overlong_ = true;
      return;
    }
    buf_.resize(buf_.size() * 2);
  }
  size_t got = std::fread(buf_.data() + end_, 1, buf_.size() - end_, f_);
  end_ += got;
  if (got == 0) eof_ = true;
}

}  // namespace codec
