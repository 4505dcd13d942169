#include "codec/hash_list_codec.h"

#include <charconv>
#include <span>

#include <nlohmann/json.hpp>

#include "base/hex.h"

namespace codec {

namespace {

constexpr const char* kFormats = "auto, csv, plain, hasher, jsonl, te-csv";

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// The next field up to `sep` (no quoting); *rest gets what follows the
// separator, or is empty (and *more false) when there was none.
std::string_view Field(std::string_view line, char sep, std::string_view* rest, bool* more) {
  const size_t p = line.find(sep);
  if (p == std::string_view::npos) {
    *rest = {};
    *more = false;
    return TrimSpaces(line);
  }
  *rest = line.substr(p + 1);
  *more = true;
  return TrimSpaces(line.substr(0, p));
}

char SeparatorOf(std::string_view line) {
  if (line.find('\t') != std::string_view::npos) return '\t';
  if (line.find(',') != std::string_view::npos) return ',';
  return 0;
}

// RFC 4180 fields of one line: quoted fields may hold the separator and ""
// for a quote. A quote left open is an error (records never span lines here).
bool SplitQuoted(std::string_view line, char sep, std::vector<std::string>* out) {
  out->clear();
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur.push_back(c);
      }
    } else if (c == '"' && TrimSpaces(cur).empty() && !was_quoted) {
      cur.clear();
      quoted = was_quoted = true;
    } else if (c == sep) {
      out->push_back(was_quoted ? cur : std::string(TrimSpaces(cur)));
      cur.clear();
      was_quoted = false;
    } else {
      cur.push_back(c);
    }
  }
  if (quoted) return false;
  out->push_back(was_quoted ? cur : std::string(TrimSpaces(cur)));
  return true;
}

// A trailing ref field: "quoted" refs lose their quotes (and "" becomes ").
std::string_view UnquoteRef(std::string_view ref, std::string* scratch) {
  ref = TrimSpaces(ref);
  if (ref.size() < 2 || ref.front() != '"' || ref.back() != '"') return ref;
  scratch->clear();
  for (size_t i = 1; i + 1 < ref.size(); ++i) {
    scratch->push_back(ref[i]);
    if (ref[i] == '"' && i + 2 < ref.size() && ref[i + 1] == '"') ++i;
  }
  return *scratch;
}

bool IsTypeName(std::string_view s) {
  SignalType t;
  return base::ParseSignalType(s, &t).ok();
}

bool IsPdqHex(std::string_view s) { return s.size() == 64 && base::IsHex(s); }

bool IsQuality(std::string_view s) {
  int q = -1;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), q);
  return ec == std::errc() && p == s.data() + s.size() && q >= 0 && q <= 100;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// ThreatExchange-style type values: HASH_PDQ, PDQ, pdq, photo_pdq, ...
// `out` may be null (a check only).
Status ParseTeType(std::string_view value, SignalType* out) {
  std::string v = Lower(TrimSpaces(value));
  for (std::string_view prefix : {"hash_", "photo_"}) {
    if (v.rfind(prefix, 0) == 0) v.erase(0, prefix.size());
  }
  SignalType t;
  if (base::ParseSignalType(v, &t).ok()) {
    if (out) *out = t;
    return Status::Ok();
  }
  return Status::InvalidArgument("unknown signal type '" + std::string(value) + "' (pdq, md5, sha256)");
}

// Column names compare case-insensitively.
bool IsOneOf(std::string_view field, std::span<const std::string_view> names) {
  const std::string f = Lower(field);
  for (std::string_view n : names) {
    if (f == n) return true;
  }
  return false;
}

// The first of `names` (in their order of preference) that the header holds.
int ColumnOf(const std::vector<std::string>& header, std::span<const std::string_view> names) {
  for (std::string_view n : names) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (Lower(header[i]) == n) return static_cast<int>(i);
    }
  }
  return -1;
}

constexpr std::string_view kHashColumns[] = {
    "td_raw_indicator", "raw_indicator", "indicator", "hash", "signal", "signal_value", "pdq_hash", "pdq", "md5_hash",
    "md5", "sha256_hash", "sha256"};

constexpr std::string_view kTypeColumns[] = {"td_indicator_type", "indicator_type", "td_type", "type", "signal_type"};
constexpr std::string_view kRefColumns[] = {"td_id", "id", "indicator_id", "ref", "reference", "file"};

SignalEntry& Next(std::vector<SignalEntry>* out, size_t* used) {
  if (*used == out->size()) out->emplace_back();
  return (*out)[(*used)++];
}

}  // namespace

const char* ListFormatName(ListFormat format) {
  switch (format) {
    case ListFormat::kAuto: return "auto";
    case ListFormat::kCsv: return "csv";
    case ListFormat::kPlain: return "plain";
    case ListFormat::kHasher: return "hasher";
    case ListFormat::kJsonLines: return "jsonl";
    case ListFormat::kTeCsv: return "te-csv";
  }
  return "?";
}

Status ParseListFormat(std::string_view name, ListFormat* out) {
  for (ListFormat f : {ListFormat::kAuto, ListFormat::kCsv, ListFormat::kPlain, ListFormat::kHasher,
                       ListFormat::kJsonLines, ListFormat::kTeCsv}) {
    if (name == ListFormatName(f)) {
      *out = f;
      return Status::Ok();
    }
  }
  return Status::InvalidArgument("unknown list format '" + std::string(name) + "' (" + kFormats + ")");
}

HashListParser::HashListParser(const ListCodecOptions& options) : options_(options), format_(options.format) {}

Status HashListParser::Detect(std::string_view line) {
  if (line.front() == '{') {
    format_ = ListFormat::kJsonLines;
    return Status::Ok();
  }
  const char sep = SeparatorOf(line);
  if (sep == 0) {
    format_ = ListFormat::kPlain;
    return Status::Ok();
  }
  if (!SplitQuoted(line, sep, &fields_)) return Status::InvalidArgument("a quoted field is not closed");
  const std::string& f0 = fields_[0];
  // A te-csv header names a hash column and holds no hash; a first field
  // that is a type name ("md5,<hash>") makes it a csv line unless a second
  // field is a column name too ("md5,file").
  bool has_hash_field = false;
  int column_names = 0;
  for (const std::string& f : fields_) {
    has_hash_field |= f.size() >= 32 && base::IsHex(f);
    column_names += IsOneOf(f, kHashColumns) || IsOneOf(f, kTypeColumns) || IsOneOf(f, kRefColumns);
  }
  if (f0 == "type") {
    format_ = ListFormat::kCsv;
  } else if (!has_hash_field && ColumnOf(fields_, kHashColumns) >= 0 && (!IsTypeName(Lower(f0)) || column_names >= 2)) {
    format_ = ListFormat::kTeCsv;
  } else if (IsTypeName(f0) || ParseTeType(f0, nullptr).ok()) {
    format_ = ListFormat::kCsv;
  } else if (fields_.size() >= 3 && IsPdqHex(f0) && IsQuality(fields_[1])) {
    format_ = ListFormat::kHasher;
  } else if (fields_.size() >= 10 && IsPdqHex(f0) && IsPdqHex(fields_[7]) && IsQuality(fields_[8])) {
    format_ = ListFormat::kHasher;
  } else {
    return Status::InvalidArgument("cannot tell the list format from this line; expected type,hash,ref (csv), "
                                   "one hash per line (plain), PDQ,QUALITY,FILE (hasher), JSON lines (jsonl) or a "
                                   "CSV with a header naming a hash column (te-csv)");
  }
  return Status::Ok();
}

Status HashListParser::ParseTeHeader(std::string_view line) {
  if (!SplitQuoted(line, sep_, &fields_)) return Status::InvalidArgument("a quoted field is not closed");
  hash_col_ = ColumnOf(fields_, kHashColumns);
  type_col_ = ColumnOf(fields_, kTypeColumns);
  ref_col_ = ColumnOf(fields_, kRefColumns);
  if (hash_col_ < 0) {
    return Status::InvalidArgument(
        "the te-csv header names no hash column (td_raw_indicator, indicator, hash, signal or signal_value)");
  }
  // A hash column named for its type ("md5", "pdq_hash") gives the type.
  const std::string name = Lower(fields_[hash_col_]);
  SignalType t;
  if (type_col_ < 0 && base::ParseSignalType(name.substr(0, name.find('_')), &t).ok()) column_type_ = t;
  return Status::Ok();
}

Status HashListParser::ParseLine(std::string_view line, std::vector<SignalEntry>* out, size_t* used) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const std::string_view trimmed = TrimSpaces(line);
  if (trimmed.empty() || trimmed.front() == '#') return Status::Ok();
  const bool first = !seen_data_;
  seen_data_ = true;
  if (format_ == ListFormat::kAuto) HS_RETURN_IF_ERROR(Detect(trimmed));
  if (first) sep_ = SeparatorOf(trimmed) ? SeparatorOf(trimmed) : ',';
  const size_t start = *used;
  auto fail = [&](const std::string& why) {
    *used = start;
    return Status::InvalidArgument(why);
  };
  auto parse = [&](SignalType type, std::string_view hex, std::string_view ref) -> Status {
    Status s = base::ParseSignal(base::SignalTypeName(type), hex, ref, &Next(out, used));
    return s.ok() ? s : fail(s.message());
  };
  std::string scratch;

  switch (format_) {
    case ListFormat::kCsv: {
      const char sep = SeparatorOf(trimmed);
      if (sep == 0) return fail("expected type,hash[,ref]");
      std::string_view rest, ref;
      bool more = false;
      const std::string_view type = Field(trimmed, sep, &rest, &more);
      if (first && type == "type") return Status::Ok();  // the header
      const std::string_view hash = Field(rest, sep, &ref, &more);
      SignalType t;
      if (Status s = ParseTeType(type, &t); !s.ok()) return fail(s.message());
      return parse(t, hash, UnquoteRef(ref, &scratch));
    }
    case ListFormat::kPlain: {
      if (SeparatorOf(trimmed)) return fail("expected one hash per line (plain), found a separator");
      Status s = parse(options_.type, trimmed, {});
      if (!s.ok() && trimmed.size() != 2 * base::SignalHashBytes(options_.type) && base::IsHex(trimmed)) {
        return fail(std::to_string(trimmed.size()) + " hex characters is not a " +
                    base::SignalTypeName(options_.type) + " hash (give the list's type: --type md5|sha256|pdq)");
      }
      return s;
    }
    case ListFormat::kHasher: {
      // PDQ,QUALITY,FILE or H0,...,H7,QUALITY,FILE; FILE is the rest of the
      // line (file names may hold commas).
      std::string_view rest = trimmed, ref;
      std::string_view fields[10];
      int n = 0;
      bool more = true;
      while (more && n < 10) {
        fields[n++] = Field(rest, ',', &rest, &more);
        if (n >= 2 && IsQuality(fields[n - 1]) && (n == 2 || n == 9)) break;
      }
      if (!(n == 2 || n == 9) || !IsQuality(fields[n - 1])) {
        return fail("expected PDQ,QUALITY,FILE or H0,...,H7,QUALITY,FILE (hasher)");
      }
      for (int i = 0; i + 1 < n; ++i) {
        if (!IsPdqHex(fields[i])) return fail("field " + std::to_string(i + 1) + " is not a 64-hex PDQ hash");
      }
      ref = more ? rest : std::string_view();
      return parse(SignalType::kPdq, fields[0], TrimSpaces(ref));
    }
    case ListFormat::kJsonLines: {
      const nlohmann::json j = nlohmann::json::parse(trimmed, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.is_object()) return fail("not a JSON object");
      auto str = [&](const char* k, std::string* v) -> bool {
        auto it = j.find(k);
        if (it == j.end() || it->is_null()) return false;
        if (!it->is_string()) return false;
        *v = it->get<std::string>();
        return true;
      };
      std::string type, hash, ref, v;
      if (j.contains("type") || j.contains("hash")) {
        if (!str("type", &type) || !str("hash", &hash)) return fail("\"type\" and \"hash\" must be strings");
        str("ref", &ref);
        SignalType t;
        if (Status s = base::ParseSignalType(type, &t); !s.ok()) return fail(s.message());
        return parse(t, hash, ref);
      }
      if (j.contains("file") && !str("file", &ref)) return fail("\"file\" must be a string");
      int found = 0;
      for (auto [key, t] : {std::pair{"pdq", SignalType::kPdq}, std::pair{"md5", SignalType::kMd5},
                            std::pair{"sha256", SignalType::kSha256}}) {
        if (!j.contains(key)) continue;
        if (!str(key, &v)) return fail(std::string("\"") + key + "\" must be a hex string");
        HS_RETURN_IF_ERROR(parse(t, v, ref));
        ++found;
      }
      if (found == 0) return fail("no hash: expected \"pdq\", \"md5\" or \"sha256\" (or \"type\" and \"hash\")");
      return Status::Ok();
    }
    case ListFormat::kTeCsv: {
      if (hash_col_ < 0) return ParseTeHeader(trimmed);  // the first data line is the header
      if (!SplitQuoted(trimmed, sep_, &fields_)) return fail("a quoted field is not closed");
      auto col = [&](int c) -> std::string_view {
        return c >= 0 && static_cast<size_t>(c) < fields_.size() ? std::string_view(fields_[c]) : std::string_view();
      };
      if (static_cast<size_t>(hash_col_) >= fields_.size()) return fail("the line has no hash column");
      SignalType t = column_type_.value_or(options_.type);
      if (type_col_ >= 0) {
        if (Status s = ParseTeType(col(type_col_), &t); !s.ok()) return fail(s.message());
      }
      return parse(t, col(hash_col_), col(ref_col_));
    }
    case ListFormat::kAuto: break;
  }
  return fail("no list format");
}

Status ParseHashList(std::string_view text, const ListCodecOptions& options, std::vector<SignalEntry>* out) {
  HashListParser parser(options);
  size_t used = out->size();
  uint64_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    Status s = parser.ParseLine(line, out, &used);
    ++line_no;
    if (!s.ok()) {
      out->resize(used);
      return s.WithContext("line " + std::to_string(line_no));
    }
  }
  out->resize(used);
  return Status::Ok();
}

std::string FormatCsvLine(const SignalEntry& entry) {
  return std::string(base::SignalTypeName(entry.type)) + "," + base::HexEncode(std::string_view(entry.hash)) + "," +
         entry.ref;
}

}  // namespace codec
