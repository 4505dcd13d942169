// GET /v1/keys, POST /v1/keys, GET /v1/keys/{id}, DELETE /v1/keys/{id},
// POST /v1/keys/{id}/unblock (role admin): API keys managed while the
// service runs. Changes go through store::ApiKeys, whose in-memory copy
// answers authentication, so a revocation or an unblock holds for the next
// request. Every change is an audit event (key_created, key_revoked,
// probing_block_cleared) naming the admin key that made it; a key created
// with the probing exemption says so in its event.
#include <cstdio>

#include "base/clock.h"
#include "server/log.h"
#include "server/request_id.h"
#include "server/routes.h"

namespace server {

namespace {

json MsOrNull(int64_t ms) { return ms ? json(ms) : json(nullptr); }

json KeyJson(Service& service, const store::ApiKey& k) {
  return json{{"id", k.id},
              {"role", store::RoleName(k.role)},
              {"partner", k.partner},
              {"label", k.label},
              {"created_ms", k.created_ms},
              {"expires_ms", MsOrNull(k.expires_ms)},
              {"last_used_ms", MsOrNull(k.last_used_ms)},
              {"revoked_ms", MsOrNull(k.revoked_ms)},
              {"blocked", service.probing().Blocks(k, base::NowMs())},
              {"blocked_ms", MsOrNull(k.blocked_ms)},
              {"hash_queries", k.hash_queries},
              {"probing_exempt", k.probing_exempt},
              {"rate_per_s", k.rate_per_s > 0 ? json(k.rate_per_s) : json(nullptr)}};
}

Status JsonNumber(const json& j, const char* field, double* out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_number()) return Status::InvalidArgument(std::string("field \"") + field + "\" must be a number");
  *out = it->get<double>();
  return Status::Ok();
}

// The body of POST /v1/keys. Unknown fields are refused by name: a typo in a
// permission must not silently create a key without it (or with more).
Status ParseKeySpec(const std::string& body_text, store::KeySpec* spec) {
  json body;
  HS_RETURN_IF_ERROR(ParseJsonBody(
      body_text, {"role", "partner", "label", "expires_ms", "hash_queries", "probing_exempt", "rate_per_s"}, &body));
  std::string role;
  HS_RETURN_IF_ERROR(JsonString(body, "role", true, &role));
  HS_RETURN_IF_ERROR(store::ParseRole(role, &spec->role));
  HS_RETURN_IF_ERROR(JsonString(body, "partner", false, &spec->partner));
  HS_RETURN_IF_ERROR(JsonString(body, "label", false, &spec->label));
  HS_RETURN_IF_ERROR(JsonInt(body, "expires_ms", false, &spec->expires_ms));
  HS_RETURN_IF_ERROR(JsonBool(body, "hash_queries", false, &spec->hash_queries));
  HS_RETURN_IF_ERROR(JsonBool(body, "probing_exempt", false, &spec->probing_exempt));
  HS_RETURN_IF_ERROR(JsonNumber(body, "rate_per_s", &spec->rate_per_s));
  return Status::Ok();
}

std::string Permissions(const store::ApiKey& k) {
  std::string p = "role " + std::string(store::RoleName(k.role));
  if (!k.partner.empty()) p += ", partner " + k.partner;
  if (!k.label.empty()) p += ", label \"" + k.label + "\"";
  if (k.expires_ms) p += ", expires " + base::FormatUtc(k.expires_ms);
  if (k.hash_queries) p += ", hash queries";
  if (k.probing_exempt) p += ", NO PROBING LIMIT";
  if (k.rate_per_s > 0) {
    char rate[48];
    std::snprintf(rate, sizeof rate, ", rate %g/s", k.rate_per_s);
    p += rate;
  }
  return p;
}

// Appends an event about `subject`; an audit failure is the caller's 500.
Status Audit(Service& service, const char* event, const std::string& subject, const std::string& detail) {
  store::AuditEntry e;
  Status s = service.audit()->AppendEvent(event, subject, detail, &e, std::string(CurrentRequestId()));
  if (!s.ok()) {
    Log(LogLevel::kError, "audit append failed", {{"error", s.ToString()}});
    return Status::IOError("the audit entry could not be written");
  }
  service.metrics().CountEvent(event);
  return Status::Ok();
}

}  // namespace

void HandleKeysList(Service& service, const ApiRequest&, ApiResponse* response) {
  std::vector<store::ApiKey> keys;
  if (Status s = service.keys()->List(&keys); !s.ok()) return response->FromStatus(s);
  json list = json::array();
  for (const auto& k : keys) list.push_back(KeyJson(service, k));
  response->Json(200, json{{"keys", std::move(list)}});
}

void HandleKeysCreate(Service& service, const ApiRequest& request, ApiResponse* response) {
  store::KeySpec spec;
  store::ApiKey key;
  std::string secret;
  Status s = ParseKeySpec(request.body, &spec);
  if (s.ok()) s = service.keys()->Create(spec, &key, &secret);
  if (!s.ok()) return response->FromStatus(s);
  // A key whose creation is not in the audit log must not exist: an exempt
  // key especially. If the event cannot be written, the key is revoked again.
  s = Audit(service, "key_created", key.id, Permissions(key) + "; by admin key " + request.key.id);
  if (!s.ok()) {
    if (Status r = service.keys()->Revoke(key.id); !r.ok()) {
      Log(LogLevel::kError, "revoking an unaudited key failed", {{"key", key.id}, {"error", r.ToString()}});
    }
    return response->FromStatus(s);
  }
  if (key.rate_per_s > 0) service.limiter().SetKeyRate(key.id, key.rate_per_s);
  json j = KeyJson(service, key);
  j["secret"] = secret;
  response->Json(201, j);
}

void HandleKeyShow(Service& service, const ApiRequest& request, ApiResponse* response) {
  store::ApiKey key;
  if (Status s = service.keys()->Get(request.path_args.at(0), &key); !s.ok()) return response->FromStatus(s);
  response->Json(200, KeyJson(service, key));
}

void HandleKeyRevoke(Service& service, const ApiRequest& request, ApiResponse* response) {
  store::ApiKey before, key;
  Status s = service.keys()->Get(request.path_args.at(0), &before);
  if (s.ok()) s = service.keys()->Revoke(before.id, &key);
  if (s.ok() && !before.revoked()) s = Audit(service, "key_revoked", key.id, "by admin key " + request.key.id);
  if (!s.ok()) return response->FromStatus(s);
  response->Json(200, KeyJson(service, key));
}

void HandleKeyUnblock(Service& service, const ApiRequest& request, ApiResponse* response) {
  store::ApiKey key;
  Status s = service.keys()->Get(request.path_args.at(0), &key);
  const bool was_blocked = s.ok() && key.blocked_ms != 0;
  if (s.ok()) s = service.keys()->SetBlocked(key.id, 0);
  if (s.ok()) {
    service.probing().Forget(key.id);
    if (was_blocked) s = Audit(service, "probing_block_cleared", key.id, "by admin key " + request.key.id);
  }
  if (s.ok()) s = service.keys()->Get(key.id, &key);
  if (!s.ok()) return response->FromStatus(s);
  response->Json(200, KeyJson(service, key));
}

}  // namespace server
