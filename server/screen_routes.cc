// POST /v1/screen, /v1/screen/batch, /v1/screen/hashes (role ingest; hashes
// also needs the key's hash_queries permission).
// The ingest role learns the verdict and the audit id, nothing else: no list,
// partner, distance or hash, in bodies, errors or headers.
#include "server/http/media_type.h"
#include "server/routes.h"
#include "server/screener.h"

namespace server {

namespace {

std::string AuditId(uint64_t seq) { return std::to_string(seq); }

json VerdictJson(const ScreenVerdict& v) { return json{{"match", v.match}, {"audit_id", AuditId(v.audit_seq)}}; }

// Media types are case-insensitive: `Image/PNG` is image/png. An absent
// type is accepted (the bytes are sniffed); a malformed one is not.
bool IsImageContentType(const std::string& content_type) {
  if (http::TrimSpace(content_type).empty()) return true;
  http::MediaType t;
  if (!http::ParseMediaType(content_type, &t).ok()) return false;
  return t.type == "image" || t.Essence() == "application/octet-stream";
}

bool IsMultipartFormData(const std::string& content_type) {
  http::MediaType t;
  return http::ParseMediaType(content_type, &t).ok() && t.Essence() == "multipart/form-data";
}

// A screen fails PermissionDenied only when the probing detector refused it.
std::string ErrorCode(const Status& s) {
  return s.code() == Status::Code::kPermissionDenied ? kProbingSuspected : std::string(Status::CodeName(s.code()));
}

void AnswerFailure(const Status& s, ApiResponse* response) {
  if (s.code() == Status::Code::kPermissionDenied) return response->Error(403, kProbingSuspected, s.message());
  response->FromStatus(s);
  if (s.code() == Status::Code::kUnavailable) response->headers.emplace_back("Retry-After", "1");
}

}  // namespace

void HandleScreen(Service& service, const ApiRequest& request, ApiResponse* response) {
  std::string ref = request.Param("ref");
  if (Status s = ValidateCallerRef(ref); !s.ok()) return response->FromStatus(s);
  ScreenVerdict verdict;
  Status refused;
  if (request.body_too_large) {
    refused = Status::TooLarge("the image is larger than " + std::to_string(service.config().max_body_bytes) + " bytes");
  } else if (!IsImageContentType(request.content_type)) {
    refused = Status::Unsupported("content type must be image/* or application/octet-stream");
  }
  if (!refused.ok()) {
    if (Status s = AuditRefusal(service, request.key, ref, request.body_bytes, refused, &verdict); !s.ok()) {
      return response->FromStatus(s);
    }
    return response->FromStatus(refused);
  }
  Status s = ScreenImage(service, request.key, request.body, ref, &verdict);
  if (!s.ok()) return AnswerFailure(s, response);
  response->Json(200, VerdictJson(verdict));
}

void HandleScreenBatch(Service& service, const ApiRequest& request, ApiResponse* response) {
  if (!IsMultipartFormData(request.content_type)) {
    return response->Error(415, "unsupported", "the body must be multipart/form-data, one part per image");
  }
  if (request.parts.empty()) return response->Error(400, "invalid_argument", "the batch holds no parts");
  if (request.parts.size() > static_cast<size_t>(service.config().max_batch_parts)) {
    return response->Error(400, "invalid_argument",
                           "a batch may hold at most " + std::to_string(service.config().max_batch_parts) + " parts");
  }
  json results = json::array();
  for (const auto& part : request.parts) {
    json r{{"part", part.name}};
    // The part's file name (else its name) is the caller's reference for the item.
    std::string ref = part.filename.empty() ? part.name : part.filename;
    ScreenVerdict verdict;
    Status s = ValidateCallerRef(ref);
    if (s.ok() && !IsImageContentType(part.content_type)) {
      Status refused = Status::Unsupported("content type must be image/* or application/octet-stream");
      s = AuditRefusal(service, request.key, ref, part.content.size(), refused, &verdict);
      if (s.ok()) s = refused;
    } else if (s.ok()) {
      s = ScreenImage(service, request.key, part.content, ref, &verdict);
    }
    if (s.ok()) {
      r["match"] = verdict.match;
      r["audit_id"] = AuditId(verdict.audit_seq);
    } else {
      r["error"] = {{"code", ErrorCode(s)},
                    {"message", HttpStatusFor(s) == 500 ? "internal error" : s.message()}};
    }
    results.push_back(std::move(r));
  }
  response->Json(200, json{{"results", std::move(results)}});
}

void HandleScreenHashes(Service& service, const ApiRequest& request, ApiResponse* response) {
  // Hash-only screening hands the caller the query itself, bit by bit: the
  // tool of a boundary walk. It is a permission of its own.
  if (!request.key.hash_queries) {
    return response->Error(403, "permission_denied",
                           "this key may not screen hashes (an admin grants it: hash_queries / --hash-queries)");
  }
  json body;
  HashQuery query;
  Status s = ParseJsonBody(request.body, {"pdq", "quality", "md5", "sha256", "ref"}, &body);
  if (s.ok()) {
    // A ref in the query string is the default; one in the body wins.
    if (!body.contains("ref") && request.HasParam("ref")) body["ref"] = request.Param("ref");
    s = ParseHashQuery(body, "", &query);
  }
  if (!s.ok()) return response->FromStatus(s);
  ScreenVerdict verdict;
  s = ScreenHashes(service, request.key, query, &verdict);
  if (!s.ok()) return AnswerFailure(s, response);
  response->Json(200, VerdictJson(verdict));
}

}  // namespace server
