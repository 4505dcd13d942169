#include "sync/exchange/threat_exchange.h"

#include <algorithm>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "sync/follower.h"

namespace hsync {

namespace {

using nlohmann::json;

Status Bad(const std::string& why) { return Status::InvalidArgument("threat_updates page: " + why); }

// Graph integers sometimes come as numeric strings.
bool ReadTime(const json& v, int64_t* out) {
  if (v.is_number_integer()) {
    *out = v.get<int64_t>();
    return true;
  }
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    *out = std::stoll(s);
    return true;
  }
  return false;
}

void AddTag(const json& t, store::SignalMeta* meta) {
  std::string text;
  if (t.is_string()) {
    text = t.get<std::string>();
  } else if (t.is_object() && t.contains("text") && t["text"].is_string()) {
    text = t["text"].get<std::string>();
  }
  if (text.empty() || text.size() > store::kMaxSignalTagBytes || meta->tags.size() >= store::kMaxSignalTags) return;
  // The prefix is ours: a partner's tag must not name what we react on.
  if (text.starts_with(kThreatDescriptorTag)) return;
  if (std::find(meta->tags.begin(), meta->tags.end(), text) == meta->tags.end()) meta->tags.push_back(std::move(text));
}

}  // namespace

Status ParseThreatUpdates(std::string_view body, ThreatUpdatePage* out) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return Bad("not JSON");
  if (!j.is_object() || !j.contains("data") || !j["data"].is_array()) return Bad("no \"data\" array");
  ThreatUpdatePage page;
  size_t i = 0;
  for (const json& u : j["data"]) {
    const std::string at = "data[" + std::to_string(i++) + "]: ";
    if (!u.is_object()) return Bad(at + "not an object");
    if (!u.contains("indicator") || !u["indicator"].is_string() || !u.contains("type") || !u["type"].is_string()) {
      return Bad(at + "needs \"indicator\" and \"type\" strings");
    }
    ThreatUpdate t;
    if (!u.contains("last_updated") || !ReadTime(u["last_updated"], &t.last_updated) || t.last_updated < 0) {
      return Bad(at + "needs \"last_updated\" (Unix seconds)");
    }
    page.max_last_updated = std::max(page.max_last_updated, t.last_updated);
    const std::string type = u["type"].get<std::string>();
    const char* ours = type == "HASH_PDQ" ? "pdq" : type == "HASH_MD5" ? "md5" : nullptr;
    if (!ours) {
      ++page.skipped_types;
      continue;
    }
    std::string id;
    if (u.contains("id") && u["id"].is_string()) id = u["id"].get<std::string>();
    if (id.size() > base::kMaxRefBytes) return Bad(at + "id too long");
    std::string hex = u["indicator"].get<std::string>();
    std::transform(hex.begin(), hex.end(), hex.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    HS_RETURN_IF_ERROR(base::ParseSignal(ours, hex, id, &t.entry).WithContext("threat_updates page: " + at));
    const bool should_delete = u.contains("should_delete") && u["should_delete"].is_boolean() && u["should_delete"].get<bool>();
    const json* descriptors = nullptr;
    if (u.contains("descriptors") && u["descriptors"].is_object() && u["descriptors"].contains("data") &&
        u["descriptors"]["data"].is_array() && !u["descriptors"]["data"].empty()) {
      descriptors = &u["descriptors"]["data"];
    }
    t.remove = should_delete || descriptors == nullptr;
    if (descriptors) {
      // The descriptors' ids first (feedback reacts on them), then their tags.
      for (const json& d : *descriptors) {
        if (!d.is_object() || !d.contains("id")) continue;
        std::string did;
        if (d["id"].is_string()) {
          did = d["id"].get<std::string>();
        } else if (d["id"].is_number_unsigned()) {
          did = std::to_string(d["id"].get<uint64_t>());
        }
        // Graph ids are digits; another id could not be reacted on (it goes
        // into a URL path), and is no reason to refuse the entry.
        if (!IsThreatDescriptorId(did)) continue;
        std::string tag = std::string(kThreatDescriptorTag) + did;
        if (t.meta.tags.size() < kMaxThreatDescriptors &&
            std::find(t.meta.tags.begin(), t.meta.tags.end(), tag) == t.meta.tags.end()) {
          t.meta.tags.push_back(std::move(tag));
        }
      }
      for (const json& d : *descriptors) {
        if (!d.is_object() || !d.contains("tags")) continue;
        const json& tags = d["tags"];
        if (tags.is_array()) {
          for (const json& x : tags) AddTag(x, &t.meta);
        } else if (tags.is_object() && tags.contains("data") && tags["data"].is_array()) {
          for (const json& x : tags["data"]) AddTag(x, &t.meta);
        }
      }
    }
    page.updates.push_back(std::move(t));
  }
  if (j.contains("paging") && j["paging"].is_object() && j["paging"].contains("next")) {
    if (!j["paging"]["next"].is_string()) return Bad("paging.next is not a string");
    page.next = j["paging"]["next"].get<std::string>();
  }
  *out = std::move(page);
  return Status::Ok();
}

Status ThreatExchangeClient::Create(const ExchangeConfig& config, std::unique_ptr<ThreatExchangeClient>* out) {
  std::unique_ptr<ThreatExchangeClient> c(new ThreatExchangeClient(config));
  HS_RETURN_IF_ERROR(ReadKeyFile(config.token_file, "exchange '" + config.name + "' token_file", &c->token_));
  *out = std::move(c);
  return Status::Ok();
}

std::string ThreatExchangeClient::FirstUrl(std::optional<int64_t> start_time) const {
  std::string url = config_.base_url + "/" + config_.privacy_group + "/threat_updates/?access_token=" +
                    httplib::detail::encode_query_param(token_) + "&limit=" + std::to_string(config_.page_limit) +
                    "&types=" + httplib::detail::encode_query_param(config_.types) + "&fields=" +
                    httplib::detail::encode_query_param("id,indicator,type,last_updated,should_delete,descriptors{id,tags,status}");
  if (start_time) url += "&start_time=" + std::to_string(*start_time);
  return url;
}

Status ThreatExchangeClient::Fetch(const std::string& url, ThreatUpdatePage* out, int64_t* retry_after_s) {
  *retry_after_s = -1;
  std::string origin, target, base_origin;
  // Messages never quote the URL: it holds the token.
  if (!SplitUrl(url, &origin, &target).ok()) return Bad("paging.next is not an http(s) URL");
  HS_RETURN_IF_ERROR(SplitUrl(config_.base_url, &base_origin, &target));
  if (origin != base_origin) {
    return Status::InvalidArgument("threat_updates paging.next leads to " + origin + ", not " + base_origin +
                                   " (the token is not sent elsewhere)");
  }
  HttpRequest req;
  req.url = url;
  req.name = "threat_updates of group " + config_.privacy_group;
  req.cacert = config_.cacert;
  req.max_bytes = config_.max_bytes;
  req.timeout_s = config_.timeout_s;
  HttpAnswer a;
  HS_RETURN_IF_ERROR(fetcher_.Get(req, &a));
  if (a.status != 200) {
    if (a.status == 429 || a.status == 503) *retry_after_s = a.retry_after_s;
    std::string message;
    json j = json::parse(a.body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("message") &&
        j["error"]["message"].is_string()) {
      message = ": " + j["error"]["message"].get<std::string>().substr(0, 300);
    }
    // Never the URL: it holds the token.
    return Status::Unavailable("threat_updates answered HTTP " + std::to_string(a.status) + message);
  }
  return ParseThreatUpdates(a.body, out);
}

}  // namespace hsync
