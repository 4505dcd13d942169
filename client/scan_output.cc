#include "client/scan_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

namespace client {

namespace {

using base::Status;

constexpr const char* kCsvHeader = "source,match,audit_id,error_code,error_message\n";

Status WriteAll(int fd, const std::string& data, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError("cannot write " + what + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// The first field of a CSV line (quoted or not); false when malformed.
bool CsvFirstField(const std::string& line, std::string* out) {
  out->clear();
  if (line.empty() || line[0] != '"') {
    *out = line.substr(0, line.find(','));
    return true;
  }
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] != '"') {
      out->push_back(line[i]);
    } else if (i + 1 < line.size() && line[i + 1] == '"') {
      out->push_back('"');
      ++i;
    } else {
      return i + 1 == line.size() || line[i + 1] == ',';
    }
  }
  return false;
}

// Reads the existing file: cuts a torn last line, collects the sources.
// CSV fields may hold newlines inside quotes, so CSV records are split by
// quote parity, not by line.
Status LoadExisting(int fd, const std::string& path, ScanOutput::Format format, std::unordered_set<std::string>* done,
                    uint64_t* matches, uint64_t* errors) {
  std::string text;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError("cannot read " + path + ": " + std::strerror(errno));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  size_t end = text.rfind('\n');
  end = end == std::string::npos ? 0 : end + 1;
  if (end != text.size()) {
    // A line torn by a crash: cut, so its source is scanned again.
    if (::ftruncate(fd, static_cast<off_t>(end)) != 0) return Status::IOError("cannot cut the torn last line of " + path);
    text.resize(end);
  }
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t stop = pos;
    if (format == ScanOutput::Format::kCsv) {
      bool quoted = false;
      while (stop < text.size() && (quoted || text[stop] != '\n')) {
        if (text[stop] == '"') quoted = !quoted;
        ++stop;
      }
    } else {
      stop = text.find('\n', pos);
    }
    if (stop >= text.size()) stop = text.size();
    const std::string line = text.substr(pos, stop - pos);
    pos = stop + 1;
    ++line_no;
    const std::string where = path + " line " + std::to_string(line_no);
    if (format == ScanOutput::Format::kCsv) {
      if (line_no == 1) {
        if (line + "\n" != kCsvHeader) return Status::InvalidArgument(where + " is not this scan's CSV header (wrong --format?)");
        continue;
      }
      std::string source;
      if (!CsvFirstField(line, &source)) return Status::InvalidArgument(where + " is not a scan CSV record");
      done->insert(source);
      // The line was written by FormatLine: the match column follows the
      // source as CsvField encodes it.
      const std::string after = line.substr(std::min(line.size(), CsvField(source).size() + 1));
      if (after.rfind("true,", 0) == 0) ++*matches;
      else if (after.rfind(",", 0) == 0) ++*errors;
    } else {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_object() || !j.contains("source") || !j["source"].is_string()) {
        return Status::InvalidArgument(where + " is not a scan JSONL line (wrong --format, or not a scan's file?)");
      }
      done->insert(j["source"].get<std::string>());
      if (j.contains("error")) ++*errors;
      else if (j.value("match", false)) ++*matches;
    }
  }
  return Status::Ok();
}

}  // namespace

std::string ScanOutput::FormatLine(const ScanLine& l, Format format) {
  if (format == Format::kCsv) {
    return CsvField(l.source) + "," + (l.ok ? (l.match ? "true" : "false") : "") + "," + CsvField(l.audit_id) + "," +
           CsvField(l.error_code) + "," + CsvField(l.error_message) + "\n";
  }
  nlohmann::json j{{"source", l.source}};
  if (l.ok) {
    j["match"] = l.match;
    j["audit_id"] = l.audit_id;
  } else {
    j["error"] = {{"code", l.error_code}, {"message", l.error_message}};
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Status ScanOutput::Open(const std::string& path, Format format, std::unique_ptr<ScanOutput>* out) {
  std::unique_ptr<ScanOutput> o(new ScanOutput());
  o->format_ = format;
  o->path_ = path;
  if (path.empty()) {
    o->fd_ = STDOUT_FILENO;
    if (format == Format::kCsv) HS_RETURN_IF_ERROR(WriteAll(o->fd_, kCsvHeader, "standard output"));
    *out = std::move(o);
    return Status::Ok();
  }
  o->fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (o->fd_ < 0) return Status::IOError("cannot open " + path + ": " + std::strerror(errno));
  o->own_fd_ = true;
  HS_RETURN_IF_ERROR(LoadExisting(o->fd_, path, format, &o->done_, &o->done_matches_, &o->done_errors_));
  if (::lseek(o->fd_, 0, SEEK_END) < 0) return Status::IOError("cannot seek " + path);
  struct stat st;
  if (::fstat(o->fd_, &st) != 0) return Status::IOError("cannot stat " + path);
  if (format == Format::kCsv && st.st_size == 0) HS_RETURN_IF_ERROR(WriteAll(o->fd_, kCsvHeader, path));
  o->side_path_ = path + ".merkle.jsonl";
  o->side_fd_ = ::open(o->side_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (o->side_fd_ < 0) return Status::IOError("cannot open " + o->side_path_ + ": " + std::strerror(errno));
  *out = std::move(o);
  return Status::Ok();
}

ScanOutput::~ScanOutput() {
  if (own_fd_ && fd_ >= 0) ::close(fd_);
  if (side_fd_ >= 0) ::close(side_fd_);
}

Status ScanOutput::Append(const std::vector<ScanLine>& lines) {
  std::string text;
  for (const auto& l : lines) text += FormatLine(l, format_);
  return WriteAll(fd_, text, path_.empty() ? "standard output" : path_);
}

Status ScanOutput::AppendProof(const std::string& json_line) {
  if (side_fd_ < 0) return Status::Ok();
  return WriteAll(side_fd_, json_line + "\n", side_path_);
}

Status ScanOutput::Sync() {
  if (own_fd_ && ::fdatasync(fd_) != 0) return Status::IOError("cannot sync " + path_ + ": " + std::strerror(errno));
  if (side_fd_ >= 0 && ::fdatasync(side_fd_) != 0) return Status::IOError("cannot sync " + side_path_);
  return Status::Ok();
}

}  // namespace client
