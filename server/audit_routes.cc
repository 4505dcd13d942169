// GET /v1/audit, GET /v1/audit/{id}, POST /v1/audit/{id}/review (reviewer),
// GET /v1/audit/verify (admin). Reviewers see every detail of an entry.
#include "base/hex.h"
#include "base/query_variant.h"
#include "server/routes.h"

namespace server {

namespace {

json EntryJson(const store::AuditEntry& e) {
  json j{{"id", std::to_string(e.seq)},
         {"seq", e.seq},
         {"time_ms", e.time_ms},
         {"key_id", e.key_id},
         {"prev_hash", base::HexEncode(e.prev_hash)},
         {"entry_hash", base::HexEncode(e.entry_hash)}};
  if (!e.hmac.empty()) {
    j["hmac"] = base::HexEncode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(e.hmac.data()), e.hmac.size()));
  }
  if (e.kind == store::AuditEntry::Kind::kReview) {
    j["kind"] = "review";
    j["target_id"] = std::to_string(e.target_seq);
    j["disposition"] = e.disposition;
    j["note"] = e.note;
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
                    {"variant_name", base::QueryVariantName(h.variant)}});
  }
  j["hits"] = std::move(hits);
  return j;
}

Status ParseI64Param(const ApiRequest& r, const char* name, std::optional<int64_t>* out) {
  if (!r.HasParam(name)) return Status::Ok();
  uint64_t v = 0;
  HS_RETURN_IF_ERROR(ParseU64(r.Param(name), name, &v));
  *out = static_cast<int64_t>(std::min<uint64_t>(v, INT64_MAX));
  return Status::Ok();
}

}  // namespace

void HandleAuditList(Service& service, const ApiRequest& request, ApiResponse* response) {
  store::AuditQuery q;
  uint64_t limit = 100;
  Status s;
  if (request.HasParam("after")) s = ParseU64(request.Param("after"), "after", &q.after);
  if (s.ok() && request.HasParam("limit")) s = ParseU64(request.Param("limit"), "limit", &limit);
  if (s.ok() && (limit == 0 || limit > 1000)) s = Status::InvalidArgument("limit must be 1..1000");
  q.limit = limit;
  q.verdict = request.Param("verdict");
  if (s.ok() && !q.verdict.empty() && q.verdict != "match" && q.verdict != "no_match" && q.verdict != "error" &&
      q.verdict != "review") {
    s = Status::InvalidArgument("verdict must be match, no_match, error or review");
  }
  if (s.ok() && request.HasParam("list")) {
    uint64_t list = 0;
    s = ParseU64(request.Param("list"), "list", &list);
    q.list_id = list;
  }
  if (s.ok()) s = ParseI64Param(request, "since", &q.since_ms);
  if (s.ok()) s = ParseI64Param(request, "until", &q.until_ms);
  if (!s.ok()) return response->FromStatus(s);
  std::vector<store::AuditEntry> entries;
  uint64_t next = 0;
  s = service.audit()->Query(q, &entries, &next);
  if (!s.ok()) return response->FromStatus(s);
  json list = json::array();
  for (const auto& e : entries) list.push_back(EntryJson(e));
  json out{{"entries", std::move(list)}};
  out["next"] = next ? json(std::to_string(next)) : json(nullptr);
  response->Json(200, out);
}

void HandleAuditShow(Service& service, const ApiRequest& request, ApiResponse* response) {
  uint64_t seq = 0;
  Status s = ParseU64(request.path_args.at(0), "id", &seq);
  store::AuditEntry e;
  if (s.ok()) s = service.audit()->Get(seq, &e);
  std::vector<store::AuditEntry> reviews;
  if (s.ok()) s = service.audit()->ReviewsOf(seq, &reviews);
  if (!s.ok()) return response->FromStatus(s);
  json j = EntryJson(e);
  json rs = json::array();
  for (const auto& r : reviews) rs.push_back(EntryJson(r));
  j["reviews"] = std::move(rs);
  response->Json(200, j);
}

void HandleAuditReview(Service& service, const ApiRequest& request, ApiResponse* response) {
  uint64_t seq = 0;
  json body;
  std::string disposition, note;
  Status s = ParseU64(request.path_args.at(0), "id", &seq);
  if (s.ok()) s = ParseJsonBody(request.body, &body);
  if (s.ok()) s = JsonString(body, "disposition", true, &disposition);
  if (s.ok()) s = JsonString(body, "note", false, &note);
  store::AuditEntry review;
  if (s.ok()) s = service.audit()->AppendReview(seq, disposition, note, request.key.id, &review);
  if (!s.ok()) return response->FromStatus(s);
  response->Json(201, EntryJson(review));
}

void HandleAuditVerify(Service& service, const ApiRequest&, ApiResponse* response) {
  store::AuditVerifyResult r = service.audit()->Verify();
  json j{{"ok", r.ok}, {"entries", r.entries}, {"head", base::HexEncode(r.head)}};
  if (!r.ok) {
    j["first_bad_id"] = std::to_string(r.first_bad_seq);
    j["problem"] = r.problem;
  }
  response->Json(200, j);
}

}  // namespace server
