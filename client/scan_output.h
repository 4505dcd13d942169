// ScanOutput: the verdict file of `hashscreen scan`: one line per source,
// JSONL {"source","match","audit_id"} / {"source","error":{"code","message"}}
// or CSV with the columns source,match,audit_id,error_code,error_message.
//
// Resumable: Open reads an existing file first, cuts a last line left
// incomplete by a crash, and remembers every source in it (Done); the scan
// skips those, so each source appears exactly once however often it is
// interrupted. Lines are appended in groups with one write(2) each, so an
// interrupted scan leaves only whole lines (and a torn last line after a
// crash is cut at the next Open).
//
// Side file (with a file, not stdout): FILE.merkle.jsonl gets, for every
// batch whose no-match items share one audit entry, the line
//   {"audit_id", "count", "merkle_root", "leaves": [hex leaf hashes]}
// written before the batch's verdict lines: what `hashscreen audit prove`
// needs to show that one item is in that entry (docs/datasets.md).
//
// Thread-safety: one thread uses it.
#pragma once

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/status.h"

namespace client {

struct ScanLine {
  std::string source;
  bool ok = false;
  bool match = false;
  std::string audit_id;
  std::string error_code, error_message;
};

class ScanOutput {
 public:
  enum class Format { kJsonl, kCsv };

  // `path` "" writes to stdout (nothing to resume, no side file).
  static base::Status Open(const std::string& path, Format format, std::unique_ptr<ScanOutput>* out);
  ~ScanOutput();
  ScanOutput(const ScanOutput&) = delete;
  ScanOutput& operator=(const ScanOutput&) = delete;

  // Sources already in the file when it was opened, and how many of those
  // lines are matches and errors (a resumed run's exit status counts them).
  const std::unordered_set<std::string>& done() const { return done_; }
  uint64_t done_matches() const { return done_matches_; }
  uint64_t done_errors() const { return done_errors_; }
  const std::string& side_path() const { return side_path_; }

  base::Status Append(const std::vector<ScanLine>& lines);
  // One side-file line (see above); a no-op when writing to stdout.
  base::Status AppendProof(const std::string& json_line);
  // Flushes both files to disk (end of run, SIGINT).
  base::Status Sync();

  static std::string FormatLine(const ScanLine& line, Format format);

 private:
  ScanOutput() = default;
  int fd_ = -1, side_fd_ = -1;
  bool own_fd_ = false;
  Format format_ = Format::kJsonl;
  std::string path_, side_path_;
  std::unordered_set<std::string> done_;
  uint64_t done_matches_ = 0, done_errors_ = 0;
};

}  // namespace client
