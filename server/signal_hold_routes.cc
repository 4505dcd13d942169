// GET /v1/holds (reviewer, admin): the suppressed and quarantined signals.
// POST /v1/holds/release (reviewer, admin): lifts one hold, audited.
// Holds name list signals, so only reviewers and admins see them; the
// ingest role never learns that a signal is held (server/screener.h).
#include <set>

#include "base/hex.h"
#include "server/routes.h"
#include "server/signal_hold_actions.h"

namespace server {

namespace {

json HoldJson(Service& service, const store::SignalHold& h) {
  store::ListInfo info;
  const bool known = service.lists()->GetList(h.list_id, &info).ok();
  return {{"list_id", h.list_id},
          {"list", known ? json(info.name) : json(nullptr)},
          {"partner", known ? json(info.owner) : json(nullptr)},
          {"signal", base::SignalTypeName(h.type)},
          {"hash", base::HexEncode(std::string_view(h.hash))},
          {"reason", store::HoldReasonName(h.reason)},
          {"time_ms", h.time_ms},
          {"by", h.by},
          {"why", h.why},
          {"source_id", h.source_seq ? json(std::to_string(h.source_seq)) : json(nullptr)}};
}

}  // namespace

void HandleHoldsList(Service& service, const ApiRequest& request, ApiResponse* response) {
  for (const auto& [name, value] : request.params) {
    if (name != "reason" && name != "list") {
      return response->Error(400, "invalid_argument", "unknown parameter " + name + " (GET /v1/holds takes reason, list)");
    }
  }
  const std::string reason = request.Param("reason");
  if (request.HasParam("reason") && reason != "suppressed" && reason != "quarantined") {
    return response->Error(400, "invalid_argument", "reason must be suppressed or quarantined");
  }
  std::optional<uint64_t> list;
  if (request.HasParam("list")) {
    uint64_t id = 0;
    if (Status s = ParseU64(request.Param("list"), "list", &id); !s.ok()) return response->FromStatus(s);
    list = id;
  }
  json holds = json::array();
  for (const store::SignalHold& h : service.holds()->List()) {
    if (!reason.empty() && reason != store::HoldReasonName(h.reason)) continue;
    if (list && *list != h.list_id) continue;
    holds.push_back(HoldJson(service, h));
  }
  response->Json(200, {{"holds", std::move(holds)}});
}

void HandleHoldRelease(Service& service, const ApiRequest& request, ApiResponse* response) {
  json body;
  std::string signal, hash_hex, note;
  int64_t list_id = 0;
  base::SignalType type = base::SignalType::kPdq;
  std::string hash;
  Status s = ParseJsonBody(request.body, {"list_id", "signal", "hash", "note"}, &body);
  if (s.ok()) s = JsonInt(body, "list_id", true, &list_id);
  if (s.ok() && list_id < 0) s = Status::InvalidArgument("list_id must not be negative");
  if (s.ok()) s = JsonString(body, "signal", true, &signal);
  if (s.ok()) s = JsonString(body, "hash", true, &hash_hex);
  if (s.ok()) s = JsonString(body, "note", false, &note);
  if (s.ok() && note.size() > 4096) s = Status::InvalidArgument("note is longer than 4096 bytes");
  if (s.ok()) s = base::ParseSignalType(signal, &type);
  if (s.ok()) {
    hash.assign(base::SignalHashBytes(type), '\0');
    if (hash_hex.size() != 2 * hash.size()) {
      s = Status::InvalidArgument("hash must be " + std::to_string(2 * hash.size()) + " hex digits for " + signal);
    } else {
      s = base::HexDecode(hash_hex, std::span<uint8_t>(reinterpret_cast<uint8_t*>(hash.data()), hash.size()));
    }
  }
  if (!s.ok()) return response->FromStatus(s);
  store::SignalHold released;
  uint64_t audit_seq = 0;
  s = ReleaseHold(service, static_cast<uint64_t>(list_id), type, hash, request.key.id, note, request.request_id,
                  &released, &audit_seq);
  if (!s.ok()) return response->FromStatus(s);
  response->Json(200, {{"released", HoldJson(service, released)}, {"audit_id", std::to_string(audit_seq)}});
}

}  // namespace server
