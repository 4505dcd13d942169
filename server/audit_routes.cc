// GET /v1/audit, GET /v1/audit/{id}, POST /v1/audit/{id}/review (reviewer),
// GET /v1/audit/verify[?checkpoint=...], GET /v1/audit/checkpoint (admin),
// POST /v1/audit/forward (replica: a follower's entries kept on its primary).
// Reviewers see every detail of an entry, and which instance wrote it.
#include <set>

#include "base/hex.h"
#include "base/number_parse.h"
#include "base/query_variant.h"
#include "server/routes.h"
#include "server/signal_hold_actions.h"
#include "sync/exchange/feedback_queue.h"

namespace server {

namespace {

std::string Hex(const std::string& bytes) { return base::HexEncode(std::string_view(bytes)); }

json EntryJson(const store::AuditEntry& e, const std::string& own_instance);

// A forwarded entry reads as its origin (kind, fields, time, key, request id,
// all as the instance recorded them) with the instance and its seq there;
// the chain fields (id, seq, prev_hash, entry_hash, hmac) are this log's, and
// the origin's own links are under instance_chain.
json ForwardedJson(const store::AuditEntry& e) {
  const store::AuditEntry& o = *e.origin;
  json j = EntryJson(o, e.instance);
  j["instance_seq"] = o.seq;
  j["instance_chain"] = {{"prev_hash", base::HexEncode(o.prev_hash)}, {"entry_hash", base::HexEncode(o.entry_hash)}};
  if (!o.hmac.empty()) j["instance_chain"]["hmac"] = Hex(o.hmac);
  j["id"] = std::to_string(e.seq);
  j["seq"] = e.seq;
  j["prev_hash"] = base::HexEncode(e.prev_hash);
  j["entry_hash"] = base::HexEncode(e.entry_hash);
  j.erase("hmac");
  if (!e.hmac.empty()) j["hmac"] = Hex(e.hmac);
  j["forwarded"] = {{"time_ms", e.time_ms}, {"key_id", e.key_id}};
  if (!e.request_id.empty()) j["forwarded"]["request_id"] = e.request_id;
  return j;
}

json EntryJson(const store::AuditEntry& e, const std::string& own_instance) {
  if (e.origin) return ForwardedJson(e);
  json j{{"id", std::to_string(e.seq)},
         {"seq", e.seq},
         {"time_ms", e.time_ms},
         {"key_id", e.key_id},
         {"prev_hash", base::HexEncode(e.prev_hash)},
         {"entry_hash", base::HexEncode(e.entry_hash)},
         {"instance", own_instance}};
  if (!e.request_id.empty()) j["request_id"] = e.request_id;
  if (!e.hmac.empty()) {
    j["hmac"] = base::HexEncode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(e.hmac.data()), e.hmac.size()));
  }
  if (e.kind == store::AuditEntry::Kind::kEvent) {
    j["kind"] = "event";
    j["event"] = e.event;
    j["detail"] = e.detail;
    return j;
  }
  if (e.kind == store::AuditEntry::Kind::kReview) {
    j["kind"] = "review";
    j["target_id"] = std::to_string(e.target_seq);
    j["disposition"] = e.disposition;
    j["note"] = e.note;
    j["report_id"] = e.report_id.empty() ? json(nullptr) : json(e.report_id);
    return j;
  }
  if (e.kind == store::AuditEntry::Kind::kBatch) {
    j["kind"] = "batch";
    j["source"] = e.source;
    j["verdict"] = e.verdict;
    j["count"] = e.batch_count;
    j["merkle_root"] = base::HexEncode(e.merkle_root);
    return j;
  }
  j["kind"] = "screen";
  j["source"] = e.source;
  j["ref"] = e.caller_ref;
  j["verdict"] = e.verdict;
  if (!e.error_code.empty()) j["error"] = e.error_code;
  json q = json::object();
  if (!e.pdq_hex.empty()) {
    q["pdq"] = e.pdq_hex;
    q["pdq_used"] = e.pdq_used;
  }
  if (e.quality >= 0) q["quality"] = e.quality;
  if (!e.md5_hex.empty()) q["md5"] = e.md5_hex;
  if (!e.sha256_hex.empty()) q["sha256"] = e.sha256_hex;
  j["query"] = std::move(q);
  j["image"] = {{"format", e.format}, {"width", e.width}, {"height", e.height}, {"bytes", e.size_bytes}};
  json hits = json::array();
  for (const auto& h : e.hits) {
    hits.push_back({{"list_id", h.list_id},
                    {"list", h.list_name},
                    {"partner", h.partner},
                    {"partner_ref", h.partner_ref},
                    {"list_kind", h.list_kind},
                    {"signal", h.signal},
                    {"hash", h.hash_hex},
                    {"distance", h.distance},
                    {"variant", h.variant},
                    {"variant_name", base::QueryVariantName(h.variant)},
                    {"tags", h.tags},
                    {"first_seen_ms", h.first_seen_ms}});
  }
  j["hits"] = std::move(hits);
  return j;
}

// A review as the review history and the `review` field show it.
json ReviewJson(const store::AuditEntry& r) {
  return {{"id", std::to_string(r.seq)},
          {"time_ms", r.time_ms},
          {"key_id", r.key_id},
          {"disposition", r.disposition},
          {"note", r.note},
          {"report_id", r.report_id.empty() ? json(nullptr) : json(r.report_id)},
          {"request_id", r.request_id.empty() ? json(nullptr) : json(r.request_id)}};
}

// An entry with, for a screen, its current disposition and latest review.
Status EntryWithDisposition(Service& service, const store::AuditEntry& e, json* out) {
  *out = EntryJson(e, service.db()->instance_id());
  if (e.effective().kind != store::AuditEntry::Kind::kScreen) return Status::Ok();
  store::AuditEntry review;
  bool found = false;
  HS_RETURN_IF_ERROR(service.audit()->CurrentReview(e.seq, &review, &found));
  if (!found) {
    (*out)["disposition"] = nullptr;
    (*out)["review"] = nullptr;
    return Status::Ok();
  }
  (*out)["disposition"] = review.disposition;
  json r = ReviewJson(review);
  r.erase("request_id");
  (*out)["review"] = std::move(r);
  return Status::Ok();
}

// A time in ms since the epoch: 0..INT64_MAX, never clamped or wrapped.
Status ParseTimeParam(const ApiRequest& r, const char* name, std::optional<int64_t>* out) {
  if (!r.HasParam(name)) return Status::Ok();
  uint64_t v = 0;
  HS_RETURN_IF_ERROR(base::ParseUint(r.Param(name), name, 0, INT64_MAX, &v));
  *out = static_cast<int64_t>(v);
  return Status::Ok();
}

}  // namespace

void HandleAuditList(Service& service, const ApiRequest& request, ApiResponse* response) {
  static const std::set<std::string> kParams = {"verdict", "list",  "partner", "disposition", "instance", "since",
                                                "until",   "order", "limit",   "cursor",      "after"};
  for (const auto& [name, value] : request.params) {
    if (!kParams.contains(name)) {
      return response->Error(400, "invalid_argument", "unknown parameter " + name + " (GET /v1/audit takes " +
                                                          "verdict, list, partner, disposition, instance, since, until, order, limit, cursor)");
    }
  }
  store::AuditQuery q;
  uint64_t limit = 100;
  Status s;
  const std::string order = request.HasParam("order") ? request.Param("order") : "oldest";
  if (order != "oldest" && order != "newest") s = Status::InvalidArgument("order must be oldest or newest");
  q.newest_first = order == "newest";
  // A cursor is a seq of the log: beyond the newest entry is out of range.
  const uint64_t last = service.audit()->last_seq();
  if (s.ok() && request.HasParam("after") && request.HasParam("cursor")) {
    s = Status::InvalidArgument("give cursor or after, not both");
  }
  if (s.ok() && request.HasParam("after")) {
    if (q.newest_first) s = Status::InvalidArgument("after is for order=oldest; page with cursor");
    if (s.ok()) s = base::ParseUint(request.Param("after"), "after", 0, last, &q.after);
  }
  if (s.ok() && request.HasParam("cursor")) {
    if (!base::ParseUint(request.Param("cursor"), "cursor", 1, last, &q.after).ok()) {
      s = Status::InvalidArgument("cursor is not a cursor of this log (pass the `next` of the previous page)");
    }
  }
  if (s.ok() && request.HasParam("limit")) s = base::ParseUint(request.Param("limit"), "limit", 1, 1000, &limit);
  q.limit = limit;
  q.verdict = request.Param("verdict");
  if (s.ok() && request.HasParam("verdict") && q.verdict != "match" && q.verdict != "no_match" && q.verdict != "error" &&
      q.verdict != "review" && q.verdict != "event" && q.verdict != "batch") {
    s = Status::InvalidArgument("verdict must be match, no_match, error, review, event or batch");
  }
  q.disposition = request.Param("disposition");
  if (s.ok() && request.HasParam("disposition") && q.disposition != "unreviewed" && q.disposition != "confirmed" &&
      q.disposition != "false_positive" && q.disposition != "escalated" && q.disposition != "reported") {
    s = Status::InvalidArgument("disposition must be unreviewed, confirmed, false_positive, escalated or reported");
  }
  if (s.ok() && request.HasParam("partner")) {
    q.partner = request.Param("partner");
    if (q.partner.empty()) s = Status::InvalidArgument("partner must not be empty");
  }
  if (s.ok() && request.HasParam("list")) {
    uint64_t list = 0;
    s = ParseU64(request.Param("list"), "list", &list);
    q.list_id = list;
  }
  if (s.ok()) s = ParseTimeParam(request, "since", &q.since_ms);
  if (s.ok()) s = ParseTimeParam(request, "until", &q.until_ms);
  bool unknown_instance = false;
  if (s.ok() && request.HasParam("instance")) {
    std::string id;
    Status found = service.audit()->ResolveInstance(request.Param("instance"), &id);
    // An instance the log holds nothing of has no entries: an empty answer.
    if (found.code() == Status::Code::kNotFound) {
      unknown_instance = true;
    } else {
      s = found;
    }
    q.instance = id;
  }
  if (!s.ok()) return response->FromStatus(s);
  std::vector<store::AuditEntry> entries;
  uint64_t next = 0;
  if (!unknown_instance) s = service.audit()->Query(q, &entries, &next);
  if (!s.ok()) return response->FromStatus(s);
  json list = json::array();
  for (const auto& e : entries) {
    json j;
    if (s = EntryWithDisposition(service, e, &j); !s.ok()) return response->FromStatus(s);
    list.push_back(std::move(j));
  }
  json out{{"entries", std::move(list)}};
  out["next"] = next ? json(std::to_string(next)) : json(nullptr);
  response->Json(200, out);
}

void HandleAuditShow(Service& service, const ApiRequest& request, ApiResponse* response) {
  uint64_t seq = 0;
  Status s = ParseU64(request.path_args.at(0), "id", &seq);
  store::AuditEntry e;
  if (s.ok()) s = service.audit()->Get(seq, &e);
  if (s.code() == Status::Code::kNotFound && service.audit()->Pruned(seq)) return response->Error(404, "pruned", s.message());
  std::vector<store::AuditEntry> reviews;
  if (s.ok()) s = service.audit()->ReviewsOf(seq, &reviews);
  json j;
  if (s.ok()) s = EntryWithDisposition(service, e, &j);
  if (!s.ok()) return response->FromStatus(s);
  json rs = json::array();
  for (const auto& r : reviews) rs.push_back(ReviewJson(r));
  j["reviews"] = std::move(rs);
  // The partner feedback the reviews of this entry queued (sync/exchange/feedback_queue.h).
  std::vector<hsync::FeedbackItem> feedback;
  if (s = hsync::FeedbackQueue::OfTarget(*service.db(), seq, &feedback); !s.ok()) return response->FromStatus(s);
  json fb = json::array();
  for (const auto& f : feedback) {
    fb.push_back({{"exchange", f.exchange},
                  {"review_id", std::to_string(f.review_seq)},
                  {"hit", f.hit},
                  {"partner_ref", f.partner_ref},
                  {"verdict", f.positive ? "positive" : "negative"},
                  {"state", hsync::FeedbackStateName(f.state)},
                  {"attempts", f.attempts},
                  {"last_error", f.last_error.empty() ? json(nullptr) : json(f.last_error)},
                  {"delivered_ms", f.delivered_ms > 0 ? json(f.delivered_ms) : json(nullptr)}});
  }
  j["feedback"] = std::move(fb);
  response->Json(200, j);
}

void HandleAuditReview(Service& service, const ApiRequest& request, ApiResponse* response) {
  uint64_t seq = 0;
  json body;
  store::ReviewInput input;
  Status s = ParseU64(request.path_args.at(0), "id", &seq);
  if (s.ok()) s = ParseJsonBody(request.body, {"disposition", "note", "report_id"}, &body);
  if (s.ok()) s = JsonString(body, "disposition", true, &input.disposition);
  if (s.ok()) s = JsonString(body, "note", false, &input.note);
  if (s.ok()) s = JsonString(body, "report_id", false, &input.report_id);
  if (s.ok() && body.contains("report_id") && input.report_id.empty()) {
    s = Status::InvalidArgument("report_id must be 1-64 printable ASCII characters");
  }
  store::AuditEntry review;
  bool note_required = false;
  if (s.ok()) s = service.audit()->AppendReview(seq, input, request.key.id, &review, request.request_id, &note_required);
  if (note_required) return response->Error(400, "note_required", s.message());
  if (s.code() == Status::Code::kNotFound && service.audit()->Pruned(seq)) return response->Error(404, "pruned", s.message());
  if (!s.ok()) return response->FromStatus(s);
  // A false_positive suppresses the match's signals at once; another
  // disposition lifts what an earlier false_positive of the entry held; a
  // confirmed or reported one also exempts the entry's signals from flood
  // quarantine for good (server/signal_hold_actions.h).
  store::AuditEntry target;  // read once, for the holds and the feedback
  if (s = service.audit()->Get(review.target_seq, &target); !s.ok()) {
    return response->FromStatus(s.WithContext("the review was recorded, but its entry could not be read again"));
  }
  HoldChanges holds;
  if (s = UpdateHoldsForReview(service, review, target, &holds); !s.ok()) {
    return response->FromStatus(s.WithContext("the review was recorded, but its signal holds were not"));
  }
  // A match from an exchange's list: the verdict is queued as that
  // partner's feedback (a failure here is re-derived at the next start).
  if (hsync::ExchangeManager* m = service.exchanges()) {
    if (s = m->QueueFeedback(review, target); !s.ok()) {
      return response->FromStatus(s.WithContext("the review was recorded, but its partner feedback was not queued"));
    }
  }
  // The review as the history shows it, with its chain fields and target_id.
  json j = EntryJson(review, service.db()->instance_id());
  j["signal_holds"] = {{"held", holds.held}, {"released", holds.released}};
  j["request_id"] = review.request_id.empty() ? json(nullptr) : json(review.request_id);
  response->Json(201, j);
}

void HandleAuditVerify(Service& service, const ApiRequest& request, ApiResponse* response) {
  std::optional<store::AuditCheckpoint> checkpoint;
  if (request.HasParam("checkpoint")) {
    store::AuditCheckpoint cp;
    if (Status s = store::AuditCheckpoint::Parse(request.Param("checkpoint"), &cp); !s.ok()) return response->FromStatus(s);
    checkpoint = cp;
  }
  const store::AuditVerifyResult r = checkpoint ? service.audit()->Verify(*checkpoint) : service.audit()->Verify();
  json j{{"ok", r.ok},
         {"result", store::AuditVerifyResult::OutcomeName(r.outcome)},
         {"entries", r.entries},
         {"head", base::HexEncode(r.head)},
         {"head_authenticated", r.head_authenticated},
         {"hmac_key", service.audit()->keyed()},
         // Retention: the walk starts after this entry (0: the genesis); stubs are pruned no-match records.
         {"base", {{"id", std::to_string(r.base_seq)}, {"authenticated", r.base_authenticated}, {"stubs", r.stubs}}}};
  if (checkpoint) j["checkpoint"] = {{"id", std::to_string(checkpoint->seq)}, {"held", r.checkpoint_checked}};
  // Every chain the log holds: its own, then each forwarding instance's.
  json instances = json::array();
  instances.push_back({{"instance", service.db()->instance_id()},
                       {"role", "own"},
                       {"entries", r.entries},
                       {"head", base::HexEncode(r.head)},
                       {"ok", r.ok}});
  for (const auto& c : r.forwarded) {
    instances.push_back({{"instance", c.instance},
                         {"role", "forwarded"},
                         {"entries", c.entries},
                         {"last_seq", c.last_seq},
                         {"head", base::HexEncode(c.last_hash)},
                         {"ok", c.ok}});
  }
  j["instances"] = std::move(instances);
  if (r.outcome == store::AuditVerifyResult::Outcome::kFailed) j["first_bad_id"] = std::to_string(r.first_bad_seq);
  if (!r.ok) j["problem"] = r.problem;
  response->Json(200, j);
}

void HandleAuditForward(Service& service, const ApiRequest& request, ApiResponse* response) {
  json body;
  std::string instance;
  std::vector<std::string> stored;
  Status s = ParseJsonBody(request.body, {"instance", "entries"}, &body);
  if (s.ok()) s = JsonString(body, "instance", true, &instance);
  if (s.ok() && (!body.contains("entries") || !body["entries"].is_array())) {
    s = Status::InvalidArgument("entries must be an array of hex strings");
  }
  if (s.ok() && body["entries"].size() > store::AuditLog::kMaxForwardEntries) {
    s = Status::InvalidArgument("at most " + std::to_string(store::AuditLog::kMaxForwardEntries) + " entries per forward");
  }
  for (size_t i = 0; s.ok() && i < body["entries"].size(); ++i) {
    const json& v = body["entries"][i];
    const std::string where = "entries[" + std::to_string(i) + "]";
    if (!v.is_string() || v.get_ref<const std::string&>().size() % 2 != 0) {
      s = Status::InvalidArgument(where + " is not a hex string");
      break;
    }
    const std::string& hex = v.get_ref<const std::string&>();
    std::string bytes(hex.size() / 2, '\0');
    s = base::HexDecode(hex, std::span<uint8_t>(reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()));
    if (!s.ok()) s = Status::InvalidArgument(where + ": " + s.message());
    stored.push_back(std::move(bytes));
  }
  store::ForwardResult result;
  if (s.ok()) s = service.audit()->AppendForwarded(instance, stored, request.key.id, request.request_id, &result);
  if (s.code() == Status::Code::kAlreadyExists) return response->Error(409, "forward_conflict", s.message());
  if (s.code() == Status::Code::kCorruption) return response->Error(422, "forward_rejected", s.message());
  if (!s.ok()) return response->FromStatus(s);
  response->Json(200, {{"instance", instance},
                       {"last_seq", result.last_seq},
                       {"stored", result.stored},
                       {"skipped", result.skipped}});
}

void HandleAuditCheckpoint(Service& service, const ApiRequest&, ApiResponse* response) {
  const store::AuditCheckpoint cp = service.audit()->Checkpoint();
  json j{{"checkpoint", cp.ToString()},
         {"id", std::to_string(cp.seq)},
         {"hash", base::HexEncode(cp.hash)},
         {"instance_id", cp.instance_id},
         {"mac", cp.mac.empty() ? json(nullptr) : json(Hex(cp.mac))}};
  if (cp.mac.empty()) {
    j["note"] = "no audit HMAC key is configured (audit.hmac_key_file): the checkpoint carries no MAC";
  }
  response->Json(200, j);
}

}  // namespace server
