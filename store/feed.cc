#include "store/feed.h"

#include "base/coding.h"
#include "base/number_parse.h"
#include "store/key_encoding.h"

namespace store {

std::string FormatFeedCursor(const FeedCursor& c) {
  std::string s = std::to_string(c.record);
  if (c.change != 0) {
    s.push_back('.');
    s += std::to_string(c.change);
  }
  return s;
}

Status ParseFeedCursor(std::string_view text, const char* what, FeedCursor* out) {
  FeedCursor c;
  const size_t dot = text.find('.');
  HS_RETURN_IF_ERROR(base::ParseUint(text.substr(0, dot), what, 0, UINT64_MAX, &c.record));
  if (dot != std::string_view::npos) {
    HS_RETURN_IF_ERROR(base::ParseUint(text.substr(dot + 1), what, 1, UINT64_MAX, &c.change));
    // A partial batch is always a record after the start of the feed.
    if (c.record == 0) return Status::InvalidArgument(std::string(what) + ": '" + std::string(text) + "' is not a feed cursor");
  }
  *out = c;
  return Status::Ok();
}

namespace keys {

// Value layouts (after the key, the u64 feed seq):
//   u8 kind, i64 time_ms, then
//   kListPut: u64 list id, the list record (EncodeList)
//   kBatch:   u64 list id, u64 first change seq, u64 last change seq
std::string FeedKey(uint64_t seq) { return base::EncodeU64(seq); }

std::string EncodeFeedRecord(const FeedRecord& r) {
  std::string v;
  v.push_back(static_cast<char>(r.kind));
  base::PutU64(&v, static_cast<uint64_t>(r.time_ms));
  if (r.kind == FeedKind::kListPut) {
    base::PutU64(&v, r.list.id);
    v += EncodeList(r.list);
  } else {
    base::PutU64(&v, r.list_id);
    base::PutU64(&v, r.first_change);
    base::PutU64(&v, r.last_change);
  }
  return v;
}

Status DecodeFeedRecord(uint64_t seq, std::string_view v, FeedRecord* out) {
  auto bad = [seq] { return Status::Corruption("feed record " + std::to_string(seq) + " is damaged"); };
  if (v.size() < 17) return bad();
  FeedRecord r;
  r.seq = seq;
  const uint8_t kind = static_cast<uint8_t>(v[0]);
  r.time_ms = static_cast<int64_t>(base::GetU64(v.data() + 1));
  r.list_id = base::GetU64(v.data() + 9);
  if (kind == static_cast<uint8_t>(FeedKind::kListPut)) {
    r.kind = FeedKind::kListPut;
    if (!DecodeList(r.list_id, v.substr(17), &r.list).ok()) return bad();
  } else if (kind == static_cast<uint8_t>(FeedKind::kBatch)) {
    r.kind = FeedKind::kBatch;
    if (v.size() != 33) return bad();
    r.first_change = base::GetU64(v.data() + 17);
    r.last_change = base::GetU64(v.data() + 25);
    if (r.first_change == 0 || r.first_change > r.last_change) return bad();
  } else {
    return bad();
  }
  *out = std::move(r);
  return Status::Ok();
}

}  // namespace keys
}  // namespace store
