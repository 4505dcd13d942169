#include "sync/exchange/feedback_queue.h"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>
#include <rocksdb/write_batch.h>

#include "base/clock.h"
#include "base/number_parse.h"
#include "sync/exchange/partner_update.h"

namespace hsync {

namespace {

using nlohmann::json;

constexpr char kItems[] = "exchange_feedback/t/";
constexpr char kPending[] = "exchange_feedback/p/";
constexpr char kFailed[] = "exchange_feedback/f/";
constexpr char kWatermark[] = "exchange_feedback/w";

std::string Pad(uint64_t v, int width) {
  char b[32];
  std::snprintf(b, sizeof b, "%0*llu", width, static_cast<unsigned long long>(v));
  return b;
}

std::string TargetPrefix(uint64_t target) { return kItems + Pad(target, 20) + "/"; }
std::string ItemKey(const FeedbackItem& i) { return TargetPrefix(i.target_seq) + Pad(i.review_seq, 20) + "/" + Pad(i.hit, 6); }
std::string IndexKey(const char* prefix, const FeedbackItem& i) {
  return prefix + i.exchange + "/" + Pad(i.review_seq, 20) + "/" + Pad(i.hit, 6);
}

std::string Encode(const FeedbackItem& i) {
  json j{{"exchange", i.exchange},   {"target", i.target_seq},     {"review", i.review_seq},
         {"hit", i.hit},             {"list_id", i.list_id},       {"signal", i.signal},
         {"hash", i.hash_hex},       {"ref", i.partner_ref},       {"disposition", i.disposition},
         {"positive", i.positive},   {"created_ms", i.created_ms}, {"attempts", i.attempts},
         {"next_ms", i.next_attempt_ms}, {"delivered_ms", i.delivered_ms},
         {"state", FeedbackStateName(i.state)}, {"error", i.last_error}};
  if (!i.descriptors.empty()) j["descriptors"] = i.descriptors;  // items queued before had none
  return j.dump(-1, ' ', false, json::error_handler_t::replace);  // never throws on bytes that are not UTF-8
}

Status Decode(const std::string& key, const std::string& value, FeedbackItem* out) {
  json j = json::parse(value, nullptr, false);
  const auto bad = [&] { return Status::Corruption("feedback item " + key + " does not decode"); };
  if (!j.is_object()) return bad();
  try {
    FeedbackItem i;
    i.exchange = j.at("exchange").get<std::string>();
    i.target_seq = j.at("target").get<uint64_t>();
    i.review_seq = j.at("review").get<uint64_t>();
    i.hit = j.at("hit").get<uint32_t>();
    i.list_id = j.at("list_id").get<uint64_t>();
    i.signal = j.at("signal").get<std::string>();
    i.hash_hex = j.at("hash").get<std::string>();
    i.partner_ref = j.at("ref").get<std::string>();
    i.disposition = j.at("disposition").get<std::string>();
    i.positive = j.at("positive").get<bool>();
    i.created_ms = j.at("created_ms").get<int64_t>();
    i.attempts = j.at("attempts").get<int64_t>();
    i.next_attempt_ms = j.at("next_ms").get<int64_t>();
    i.delivered_ms = j.at("delivered_ms").get<int64_t>();
    const std::string state = j.at("state").get<std::string>();
    i.state = state == "delivered" ? FeedbackState::kDelivered
              : state == "failed"  ? FeedbackState::kFailed
                                   : FeedbackState::kPending;
    i.last_error = j.at("error").get<std::string>();
    if (j.contains("descriptors")) i.descriptors = j.at("descriptors").get<std::vector<std::string>>();
    *out = std::move(i);
  } catch (const json::exception&) {
    return bad();
  }
  return Status::Ok();
}

// Calls fn(key, value) for every meta key under `prefix` until it returns false.
template <typename F>
Status Scan(const store::Database& db, const std::string& prefix, F fn) {
  std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(rocksdb::ReadOptions(), db.family(store::Database::kMeta)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (!fn(it->key().ToString(), it->value().ToString())) break;
  }
  return store::FromRocks(it->status(), "scanning exchange feedback");
}

}  // namespace

const char* FeedbackStateName(FeedbackState s) {
  switch (s) {
    case FeedbackState::kPending: return "pending";
    case FeedbackState::kDelivered: return "delivered";
    case FeedbackState::kFailed: return "failed";
  }
  return "?";
}

bool FeedbackVerdict(const std::string& disposition, bool* positive) {
  if (disposition == "confirmed" || disposition == "reported") {
    *positive = true;
    return true;
  }
  if (disposition == "false_positive") {
    *positive = false;
    return true;
  }
  return false;  // escalated: undecided
}

FeedbackQueue::FeedbackQueue(store::Database* db, std::vector<std::string> exchanges)
    : db_(db), exchanges_(std::move(exchanges)) {}

Status FeedbackQueue::Put(const FeedbackItem& item, const FeedbackItem* before, rocksdb::WriteBatch* batch) const {
  const std::string key = ItemKey(item);
  auto check = [](const rocksdb::Status& s) { return store::FromRocks(s, "queueing exchange feedback"); };
  HS_RETURN_IF_ERROR(check(batch->Put(db_->family(store::Database::kMeta), key, Encode(item))));
  const bool was_pending = before && before->state == FeedbackState::kPending;
  const bool was_failed = before && before->state == FeedbackState::kFailed;
  if (item.state == FeedbackState::kPending && !was_pending) {
    HS_RETURN_IF_ERROR(check(batch->Put(db_->family(store::Database::kMeta), IndexKey(kPending, item), key)));
  }
  if (item.state != FeedbackState::kPending && was_pending) {
    HS_RETURN_IF_ERROR(check(batch->Delete(db_->family(store::Database::kMeta), IndexKey(kPending, item))));
  }
  if (item.state == FeedbackState::kFailed && !was_failed) {
    HS_RETURN_IF_ERROR(check(batch->Put(db_->family(store::Database::kMeta), IndexKey(kFailed, item), key)));
  }
  return Status::Ok();
}

Status FeedbackQueue::Enqueue(const store::AuditEntry& review, const store::AuditEntry& target, size_t* queued) {
  *queued = 0;
  bool positive = true;
  if (review.kind != store::AuditEntry::Kind::kReview || !FeedbackVerdict(review.disposition, &positive)) {
    return Status::Ok();
  }
  const store::AuditEntry& screen = target.effective();
  std::lock_guard l(mu_);
  rocksdb::WriteBatch batch;
  for (size_t h = 0; h < screen.hits.size(); ++h) {
    const store::AuditHit& hit = screen.hits[h];
    const auto x = std::find_if(exchanges_.begin(), exchanges_.end(),
                                [&](const std::string& name) { return hit.partner == ExchangeOwner(name); });
    if (x == exchanges_.end()) continue;
    FeedbackItem item;
    item.exchange = *x;
    item.target_seq = target.seq;
    item.review_seq = review.seq;
    item.hit = static_cast<uint32_t>(h);
    std::string existing;
    Status s = db_->Get(store::Database::kMeta, ItemKey(item), &existing);
    if (s.ok()) continue;  // queued before (Recover after Enqueue, or the other way round)
    if (s.code() != Status::Code::kNotFound) return s;
    item.list_id = hit.list_id;
    item.signal = hit.signal;
    item.hash_hex = hit.hash_hex;
    item.partner_ref = hit.partner_ref;
    item.descriptors = ThreatDescriptorIds(hit.tags);
    item.disposition = review.disposition;
    item.positive = positive;
    item.created_ms = base::NowMs();
    HS_RETURN_IF_ERROR(Put(item, nullptr, &batch));
    ++*queued;
  }
  if (*queued == 0) return Status::Ok();
  return db_->Write(&batch, true);
}

Status FeedbackQueue::Recover(const store::AuditLog& audit, size_t* queued) {
  *queued = 0;
  uint64_t watermark = 0;
  std::string v;
  Status s = db_->Get(store::Database::kMeta, kWatermark, &v);
  const uint64_t end = audit.last_seq();
  auto store_watermark = [&] {
    rocksdb::WriteBatch batch;
    HS_RETURN_IF_ERROR(store::FromRocks(
        batch.Put(db_->family(store::Database::kMeta), kWatermark, std::to_string(end)), "exchange feedback watermark"));
    return db_->Write(&batch, true);
  };
  // The first start with feedback: reviews made before it are not sent
  // (an upgrade must not replay years of verdicts to the partners).
  if (s.code() == Status::Code::kNotFound) return store_watermark();
  HS_RETURN_IF_ERROR(s);
  HS_RETURN_IF_ERROR(base::ParseUint(v, "exchange feedback watermark", 0, UINT64_MAX, &watermark));
  store::AuditQuery q;
  q.verdict = "review";
  q.after = watermark;
  q.limit = 1000;
  while (true) {
    std::vector<store::AuditEntry> reviews;
    uint64_t next = 0;
    HS_RETURN_IF_ERROR(audit.Query(q, &reviews, &next));
    for (const auto& r : reviews) {
      if (r.seq > end) break;
      store::AuditEntry target;
      Status g = audit.Get(r.target_seq, &target);
      if (g.code() == Status::Code::kNotFound) continue;  // pruned since
      HS_RETURN_IF_ERROR(g);
      size_t n = 0;
      HS_RETURN_IF_ERROR(Enqueue(r, target, &n));
      *queued += n;
    }
    if (next == 0 || next > end) break;
    q.after = next;
  }
  return store_watermark();
}

Status FeedbackQueue::Due(int64_t now_ms, size_t limit, std::vector<FeedbackItem>* out, int64_t* next_due_ms) const {
  out->clear();
  *next_due_ms = INT64_MAX;
  std::vector<std::string> keys;
  HS_RETURN_IF_ERROR(Scan(*db_, kPending, [&](const std::string&, const std::string& item_key) {
    keys.push_back(item_key);
    return true;
  }));
  for (const auto& key : keys) {
    std::string v;
    Status s = db_->Get(store::Database::kMeta, key, &v);
    if (s.code() == Status::Code::kNotFound) continue;
    HS_RETURN_IF_ERROR(s);
    FeedbackItem item;
    HS_RETURN_IF_ERROR(Decode(key, v, &item));
    if (item.state != FeedbackState::kPending) continue;
    if (item.next_attempt_ms > now_ms) {
      *next_due_ms = std::min(*next_due_ms, item.next_attempt_ms);
    } else if (out->size() < limit) {
      out->push_back(std::move(item));
    } else {
      *next_due_ms = now_ms;
    }
  }
  return Status::Ok();
}

Status FeedbackQueue::Update(const FeedbackItem& item) {
  std::lock_guard l(mu_);
  const std::string key = ItemKey(item);
  std::string v;
  HS_RETURN_IF_ERROR(db_->Get(store::Database::kMeta, key, &v));
  FeedbackItem before;
  HS_RETURN_IF_ERROR(Decode(key, v, &before));
  rocksdb::WriteBatch batch;
  HS_RETURN_IF_ERROR(Put(item, &before, &batch));
  return db_->Write(&batch, true);
}

Status FeedbackQueue::Counts(const std::string& exchange, uint64_t* pending, uint64_t* failed) const {
  *pending = *failed = 0;
  HS_RETURN_IF_ERROR(Scan(*db_, kPending + exchange + "/", [&](const std::string&, const std::string&) {
    ++*pending;
    return true;
  }));
  return Scan(*db_, kFailed + exchange + "/", [&](const std::string&, const std::string&) {
    ++*failed;
    return true;
  });
}

Status FeedbackQueue::OfTarget(const store::Database& db, uint64_t target_seq, std::vector<FeedbackItem>* out) {
  out->clear();
  Status decoded = Status::Ok();
  HS_RETURN_IF_ERROR(Scan(db, TargetPrefix(target_seq), [&](const std::string& key, const std::string& value) {
    FeedbackItem item;
    decoded = Decode(key, value, &item);
    if (!decoded.ok()) return false;
    out->push_back(std::move(item));
    return true;
  }));
  return decoded;
}

}  // namespace hsync
