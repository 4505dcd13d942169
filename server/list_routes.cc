// /v1/lists, /v1/lists/{id}, /v1/lists/{id}/batches, /v1/lists/{id}/changes.
// A partner sees and changes only its own lists; another partner's list is
// answered exactly like a list that does not exist (404).
#include "base/hex.h"
#include "base/number_parse.h"
#include "server/routes.h"

namespace server {

json ListJson(const store::ListInfo& l) {
  return json{{"id", l.id},
              {"name", l.name},
              {"owner", l.owner},
              {"kind", base::ListKindName(l.kind)},
              {"pdq_threshold", l.pdq_threshold},
              {"enabled", l.enabled},
              {"last_seq", l.last_seq},
              {"signal_count", l.signal_count},
              {"created_ms", l.created_ms}};
}

namespace {

bool Visible(const ApiRequest& r, const store::ListInfo& l) {
  return r.key.role == store::Role::kAdmin || r.key.role == store::Role::kReplica ||
         (r.key.role == store::Role::kPartner && l.owner == r.key.partner);
}

// The list named by the path, if the caller may see it; else NotFound.
Status FindList(Service& service, const ApiRequest& r, store::ListInfo* out) {
  uint64_t id = 0;
  HS_RETURN_IF_ERROR(ParseU64(r.path_args.at(0), "id", &id));
  Status s = service.lists()->GetList(id, out);
  if (s.code() == Status::Code::kNotFound || (s.ok() && !Visible(r, *out))) {
    return Status::NotFound("no list " + std::to_string(id));
  }
  return s;
}

Status ParseEntries(const json& body, const char* field, std::vector<base::SignalEntry>* out) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return Status::Ok();
  if (!it->is_array()) return Status::InvalidArgument(std::string("field \"") + field + "\" must be an array");
  size_t i = 0;
  for (const auto& e : *it) {
    std::string where = std::string(field) + "[" + std::to_string(i++) + "]";
    if (!e.is_object()) return Status::InvalidArgument(where + ": must be an object");
    HS_RETURN_IF_ERROR(RefuseUnknownFields(e, {"type", "hash", "ref"}, where + ": "));
    std::string type, hash, ref;
    HS_RETURN_IF_ERROR(JsonString(e, "type", true, &type).WithContext(where));
    HS_RETURN_IF_ERROR(JsonString(e, "hash", true, &hash).WithContext(where));
    HS_RETURN_IF_ERROR(JsonString(e, "ref", false, &ref).WithContext(where));
    base::SignalEntry entry;
    HS_RETURN_IF_ERROR(base::ParseSignal(type, hash, ref, &entry).WithContext(where));
    out->push_back(std::move(entry));
  }
  return Status::Ok();
}

}  // namespace

void HandleListsGet(Service& service, const ApiRequest& request, ApiResponse* response) {
  json lists = json::array();
  for (const auto& l : service.lists()->Lists()) {
    if (Visible(request, l)) lists.push_back(ListJson(l));
  }
  response->Json(200, json{{"lists", std::move(lists)}});
}

void HandleListsCreate(Service& service, const ApiRequest& request, ApiResponse* response) {
  json body;
  store::ListSpec spec;
  std::string kind = "block";
  int64_t threshold = base::kDefaultPdqThreshold;
  Status s = ParseJsonBody(request.body, {"name", "kind", "pdq_threshold", "owner"}, &body);
  if (s.ok()) s = JsonString(body, "name", true, &spec.name);
  if (s.ok()) s = JsonString(body, "kind", false, &kind);
  if (s.ok()) s = base::ParseListKind(kind, &spec.kind);
  if (s.ok()) s = JsonInt(body, "pdq_threshold", false, &threshold);
  if (s.ok() && (threshold < 0 || threshold > base::kMaxPdqThreshold)) {
    s = Status::InvalidArgument("pdq_threshold must be 0.." + std::to_string(base::kMaxPdqThreshold));
  }
  spec.pdq_threshold = static_cast<int>(threshold);
  if (s.ok()) {
    if (request.key.role == store::Role::kPartner) {
      spec.owner = request.key.partner;
      std::string owner;
      s = JsonString(body, "owner", false, &owner);
      if (s.ok() && !owner.empty() && owner != spec.owner) {
        s = Status::InvalidArgument("a partner key creates lists for its own partner only");
      }
    } else {
      // An admin creates lists of the operator (whose allow lists apply
      // across partners, server/verdict_policy.h) unless it names a partner.
      spec.owner = std::string(store::kOperatorOwner);
      s = JsonString(body, "owner", false, &spec.owner);
      if (s.ok() && spec.owner != store::kOperatorOwner) s = store::ValidatePartnerName(spec.owner).WithContext("owner");
    }
  }
  store::ListInfo info;
  if (s.ok()) s = service.lists()->CreateList(spec, &info);
  if (!s.ok()) return response->FromStatus(s);
  response->Json(201, ListJson(info));
}

void HandleListShow(Service& service, const ApiRequest& request, ApiResponse* response) {
  store::ListInfo info;
  if (Status s = FindList(service, request, &info); !s.ok()) return response->FromStatus(s);
  response->Json(200, ListJson(info));
}

void HandleListUpdate(Service& service, const ApiRequest& request, ApiResponse* response) {
  store::ListInfo info;
  json body;
  Status s = FindList(service, request, &info);
  if (s.ok()) s = ParseJsonBody(request.body, {"name", "enabled", "pdq_threshold"}, &body);
  std::optional<std::string> name;
  std::optional<bool> enabled;
  std::optional<int> threshold;
  if (s.ok() && body.contains("name")) {
    std::string v;
    s = JsonString(body, "name", true, &v);
    name = v;
  }
  if (s.ok() && body.contains("enabled")) {
    bool v = true;
    s = JsonBool(body, "enabled", true, &v);
    enabled = v;
  }
  if (s.ok() && body.contains("pdq_threshold")) {
    int64_t v = 0;
    s = JsonInt(body, "pdq_threshold", true, &v);
    if (s.ok() && (v < 0 || v > base::kMaxPdqThreshold)) s = Status::InvalidArgument("pdq_threshold must be 0..63");
    threshold = static_cast<int>(v);
  }
  if (s.ok()) s = service.lists()->UpdateList(info.id, name, enabled, threshold);
  if (s.ok()) s = service.lists()->GetList(info.id, &info);
  if (!s.ok()) return response->FromStatus(s);
  response->Json(200, ListJson(info));
}

void HandleListBatch(Service& service, const ApiRequest& request, ApiResponse* response) {
  store::ListInfo info;
  json body;
  store::BatchRequest batch;
  Status s = FindList(service, request, &info);
  // An admin fills the operator's lists only; a partner's list is the partner's.
  if (s.ok() && request.key.role == store::Role::kAdmin && info.owner != store::kOperatorOwner) {
    s = Status::PermissionDenied("an admin key changes the operator's lists only (owner " +
                                 std::string(store::kOperatorOwner) + ")");
  }
  if (s.ok()) s = ParseJsonBody(request.body, {"batch_id", "add", "remove"}, &body);
  if (s.ok()) s = JsonString(body, "batch_id", true, &batch.batch_id);
  if (s.ok()) s = ParseEntries(body, "add", &batch.add);
  if (s.ok()) s = ParseEntries(body, "remove", &batch.remove);
  store::BatchResult result;
  if (s.ok()) s = service.lists()->ApplyBatch(info.id, batch, &result);
  // The one AlreadyExists of ApplyBatch: the id was used for other content.
  if (s.code() == Status::Code::kAlreadyExists) return response->Error(409, "batch_id_reused", s.message());
  if (!s.ok()) return response->FromStatus(s);
  json answer{{"seq", result.seq},
              {"added", result.added},
              {"removed", result.removed},
              {"already_present", result.already_present},
              {"not_found", result.not_found},
              {"replayed", result.replayed}};
  if (result.replayed) answer["content_verified"] = result.content_verified;
  response->Json(200, answer);
}

void HandleListChanges(Service& service, const ApiRequest& request, ApiResponse* response) {
  store::ListInfo info;
  uint64_t after = 0, limit = 1000;
  Status s = FindList(service, request, &info);
  // A cursor is a seq of the list's feed: beyond its newest change is out of range.
  if (s.ok() && request.HasParam("after")) s = base::ParseUint(request.Param("after"), "after", 0, info.last_seq, &after);
  if (s.ok() && request.HasParam("limit")) s = base::ParseUint(request.Param("limit"), "limit", 1, 10000, &limit);
  std::vector<store::Change> changes;
  uint64_t next = 0;
  if (s.ok()) s = service.lists()->Changes(info.id, after, limit, &changes, &next);
  if (!s.ok()) return response->FromStatus(s);
  json list = json::array();
  for (const auto& c : changes) {
    list.push_back({{"seq", c.seq},
                    {"op", c.add ? "add" : "remove"},
                    {"type", base::SignalTypeName(c.type)},
                    {"hash", base::HexEncode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(c.hash.data()),
                                                                         c.hash.size()))},
                    {"ref", c.ref},
                    {"time_ms", c.time_ms}});
  }
  response->Json(200, json{{"changes", std::move(list)}, {"next", next}});
}

}  // namespace server
