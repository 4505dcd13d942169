// The hash-list file codec: every format in which hash lists reach
// hashscreen, read by one parser, used by `hashscreen lists push`,
// `hashscreend lists import` and the exchanges that fetch whole lists.
//
//   csv      "type,hash[,ref]" per line (comma or tab separated; the ref is
//            the rest of the line); an optional first line starting "type"
//            is a header.
//   plain    one hex hash per line, all of ListCodecOptions::type.
//   hasher   what `hashscreen hash` and Meta's pdq-photo-hasher print:
//            "PDQ,QUALITY,FILE", or with --dihedral "H0,...,H7,QUALITY,FILE";
//            the PDQ hash (H0) is added with FILE as its ref.
//   jsonl    `hashscreen hash --json` lines ({"file","pdq","md5","sha256",..}:
//            one entry per hash present, ref = file), or {"type","hash","ref"}.
//   te-csv   a CSV with a header row naming its columns, as ThreatExchange's
//            CSV download writes them: the hash from td_raw_indicator /
//            indicator / hash / signal / signal_value, the type from
//            td_indicator_type / indicator_type / type / signal_type
//            (HASH_PDQ, PDQ, pdq, HASH_MD5, ...; absent = the hash column's
//            name when it is a type, "md5_hash", else options.type), the
//            ref from td_id / id / indicator_id / ref. Fields may be quoted.
//   auto     decided by the first data line (below).
//
// Blank lines and lines starting with '#' are skipped everywhere; nothing
// else is: a line the format cannot read is an error naming the line and what
// was expected, and callers stop there (a list is never applied with lines
// silently missing).
//
// Auto-detection, on the first data line: '{' -> jsonl; no separator ->
// plain; first field "type" or a type name -> csv; a header naming a hash
// column -> te-csv; a 64-hex hash then an integer (or 8 hashes then an
// integer) -> hasher; anything else is an error listing the formats.
//
// Thread-safety: a parser holds the format it detected; one per file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/signal.h"
#include "base/status.h"

namespace codec {

using base::SignalEntry;
using base::SignalType;
using base::Status;

enum class ListFormat { kAuto, kCsv, kPlain, kHasher, kJsonLines, kTeCsv };

// "auto", "csv", "plain", "hasher", "jsonl", "te-csv".
const char* ListFormatName(ListFormat format);
// InvalidArgument listing the names for anything else.
Status ParseListFormat(std::string_view name, ListFormat* out);

struct ListCodecOptions {
  ListFormat format = ListFormat::kAuto;
  SignalType type = SignalType::kPdq;  // plain lines, and te-csv without a type column
};

class HashListParser {
 public:
  explicit HashListParser(const ListCodecOptions& options);

  // Parses one line (without its '\n'; a trailing '\r' is ignored). Its
  // entries are written to (*out)[*used], (*out)[*used + 1], ..., growing
  // `out` when needed and advancing *used; entries past *used are scratch
  // whose strings are reused, so a caller parsing millions of lines into
  // the same vector allocates almost nothing. Header, blank and comment
  // lines give none. Otherwise InvalidArgument saying what is wrong with the
  // line (callers add where: "FILE:LINE: ..."); *used is then unchanged.
  Status ParseLine(std::string_view line, std::vector<SignalEntry>* out, size_t* used);

  // The format in use: kAuto until the first data line decided it.
  ListFormat format() const { return format_; }

 private:
  Status Detect(std::string_view line);
  Status ParseTeHeader(std::string_view line);

  ListCodecOptions options_;
  ListFormat format_;
  bool seen_data_ = false;
  char sep_ = ',';
  // te-csv column positions (-1: absent).
  int hash_col_ = -1, type_col_ = -1, ref_col_ = -1;
  std::optional<SignalType> column_type_;  // from a hash column named "md5", "pdq_hash", ...
  std::vector<std::string> fields_;  // scratch for quoted CSV fields
};

// Every entry of a whole text (one parser, line by line); errors say "line N: ...".
Status ParseHashList(std::string_view text, const ListCodecOptions& options, std::vector<SignalEntry>* out);

// The canonical line of an entry: "type,hash,ref" (csv), for exports.
std::string FormatCsvLine(const SignalEntry& entry);

}  // namespace codec
