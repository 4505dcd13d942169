#include "sync/exchange/stopncii_client.h"

#include <algorithm>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "sync/follower.h"

namespace hsync {

namespace {

using nlohmann::json;

Status Bad(const std::string& why) { return Status::InvalidArgument("StopNCII page: " + why); }

bool Withdrawn(const std::string& status) { return status == "Withdrawn" || status == "Deleted"; }

void AddTag(const std::string& text, store::SignalMeta* meta) {
  if (text.empty() || text.size() > store::kMaxSignalTagBytes || meta->tags.size() >= store::kMaxSignalTags) return;
  if (std::find(meta->tags.begin(), meta->tags.end(), text) == meta->tags.end()) meta->tags.push_back(text);
}

}  // namespace

Status ParseStopNciiPage(std::string_view body, StopNciiPage* out) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return Bad("not JSON");
  if (!j.is_object() || !j.contains("hashRecords") || !j["hashRecords"].is_array()) return Bad("no \"hashRecords\" array");
  StopNciiPage page;
  if (j.contains("nextSetTimestamp") && !j["nextSetTimestamp"].is_null()) {
    if (!j["nextSetTimestamp"].is_number_integer() || j["nextSetTimestamp"].get<int64_t>() < 0) {
      return Bad("nextSetTimestamp is not Unix seconds");
    }
    page.next_set_timestamp = j["nextSetTimestamp"].get<int64_t>();
  }
  if (j.contains("hasMoreRecords")) {
    if (!j["hasMoreRecords"].is_boolean()) return Bad("hasMoreRecords is not a boolean");
    page.has_more = j["hasMoreRecords"].get<bool>();
  }
  if (j.contains("nextPageToken") && !j["nextPageToken"].is_null()) {
    if (!j["nextPageToken"].is_string()) return Bad("nextPageToken is not a string");
    page.next_page_token = j["nextPageToken"].get<std::string>();
    if (page.next_page_token.size() > 8192) return Bad("nextPageToken longer than 8 KiB");
  }
  if (page.has_more && page.next_page_token.empty()) return Bad("hasMoreRecords without a nextPageToken");
  size_t i = 0;
  for (const json& r : j["hashRecords"]) {
    const std::string at = "hashRecords[" + std::to_string(i++) + "]: ";
    if (!r.is_object()) return Bad(at + "not an object");
    for (const char* k : {"hashValue", "hashStatus", "signalType"}) {
      if (!r.contains(k) || !r[k].is_string()) return Bad(at + "needs a \"" + k + "\" string");
    }
    if (r["signalType"].get<std::string>() != "ImagePDQ") {
      ++page.skipped;
      continue;
    }
    StopNciiRecord rec;
    std::string ref;
    bool all_cases_withdrawn = false;
    if (r.contains("caseNumbers") && r["caseNumbers"].is_object() && !r["caseNumbers"].empty()) {
      all_cases_withdrawn = true;
      for (const auto& [k, v] : r["caseNumbers"].items()) {
        if (ref.empty() || k < ref) ref = k;
        all_cases_withdrawn &= v.is_string() && Withdrawn(v.get<std::string>());
      }
    }
    if (ref.size() > base::kMaxRefBytes) ref.resize(base::kMaxRefBytes);
    std::string hex = r["hashValue"].get<std::string>();
    std::transform(hex.begin(), hex.end(), hex.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    HS_RETURN_IF_ERROR(base::ParseSignal("pdq", hex, ref, &rec.entry).WithContext("StopNCII page: " + at));
    rec.remove = Withdrawn(r["hashStatus"].get<std::string>()) || all_cases_withdrawn;
    if (r.contains("lastModtimestamp") && r["lastModtimestamp"].is_number_integer() &&
        r["lastModtimestamp"].get<int64_t>() > 0 && r["lastModtimestamp"].get<int64_t>() < INT64_MAX / 1000) {
      rec.meta.first_seen_ms = r["lastModtimestamp"].get<int64_t>() * 1000;
    }
    if (r.contains("CSPFeedbacks") && r["CSPFeedbacks"].is_array()) {
      for (const json& f : r["CSPFeedbacks"]) {
        if (!f.is_object() || !f.contains("tags") || !f["tags"].is_array()) continue;
        for (const json& t : f["tags"]) {
          if (t.is_string()) AddTag(t.get<std::string>(), &rec.meta);
        }
      }
    }
    page.records.push_back(std::move(rec));
  }
  *out = std::move(page);
  return Status::Ok();
}

Status StopNciiClient::Create(const ExchangeConfig& config, std::unique_ptr<StopNciiClient>* out) {
  std::unique_ptr<StopNciiClient> c(new StopNciiClient(config));
  const std::string where = "exchange '" + config.name + "' ";
  HS_RETURN_IF_ERROR(ReadKeyFile(config.fetch_key_file, where + "fetch_key_file", &c->fetch_key_));
  HS_RETURN_IF_ERROR(ReadKeyFile(config.subscription_key_file, where + "subscription_key_file", &c->subscription_key_));
  *out = std::move(c);
  return Status::Ok();
}

Status StopNciiClient::Fetch(int64_t start_timestamp, const std::string& page_token, StopNciiPage* out,
                             int64_t* retry_after_s) {
  *retry_after_s = -1;
  HttpRequest req;
  req.url = config_.base_url + "/FetchHashes?startTimestamp=" + std::to_string(start_timestamp) +
            "&pageSize=" + std::to_string(config_.page_limit);
  if (!page_token.empty()) req.url += "&nextPageToken=" + httplib::detail::encode_query_param(page_token);
  req.name = "StopNCII FetchHashes from " + std::to_string(start_timestamp);
  req.cacert = config_.cacert;
  req.max_bytes = config_.max_bytes;
  req.timeout_s = config_.timeout_s;
  req.headers.emplace_back("x-functions-key", fetch_key_);
  req.headers.emplace_back("Ocp-Apim-Subscription-Key", subscription_key_);
  HttpAnswer a;
  HS_RETURN_IF_ERROR(fetcher_.Get(req, &a));
  if (a.status != 200) {
    if (a.status == 429 || a.status == 503) *retry_after_s = a.retry_after_s;
    return Status::Unavailable("StopNCII FetchHashes answered HTTP " + std::to_string(a.status));
  }
  return ParseStopNciiPage(a.body, out);
}

}  // namespace hsync
