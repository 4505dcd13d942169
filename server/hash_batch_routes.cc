// POST /v1/screen/hashes/batch (role ingest, with the key's hash_queries
// permission): up to limits.max_hash_batch_items hash-only screens in one
// request, answered in order (docs/api.md "Screening hash batches").
//
// Each item is screened exactly as POST /v1/screen/hashes screens it
// (server/screener.h ScreenBatchItem): the probing detector counts and
// judges every item, so a batch is no way around its budgets, and an item
// with a hit (a match, or an allow-listed near miss) or an error gets its own
// audit entry. The items the index finds nothing for share one audit entry
// (kind "batch") holding their count and the Merkle root over them
// (base/merkle.h); it is written, synced, before any verdict leaves.
#include <vector>

#include "base/hex.h"
#include "server/routes.h"
#include "server/screener.h"

namespace server {

void HandleScreenHashBatch(Service& service, const ApiRequest& request, ApiResponse* response) {
  if (!request.key.hash_queries) {
    return response->Error(403, "permission_denied",
                           "this key may not screen hashes (an admin grants it: hash_queries / --hash-queries)");
  }
  json body;
  if (Status s = ParseJsonBody(request.body, {"items"}, &body); !s.ok()) return response->FromStatus(s);
  auto items = body.find("items");
  if (items == body.end() || !items->is_array()) {
    return response->Error(400, "invalid_argument", "the body must be {\"items\": [...]}");
  }
  const size_t cap = static_cast<size_t>(service.config().max_hash_batch_items);
  if (items->empty() || items->size() > cap) {
    return response->Error(400, "invalid_argument",
                           "a batch holds 1 to " + std::to_string(cap) + " items (limits.max_hash_batch_items), not " +
                               std::to_string(items->size()));
  }
  // Every item is checked before any is screened: a malformed batch is
  // refused whole, and nothing of it is audited (nothing was screened).
  std::vector<HashQuery> queries(items->size());
  for (size_t i = 0; i < queries.size(); ++i) {
    if (Status s = ParseHashQuery((*items)[i], "items[" + std::to_string(i) + "]: ", &queries[i]); !s.ok()) {
      return response->FromStatus(s);
    }
  }

  struct Outcome {
    Status status;
    ScreenVerdict verdict;
    bool pooled = false;
  };
  std::vector<Outcome> outcomes(queries.size());
  std::vector<base::Sha256Digest> leaves;
  for (size_t i = 0; i < queries.size(); ++i) {
    Outcome& o = outcomes[i];
    o.status = ScreenBatchItem(service, request.key, queries[i], &o.verdict, &o.pooled);
    // The audit log cannot be written: no verdict may leave, for this item
    // or the pooled ones, whose entry cannot be written either.
    if (o.status.code() == Status::Code::kNoSpace || o.status.code() == Status::Code::kIOError) {
      return response->FromStatus(o.status);
    }
    if (o.pooled) leaves.push_back(base::BatchLeafHash(queries[i].Leaf()));
  }
  json out = json::object();
  std::string pooled_id;
  if (!leaves.empty()) {
    uint64_t seq = 0;
    base::Sha256Digest root{};
    if (Status s = AuditPooled(service, request.key, leaves, &seq, &root); !s.ok()) return response->FromStatus(s);
    pooled_id = std::to_string(seq);
    out["no_match_audit"] = {{"audit_id", pooled_id}, {"count", leaves.size()}, {"merkle_root", base::HexEncode(root)}};
  }
  json results = json::array();
  for (size_t i = 0; i < queries.size(); ++i) {
    const Outcome& o = outcomes[i];
    json r{{"ref", queries[i].ref}};
    if (o.pooled) {
      r["match"] = false;
      r["audit_id"] = pooled_id;
    } else if (o.status.ok()) {
      r["match"] = o.verdict.match;
      r["audit_id"] = std::to_string(o.verdict.audit_seq);
    } else {
      const bool probing = o.status.code() == Status::Code::kPermissionDenied;
      r["error"] = {{"code", probing ? std::string(kProbingSuspected) : std::string(Status::CodeName(o.status.code()))},
                    {"message", HttpStatusFor(o.status) == 500 ? "internal error" : o.status.message()}};
    }
    results.push_back(std::move(r));
  }
  out["results"] = std::move(results);
  response->Json(200, out);
}

}  // namespace server
