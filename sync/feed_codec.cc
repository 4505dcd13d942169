#include "sync/feed_codec.h"

#include "base/coding.h"
#include "store/key_encoding.h"

namespace hsync {

namespace {
constexpr std::string_view kMagic = "HSF1";
constexpr uint8_t kExplicitTime = 0x80;
// An add carrying its partner metadata (store::SignalMeta) after the ref:
// i64 first_seen_ms, u8 tag count, then each tag as u8 length + bytes.
constexpr uint8_t kWithMeta = 0x40;
// The smallest encoded change: op, type, a 16-byte hash, a u16 ref length.
constexpr size_t kMinChangeBytes = 1 + 1 + 16 + 2;
}  // namespace

void EncodeFeedPage(const store::FeedPage& page, std::string_view primary_id, std::string* out) {
  out->clear();
  size_t reserve = 64 + primary_id.size();
  for (const auto& item : page.items) {
    reserve += 64;
    for (const auto& c : item.changes) reserve += 14 + c.hash.size() + c.ref.size();
  }
  out->reserve(reserve);
  out->append(kMagic);
  base::PutU64(out, page.next.record);
  base::PutU64(out, page.next.change);
  base::PutU64(out, page.head.record);
  base::PutU64(out, static_cast<uint64_t>(page.head_time_ms));
  base::PutU16(out, static_cast<uint16_t>(primary_id.size()));
  out->append(primary_id);
  base::PutU32(out, static_cast<uint32_t>(page.items.size()));
  for (const auto& item : page.items) {
    const store::FeedRecord& r = item.record;
    out->push_back(static_cast<char>(r.kind));
    base::PutU64(out, r.seq);
    base::PutU64(out, static_cast<uint64_t>(r.time_ms));
    if (r.kind == store::FeedKind::kListPut) {
      base::PutU64(out, r.list.id);
      const std::string list = store::keys::EncodeList(r.list);
      base::PutU32(out, static_cast<uint32_t>(list.size()));
      out->append(list);
      continue;
    }
    base::PutU64(out, r.list_id);
    base::PutU64(out, r.first_change);
    base::PutU64(out, r.last_change);
    base::PutU64(out, item.changes.empty() ? 0 : item.changes.front().seq);
    base::PutU32(out, static_cast<uint32_t>(item.changes.size()));
    for (const auto& c : item.changes) {
      const bool own_time = c.time_ms != r.time_ms;
      const bool with_meta = c.add && !c.meta.empty();
      out->push_back(static_cast<char>((c.add ? 1 : 2) | (own_time ? kExplicitTime : 0) | (with_meta ? kWithMeta : 0)));
      out->push_back(static_cast<char>(c.type));
      out->append(c.hash);
      if (own_time) base::PutU64(out, static_cast<uint64_t>(c.time_ms));
      base::PutU16(out, static_cast<uint16_t>(c.ref.size()));
      out->append(c.ref);
      if (with_meta) {
        base::PutU64(out, static_cast<uint64_t>(c.meta.first_seen_ms));
        out->push_back(static_cast<char>(c.meta.tags.size()));
        for (const auto& t : c.meta.tags) {
          out->push_back(static_cast<char>(t.size()));
          out->append(t);
        }
      }
    }
  }
}

Status DecodeFeedPage(std::string_view bytes, store::FeedPage* page, std::string* primary_id) {
  auto bad = [](const std::string& what) { return Status::InvalidArgument("malformed feed page: " + what); };
  base::ByteReader in(bytes);
  if (in.Bytes(kMagic.size()) != kMagic) return bad("not a feed page (magic)");
  store::FeedPage p;
  p.next.record = in.U64();
  p.next.change = in.U64();
  p.head.record = in.U64();
  p.head_time_ms = static_cast<int64_t>(in.U64());
  const uint16_t id_len = in.U16();
  std::string id(in.Bytes(id_len));
  const uint32_t items = in.U32();
  if (in.bad()) return bad("truncated header");
  // Every item takes at least 17 bytes: a count beyond that is a lie.
  if (items > in.remaining() / 17) return bad("item count beyond the page");
  p.items.reserve(items);
  for (uint32_t i = 0; i < items; ++i) {
    const std::string where = "item " + std::to_string(i);
    store::FeedItem item;
    store::FeedRecord& r = item.record;
    const uint8_t kind = in.U8();
    r.seq = in.U64();
    r.time_ms = static_cast<int64_t>(in.U64());
    if (in.bad()) return bad(where + " is truncated");
    if (kind == static_cast<uint8_t>(store::FeedKind::kListPut)) {
      r.kind = store::FeedKind::kListPut;
      r.list_id = in.U64();
      const uint32_t n = in.U32();
      std::string_view list = in.Bytes(n);
      if (in.bad()) return bad(where + " is truncated");
      if (r.list_id == 0 || !store::keys::DecodeList(r.list_id, list, &r.list).ok()) {
        return bad(where + ": damaged list record");
      }
      ++p.entries;
      p.items.push_back(std::move(item));
      continue;
    }
    if (kind != static_cast<uint8_t>(store::FeedKind::kBatch)) return bad(where + ": unknown kind " + std::to_string(kind));
    r.kind = store::FeedKind::kBatch;
    r.list_id = in.U64();
    r.first_change = in.U64();
    r.last_change = in.U64();
    const uint64_t from = in.U64();
    const uint32_t n = in.U32();
    if (in.bad()) return bad(where + " is truncated");
    if (n > in.remaining() / kMinChangeBytes) return bad(where + ": change count beyond the page");
    if (n == 0 || r.first_change == 0 || r.first_change > r.last_change || from < r.first_change ||
        from > r.last_change || n - 1 > r.last_change - from) {
      return bad(where + ": changes outside feed record " + std::to_string(r.seq));
    }
    item.changes.resize(n);
    for (uint32_t k = 0; k < n; ++k) {
      store::Change& c = item.changes[k];
      const uint8_t op = in.U8(), type = in.U8();
      const uint8_t bare = op & ~(kExplicitTime | kWithMeta);
      if (in.bad() || (bare != 1 && bare != 2) || ((op & kWithMeta) && bare != 1) || !base::IsValidSignalType(type)) {
        return bad(where + ", change " + std::to_string(k) + ": bad op or type");
      }
      c.seq = from + k;
      c.add = bare == 1;
      c.type = static_cast<base::SignalType>(type);
      c.hash.assign(in.Bytes(base::SignalHashBytes(c.type)));
      c.time_ms = (op & kExplicitTime) ? static_cast<int64_t>(in.U64()) : r.time_ms;
      c.ref.assign(in.Bytes(in.U16()));
      if (in.bad()) return bad(where + ", change " + std::to_string(k) + " is truncated");
      if (c.ref.size() > base::kMaxRefBytes) return bad(where + ", change " + std::to_string(k) + ": reference too long");
      if (op & kWithMeta) {
        c.meta.first_seen_ms = static_cast<int64_t>(in.U64());
        const uint8_t tags = in.U8();
        if (tags > store::kMaxSignalTags) return bad(where + ", change " + std::to_string(k) + ": too many tags");
        for (uint8_t t = 0; t < tags; ++t) {
          const uint8_t len = in.U8();
          if (len == 0 || len > store::kMaxSignalTagBytes) return bad(where + ", change " + std::to_string(k) + ": bad tag");
          c.meta.tags.emplace_back(in.Bytes(len));
        }
        if (in.bad()) return bad(where + ", change " + std::to_string(k) + " is truncated");
        // The encoder flags only metadata that says something: one encoding per page.
        if (c.meta.empty()) return bad(where + ", change " + std::to_string(k) + ": empty metadata");
      }
    }
    p.entries += n;
    p.items.push_back(std::move(item));
  }
  if (!in.done()) return bad("trailing bytes");
  *page = std::move(p);
  *primary_id = std::move(id);
  return Status::Ok();
}

}  // namespace hsync
