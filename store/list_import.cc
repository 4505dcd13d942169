#include "store/list_import.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "hashing/hex.h"

namespace store {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\n')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

char SeparatorOf(std::string_view line) {
  if (line.find('\t') != std::string_view::npos) return '\t';
  if (line.find(',') != std::string_view::npos) return ',';
  return 0;
}

std::string_view Field(std::string_view line, char sep, std::string_view* rest) {
  size_t p = line.find(sep);
  if (p == std::string_view::npos) {
    *rest = {};
    return Trim(line);
  }
  *rest = line.substr(p + 1);
  return Trim(line.substr(0, p));
}

bool IsTypeName(std::string_view s) {
  SignalType t;
  return ParseSignalType(s, &t).ok();
}

bool IsPdqHex(std::string_view s) {
  hashing::PdqHash h;
  return s.size() == 64 && hashing::PdqHash::FromHex(s, &h).ok();
}

// Reads a file line by line through a fixed buffer, tracking byte offsets.
class LineReader {
 public:
  explicit LineReader(FILE* f) : f_(f), buf_(1 << 20) {}
  // False at end of file. `offset` is the line's first byte in the file.
  bool Next(std::string_view* line, uint64_t* offset) {
    for (;;) {
      size_t nl = Find('\n');
      if (nl != std::string::npos) {
        *line = std::string_view(buf_.data() + begin_, nl - begin_);
        *offset = base_ + begin_;
        begin_ = nl + 1;
        return true;
      }
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
  bool error() const { return std::ferror(f_) != 0; }
  uint64_t consumed() const { return base_ + begin_; }

 private:
  size_t Find(char c) const {
    const void* p = std::memchr(buf_.data() + begin_, c, end_ - begin_);
    return p ? static_cast<size_t>(static_cast<const char*>(p) - buf_.data()) : std::string::npos;
  }
  void Refill() {
    // Keep the partial line, then fill the rest (grow only for a line longer than the buffer).
    size_t keep = end_ - begin_;
    std::memmove(buf_.data(), buf_.data() + begin_, keep);
    base_ += begin_;
    begin_ = 0;
    end_ = keep;
    if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
    size_t got = std::fread(buf_.data() + end_, 1, buf_.size() - end_, f_);
    end_ += got;
    if (got == 0) eof_ = true;
  }

  FILE* f_;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;
  uint64_t base_ = 0;
  bool eof_ = false;
};

}  // namespace

Status ImportFile(HashLists* lists, uint64_t list_id, const std::string& path, const ImportOptions& options,
                  const ImportProgress& progress, ImportResult* result) {
  *result = ImportResult();
  ListInfo info;
  HS_RETURN_IF_ERROR(lists->GetList(list_id, &info));
  if (options.batch_size == 0) return Status::InvalidArgument("batch size must be positive");
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return Status::IOError("cannot open " + path);
  struct stat st;
  if (fstat(fileno(f.get()), &st) != 0) return Status::IOError("cannot stat " + path);
  const uint64_t file_bytes = static_cast<uint64_t>(st.st_size);
  std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  const std::string id_prefix = "import:" + std::to_string(file_bytes) + ":" + std::to_string(st.st_mtime) + ":" +
                                base.substr(0, 64) + ":";

  LineReader reader(f.get());
  ImportFormat format = options.format;
  BatchRequest batch;
  // batch.add's first `used` entries are this batch; the rest are kept from
  // earlier batches so their strings are reused instead of reallocated.
  size_t used = 0;
  uint64_t batch_offset = 0;
  uint64_t line_no = 0;
  bool first = true;

  auto flush = [&]() -> Status {
    if (used == 0) return Status::Ok();
    if (batch.add.size() > used) batch.add.resize(used);
    batch.batch_id = id_prefix + std::to_string(batch_offset);
    BatchResult r;
    HS_RETURN_IF_ERROR(lists->ApplyBatch(list_id, batch, &r).WithContext(path));
    ++result->batches;
    if (r.replayed) ++result->batches_replayed;
    result->added += r.added;
    result->already_present += r.already_present;
    used = 0;
    result->bytes = reader.consumed();
    if (progress) progress(*result, file_bytes);
    return Status::Ok();
  };

  std::string_view raw;
  uint64_t offset;
  while (reader.Next(&raw, &offset)) {
    ++line_no;
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') continue;
    const bool is_first = first;
    first = false;
    char sep = SeparatorOf(line);
    if (format == ImportFormat::kAuto) {
      if (sep == 0) {
        format = ImportFormat::kPlain;
      } else {
        std::string_view rest;
        std::string_view f0 = Field(line, sep, &rest);
        format = f0 == "type" || IsTypeName(f0) ? ImportFormat::kCsv : ImportFormat::kPdqCsv;
      }
    }
    auto where = [&] { return path + ":" + std::to_string(line_no); };
    if (used == batch.add.size()) batch.add.emplace_back();
    SignalEntry& e = batch.add[used];
    Status s;
    switch (format) {
      case ImportFormat::kCsv: {
        if (sep == 0) return Status::InvalidArgument(where() + ": expected type,hash[,ref]");
        std::string_view rest, rest2;
        std::string_view type = Field(line, sep, &rest);
        if (is_first && type == "type") continue;
        std::string_view hash = Field(rest, sep, &rest2);
        s = ParseSignal(type, hash, Trim(rest2), &e);
        break;
      }
      case ImportFormat::kPlain:
        s = ParseSignal(SignalTypeName(options.type), line, {}, &e);
        break;
      case ImportFormat::kPdqCsv: {
        std::string_view rest;
        std::string_view hash = sep ? Field(line, sep, &rest) : line;
        if (is_first && !IsPdqHex(hash)) continue;  // a header
        s = ParseSignal("pdq", hash, {}, &e);
        break;
      }
      case ImportFormat::kAuto: break;
    }
    if (!s.ok()) return s.WithContext(where());
    if (used == 0) batch_offset = offset;
    ++result->lines;
    ++used;
    if (used >= options.batch_size) HS_RETURN_IF_ERROR(flush());
  }
  if (reader.error()) return Status::IOError("reading " + path);
  HS_RETURN_IF_ERROR(flush());
  result->bytes = reader.consumed();
  return Status::Ok();
}

}  // namespace store
