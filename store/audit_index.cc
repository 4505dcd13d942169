#include "store/audit_index.h"

#include <set>

#include "base/coding.h"
#include "store/audit_log.h"

namespace store::audit_index {

namespace {

// One byte per index; the marker starts with '\0', so it is no index's key.
constexpr char kAll = 'a';
constexpr char kVerdict = 'v';
constexpr char kList = 'l';
constexpr char kListVerdict = 'm';
constexpr char kPartner = 'p';
constexpr char kPartnerVerdict = 'q';
constexpr char kInstance = 'i';
constexpr char kInstanceVerdict = 'j';
constexpr char kDisposition = 'd';
constexpr char kListDisposition = 'e';
constexpr char kPartnerDisposition = 'f';
constexpr char kInstanceDisposition = 'k';
constexpr char kCurrent = 'c';
// Index version 2: the filter pairs that had no key of their own.
constexpr char kListPartner = 'n';
constexpr char kListInstance = 'o';
constexpr char kPartnerInstance = 'r';

void PutStr(std::string* s, std::string_view v) {
  base::PutU32(s, static_cast<uint32_t>(v.size()));
  s->append(v);
}

std::string Tag(char t) { return std::string(1, t); }

// Times order as signed numbers: the sign bit flipped makes them order as bytes.
uint64_t TimeBits(int64_t t) { return static_cast<uint64_t>(t) ^ (uint64_t{1} << 63); }

const std::string& InstanceOf(const AuditEntry& e, const std::string& own) { return e.origin ? e.instance : own; }

std::set<uint64_t> Lists(const AuditEntry& x) {
  std::set<uint64_t> out;
  for (const auto& h : x.hits) out.insert(h.list_id);
  return out;
}

std::set<std::string> Partners(const AuditEntry& x) {
  std::set<std::string> out;
  for (const auto& h : x.hits) out.insert(h.partner);
  return out;
}

std::string Position(std::string prefix, const AuditEntry& e) { return PositionKey(prefix, e.time_ms, e.seq); }

}  // namespace

std::string VerdictClass(const AuditEntry& x) {
  switch (x.kind) {
    case AuditEntry::Kind::kScreen: return x.verdict;
    case AuditEntry::Kind::kReview: return "review";
    case AuditEntry::Kind::kEvent: return "event";
    case AuditEntry::Kind::kBatch: return "batch";
    case AuditEntry::Kind::kForwarded: return "forwarded";
  }
  return "";
}

std::string InitialDisposition(const AuditEntry& entry) {
  const AuditEntry& x = entry.effective();
  return x.kind == AuditEntry::Kind::kScreen && x.verdict == "match" ? "unreviewed" : "";
}

std::vector<std::string> EntryKeys(const AuditEntry& e, const std::string& own_instance) {
  const AuditEntry& x = e.effective();
  const std::string verdict = VerdictClass(x);
  const std::string& instance = InstanceOf(e, own_instance);
  std::vector<std::string> keys;
  keys.push_back(Position(Tag(kAll), e));
  std::string p = Tag(kVerdict);
  PutStr(&p, verdict);
  keys.push_back(Position(p, e));
  for (uint64_t list : Lists(x)) {
    std::string l = Tag(kList);
    base::PutU64(&l, list);
    keys.push_back(Position(l, e));
    std::string lv = Tag(kListVerdict);
    base::PutU64(&lv, list);
    PutStr(&lv, verdict);
    keys.push_back(Position(lv, e));
  }
  for (const std::string& partner : Partners(x)) {
    std::string k = Tag(kPartner);
    PutStr(&k, partner);
    keys.push_back(Position(k, e));
    std::string kv = Tag(kPartnerVerdict);
    PutStr(&kv, partner);
    PutStr(&kv, verdict);
    keys.push_back(Position(kv, e));
  }
  for (uint64_t list : Lists(x)) {
    for (const std::string& partner : Partners(x)) {
      std::string k = Tag(kListPartner);
      base::PutU64(&k, list);
      PutStr(&k, partner);
      keys.push_back(Position(k, e));
    }
    std::string k = Tag(kListInstance);
    base::PutU64(&k, list);
    PutStr(&k, instance);
    keys.push_back(Position(k, e));
  }
  for (const std::string& partner : Partners(x)) {
    std::string k = Tag(kPartnerInstance);
    PutStr(&k, partner);
    PutStr(&k, instance);
    keys.push_back(Position(k, e));
  }
  std::string i = Tag(kInstance);
  PutStr(&i, instance);
  keys.push_back(Position(i, e));
  std::string iv = Tag(kInstanceVerdict);
  PutStr(&iv, instance);
  PutStr(&iv, verdict);
  keys.push_back(Position(iv, e));
  return keys;
}

std::vector<std::string> DispositionKeys(const AuditEntry& e, const std::string& own_instance,
                                         const std::string& disposition) {
  std::vector<std::string> keys;
  if (disposition.empty()) return keys;
  const AuditEntry& x = e.effective();
  std::string d = Tag(kDisposition);
  PutStr(&d, disposition);
  keys.push_back(Position(d, e));
  for (uint64_t list : Lists(x)) {
    std::string k = Tag(kListDisposition);
    base::PutU64(&k, list);
    PutStr(&k, disposition);
    keys.push_back(Position(k, e));
  }
  for (const std::string& partner : Partners(x)) {
    std::string k = Tag(kPartnerDisposition);
    PutStr(&k, partner);
    PutStr(&k, disposition);
    keys.push_back(Position(k, e));
  }
  std::string k = Tag(kInstanceDisposition);
  PutStr(&k, InstanceOf(e, own_instance));
  PutStr(&k, disposition);
  keys.push_back(Position(k, e));
  return keys;
}

std::string IndexPrefix(const Filter& f) {
  std::string p;
  if (!f.disposition.empty()) {
    if (f.list_id) {
      p = Tag(kListDisposition);
      base::PutU64(&p, *f.list_id);
    } else if (!f.partner.empty()) {
      p = Tag(kPartnerDisposition);
      PutStr(&p, f.partner);
    } else if (!f.instance.empty()) {
      p = Tag(kInstanceDisposition);
      PutStr(&p, f.instance);
    } else {
      p = Tag(kDisposition);
    }
    PutStr(&p, f.disposition);
    return p;
  }
  // Two of list, partner, instance: their pair's key (the verdict, and a
  // third, checked on the entries read).
  if (f.list_id && !f.partner.empty()) {
    p = Tag(kListPartner);
    base::PutU64(&p, *f.list_id);
    PutStr(&p, f.partner);
    return p;
  }
  if (f.list_id && !f.instance.empty()) {
    p = Tag(kListInstance);
    base::PutU64(&p, *f.list_id);
    PutStr(&p, f.instance);
    return p;
  }
  if (!f.partner.empty() && !f.instance.empty()) {
    p = Tag(kPartnerInstance);
    PutStr(&p, f.partner);
    PutStr(&p, f.instance);
    return p;
  }
  if (f.list_id) {
    p = Tag(f.verdict.empty() ? kList : kListVerdict);
    base::PutU64(&p, *f.list_id);
  } else if (!f.partner.empty()) {
    p = Tag(f.verdict.empty() ? kPartner : kPartnerVerdict);
    PutStr(&p, f.partner);
  } else if (!f.instance.empty()) {
    p = Tag(f.verdict.empty() ? kInstance : kInstanceVerdict);
    PutStr(&p, f.instance);
  } else {
    p = Tag(f.verdict.empty() ? kAll : kVerdict);
  }
  if (!f.verdict.empty()) PutStr(&p, f.verdict);
  return p;
}

std::string PositionKey(const std::string& prefix, int64_t time_ms, uint64_t seq) {
  std::string k = prefix;
  base::PutU64(&k, TimeBits(time_ms));
  base::PutU64(&k, seq);
  return k;
}

bool DecodePosition(std::string_view key, int64_t* time_ms, uint64_t* seq) {
  if (key.size() < 17) return false;
  *time_ms = static_cast<int64_t>(base::GetU64(key.data() + key.size() - 16) ^ (uint64_t{1} << 63));
  *seq = base::GetU64(key.data() + key.size() - 8);
  return true;
}

std::string CurrentKey(uint64_t seq) {
  std::string k = Tag(kCurrent);
  base::PutU64(&k, seq);
  return k;
}

std::string EncodeCurrent(uint64_t review_seq, const std::string& disposition) {
  std::string v;
  base::PutU64(&v, review_seq);
  v.append(disposition);
  return v;
}

bool DecodeCurrent(std::string_view value, uint64_t* review_seq, std::string* disposition) {
  if (value.size() < 9) return false;
  *review_seq = base::GetU64(value.data());
  *disposition = std::string(value.substr(8));
  return true;
}

}  // namespace store::audit_index
