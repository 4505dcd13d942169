#include "sync/exchange/ncmec_state.h"

#include <algorithm>

#include "base/coding.h"
#include "base/number_parse.h"

namespace hsync {

namespace {

constexpr size_t kMaxRecordItems = 4096;

std::string SigKeyOf(const base::SignalEntry& e) {
  std::string k(1, static_cast<char>(e.type));
  k += e.hash;
  return k;
}

std::string EncodeList(const std::vector<std::string>& items) {
  std::string v;
  for (const auto& i : items) base::PutLengthPrefixed(&v, i);
  return v;
}

Status DecodeList(std::string_view value, std::vector<std::string>* out) {
  base::ByteReader in(value);
  out->clear();
  while (!in.bad() && in.remaining() > 0 && out->size() < kMaxRecordItems) {
    out->emplace_back(in.LengthPrefixed(4096));
  }
  if (!in.done()) return Status::Corruption("NCMEC entry index record is damaged");
  return Status::Ok();
}

}  // namespace

std::string EncodeNcmecCheckpoint(const NcmecCheckpoint& c) {
  std::string s = std::to_string(c.done_s);
  if (!c.next.empty()) {
    for (const std::string& part : {std::to_string(c.to_s), std::to_string(c.saved_ms), c.next}) {
      s += ' ';
      s += part;
    }
  }
  return s;
}

NcmecCheckpoint DecodeNcmecCheckpoint(const std::string& text) {
  NcmecCheckpoint c;
  std::vector<std::string> parts;
  size_t at = 0;
  while (parts.size() < 3) {
    const size_t sp = text.find(' ', at);
    if (sp == std::string::npos) break;
    parts.push_back(text.substr(at, sp - at));
    at = sp + 1;
  }
  parts.push_back(text.substr(at));
  if (!base::ParseInt(parts[0], "done", 0, INT64_MAX / 1000, &c.done_s).ok()) return {};
  if (parts.size() == 4) {
    NcmecCheckpoint open = c;
    if (base::ParseInt(parts[1], "to", 0, INT64_MAX / 1000, &open.to_s).ok() &&
        base::ParseInt(parts[2], "saved", 0, INT64_MAX, &open.saved_ms).ok() && !parts[3].empty() &&
        open.to_s > open.done_s) {
      open.next = parts[3];
      return open;
    }
  }
  return c;
}

Status NcmecIndexBatch::Load(const std::string& key, std::vector<std::string>** out) {
  auto it = records_.find(key);
  if (it == records_.end()) {
    std::string v;
    std::vector<std::string> items;
    Status s = db_->Get(store::Database::kMeta, key, &v);
    if (s.ok()) {
      HS_RETURN_IF_ERROR(DecodeList(v, &items));
    } else if (s.code() != Status::Code::kNotFound) {
      return s;
    }
    touched_[key] = s.ok();
    it = records_.emplace(key, std::move(items)).first;
  }
  *out = &it->second;
  return Status::Ok();
}

Status NcmecIndexBatch::Apply(const NcmecEntry& entry) {
  const std::string prefix = "exchange/" + name_;
  std::vector<std::string>* held;
  HS_RETURN_IF_ERROR(Load(prefix + "/ref/" + entry.ref, &held));
  std::vector<std::string> now;
  for (const auto& s : entry.signals) now.push_back(SigKeyOf(s));
  auto holders_of = [&](const std::string& sk, std::vector<std::string>** h) -> Status {
    HS_RETURN_IF_ERROR(Load(prefix + "/sig/" + sk, h));
    if (!sigs_.count(sk)) {
      Sig sig;
      sig.before = !(*h)->empty();
      sig.entry.type = static_cast<base::SignalType>(static_cast<uint8_t>(sk[0]));
      sig.entry.hash = sk.substr(1);
      sigs_.emplace(sk, std::move(sig));
    }
    return Status::Ok();
  };
  for (const auto& sk : *held) {
    if (std::find(now.begin(), now.end(), sk) != now.end()) continue;
    std::vector<std::string>* h;
    HS_RETURN_IF_ERROR(holders_of(sk, &h));
    std::erase(*h, entry.ref);
  }
  for (size_t i = 0; i < now.size(); ++i) {
    std::vector<std::string>* h;
    HS_RETURN_IF_ERROR(holders_of(now[i], &h));
    if (std::find(h->begin(), h->end(), entry.ref) != h->end()) continue;
    if (h->size() >= kMaxRecordItems) return Status::TooLarge("more than 4096 NCMEC entries hold one hash");
    if (h->empty()) {
      // The entry that makes the signal present gives it its ref and metadata.
      Sig& sig = sigs_.at(now[i]);
      sig.entry.ref = entry.ref;
      sig.meta = entry.meta;
    }
    h->push_back(entry.ref);
  }
  // `held` may have moved: records_ is a map, its values stay put.
  *held = std::move(now);
  return Status::Ok();
}

store::BatchRequest NcmecIndexBatch::Batch() const {
  store::BatchRequest b;
  const std::string prefix = "exchange/" + name_ + "/sig/";
  for (const auto& [sk, sig] : sigs_) {
    const bool after = !records_.at(prefix + sk).empty();
    if (!sig.before && after) {
      b.add.push_back(sig.entry);
      b.add_meta.push_back(sig.meta);
    } else if (sig.before && !after) {
      base::SignalEntry e = sig.entry;
      e.ref.clear();
      b.remove.push_back(std::move(e));
    }
  }
  return b;
}

std::vector<store::HashLists::MetaWrite> NcmecIndexBatch::Writes() const {
  std::vector<store::HashLists::MetaWrite> w;
  for (const auto& [key, items] : records_) {
    if (!items.empty()) {
      w.push_back({key, EncodeList(items)});
    } else if (touched_.at(key)) {
      w.push_back({key, std::nullopt});
    }
  }
  return w;
}

}  // namespace hsync
