// GET /v1/audit/export (reviewer, admin): the matches of a time window with
// their current disposition and reviews, one row per hit, as CSV or JSON,
// for reports (NCMEC) and spreadsheets.
//
// Bounded memory: one answer holds at most kExportMaxEntries entries; when
// more remain it carries the cursor in `X-Audit-Next` (and "next" in JSON),
// and the client asks again with `cursor=` (hashscreen audit export does,
// writing each page as it arrives). The HTTP front writes a response whole
// with its Content-Length, so this paging is how an export stays bounded.
//
// CSV: RFC 4180 quoting, and a field beginning with '=', '+', '-' or '@' is
// prefixed with "'" so a spreadsheet does not run it as a formula (a
// caller_ref or note is written by whoever called the API).
#include <set>

#include "base/clock.h"
#include "base/hex.h"
#include "base/number_parse.h"
#include "base/query_variant.h"
#include "server/routes.h"

namespace server {

namespace {

constexpr size_t kExportMaxEntries = 2000;

constexpr const char* kCsvHeader =
    "audit_id,time_utc,time_ms,instance,caller_ref,source,pdq,quality,md5,sha256,image_format,width,height,bytes,"
    "list,partner,partner_ref,tags,signal,list_hash,distance,variant,disposition,report_id,reviewed_by,reviewed_utc,"
    "note\r\n";

std::string CsvField(std::string_view v) {
  std::string f;
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')) f.push_back('\'');
  f.append(v);
  if (f.find_first_of(",\"\r\n") == std::string::npos) return f;
  std::string q = "\"";
  for (char c : f) {
    if (c == '"') q.push_back('"');
    q.push_back(c);
  }
  q.push_back('"');
  return q;
}

}  // namespace

void HandleAuditExport(Service& service, const ApiRequest& request, ApiResponse* response) {
  static const std::set<std::string> kParams = {"since", "until", "format", "list", "partner", "disposition", "cursor"};
  for (const auto& [name, value] : request.params) {
    if (!kParams.contains(name)) {
      return response->Error(400, "invalid_argument", "unknown parameter " + name + " (GET /v1/audit/export takes "
                                                          "since, until, format, list, partner, disposition, cursor)");
    }
  }
  store::AuditQuery q;
  q.verdict = "match";
  Status s;
  const std::string format = request.HasParam("format") ? request.Param("format") : "csv";
  if (format != "csv" && format != "json") s = Status::InvalidArgument("format must be csv or json");
  for (const char* name : {"since", "until"}) {
    if (!s.ok() || !request.HasParam(name)) continue;
    uint64_t v = 0;
    s = base::ParseUint(request.Param(name), name, 0, INT64_MAX, &v);
    (std::string(name) == "since" ? q.since_ms : q.until_ms) = static_cast<int64_t>(v);
  }
  if (s.ok() && request.HasParam("list")) {
    uint64_t list = 0;
    s = ParseU64(request.Param("list"), "list", &list);
    q.list_id = list;
  }
  if (s.ok() && request.HasParam("partner")) {
    q.partner = request.Param("partner");
    if (q.partner.empty()) s = Status::InvalidArgument("partner must not be empty");
  }
  q.disposition = request.Param("disposition");
  if (s.ok() && request.HasParam("disposition") && q.disposition != "unreviewed" && q.disposition != "confirmed" &&
      q.disposition != "false_positive" && q.disposition != "escalated" && q.disposition != "reported") {
    s = Status::InvalidArgument("disposition must be unreviewed, confirmed, false_positive, escalated or reported");
  }
  if (s.ok() && request.HasParam("cursor") &&
      !base::ParseUint(request.Param("cursor"), "cursor", 1, service.audit()->last_seq(), &q.after).ok()) {
    s = Status::InvalidArgument("cursor is not a cursor of this log (pass X-Audit-Next of the previous answer)");
  }
  if (!s.ok()) return response->FromStatus(s);

  std::string body;
  json matches = json::array();
  if (format == "csv" && !request.HasParam("cursor")) body = kCsvHeader;
  uint64_t next = 0;
  size_t entries = 0;
  do {
    std::vector<store::AuditEntry> page;
    q.limit = std::min<size_t>(1000, kExportMaxEntries - entries);
    if (s = service.audit()->Query(q, &page, &next); !s.ok()) return response->FromStatus(s);
    for (const auto& wrapped : page) {
      const store::AuditEntry& e = wrapped.effective();
      const std::string instance = wrapped.origin ? wrapped.instance : service.db()->instance_id();
      std::vector<store::AuditEntry> reviews;
      if (s = service.audit()->ReviewsOf(wrapped.seq, &reviews); !s.ok()) return response->FromStatus(s);
      const store::AuditEntry* latest = reviews.empty() ? nullptr : &reviews.back();
      const std::string disposition = latest ? latest->disposition : "unreviewed";
      for (const auto& h : e.hits) {
        std::string tags;
        for (const auto& t : h.tags) tags += (tags.empty() ? "" : ";") + t;
        if (format == "csv") {
          const std::vector<std::string> row = {
              std::to_string(wrapped.seq), base::FormatUtc(e.time_ms), std::to_string(e.time_ms), instance, e.caller_ref,
              e.source, e.pdq_hex, e.quality >= 0 ? std::to_string(e.quality) : "", e.md5_hex, e.sha256_hex, e.format,
              std::to_string(e.width), std::to_string(e.height), std::to_string(e.size_bytes), h.list_name, h.partner,
              h.partner_ref, tags, h.signal, h.hash_hex, std::to_string(h.distance), base::QueryVariantName(h.variant),
              disposition, latest ? latest->report_id : "", latest ? latest->key_id : "",
              latest ? base::FormatUtc(latest->time_ms) : "", latest ? latest->note : ""};
          for (size_t i = 0; i < row.size(); ++i) {
            if (i) body.push_back(',');
            body += CsvField(row[i]);
          }
          body += "\r\n";
          continue;
        }
        json history = json::array();
        for (const auto& r : reviews) {
          history.push_back({{"id", std::to_string(r.seq)},
                             {"time_ms", r.time_ms},
                             {"key_id", r.key_id},
                             {"disposition", r.disposition},
                             {"note", r.note},
                             {"report_id", r.report_id.empty() ? json(nullptr) : json(r.report_id)},
                             {"request_id", r.request_id.empty() ? json(nullptr) : json(r.request_id)}});
        }
        matches.push_back({{"audit_id", std::to_string(wrapped.seq)},
                           {"time_utc", base::FormatUtc(e.time_ms)},
                           {"time_ms", e.time_ms},
                           {"instance", instance},
                           {"caller_ref", e.caller_ref},
                           {"source", e.source},
                           {"pdq", e.pdq_hex},
                           {"quality", e.quality >= 0 ? json(e.quality) : json(nullptr)},
                           {"md5", e.md5_hex},
                           {"sha256", e.sha256_hex},
                           {"image_format", e.format},
                           {"width", e.width},
                           {"height", e.height},
                           {"bytes", e.size_bytes},
                           {"list", h.list_name},
                           {"partner", h.partner},
                           {"partner_ref", h.partner_ref},
                           {"tags", h.tags},
                           {"signal", h.signal},
                           {"list_hash", h.hash_hex},
                           {"distance", h.distance},
                           {"variant", base::QueryVariantName(h.variant)},
                           {"disposition", disposition},
                           {"report_id", latest && !latest->report_id.empty() ? json(latest->report_id) : json(nullptr)},
                           {"reviewed_by", latest ? json(latest->key_id) : json(nullptr)},
                           {"reviewed_utc", latest ? json(base::FormatUtc(latest->time_ms)) : json(nullptr)},
                           {"note", latest ? json(latest->note) : json(nullptr)},
                           {"reviews", std::move(history)}});
      }
    }
    entries += page.size();
    q.after = next;
  } while (next != 0 && entries < kExportMaxEntries);

  const std::string name = "hashscreen-audit-" + std::to_string(q.since_ms.value_or(0)) + "-" +
                           (q.until_ms ? std::to_string(*q.until_ms) : std::string("now")) + "." + format;
  response->headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + "\"");
  if (next != 0) response->headers.emplace_back("X-Audit-Next", std::to_string(next));
  if (format == "csv") {
    response->status = 200;
    response->content_type = "text/csv; charset=utf-8";
    response->body = std::move(body);
    return;
  }
  response->Json(200, {{"matches", std::move(matches)}, {"next", next ? json(std::to_string(next)) : json(nullptr)}});
}

}  // namespace server
