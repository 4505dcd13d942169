#include "sync/exchange/tcap_client.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "sync/follower.h"

namespace hsync {

namespace {

using nlohmann::json;

constexpr size_t kMaxCheckpointBytes = 64;
constexpr size_t kMaxTokenBytes = 16384;

Status Bad(const std::string& why) { return Status::InvalidArgument("TCAP page: " + why); }

bool Printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c != 0x7f; });
}

void AddTag(const std::string& prefix, const json& value, store::SignalMeta* meta) {
  if (!value.is_string()) return;
  const std::string text = prefix + value.get<std::string>();
  if (value.get<std::string>().empty() || text.size() > store::kMaxSignalTagBytes || !Printable(text) ||
      meta->tags.size() >= store::kMaxSignalTags) {
    return;
  }
  if (std::find(meta->tags.begin(), meta->tags.end(), text) == meta->tags.end()) meta->tags.push_back(text);
}

// TCAP's algorithm names (PDQ, MD5, SHA256; "SHA-256" tolerated) to
// hashscreen's signal types; "" for one hashscreen does not screen.
std::string SignalTypeOf(std::string algorithm) {
  std::string a;
  for (char c : algorithm) {
    if (c != '-' && c != '_') a += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (a == "PDQ") return "pdq";
  if (a == "MD5") return "md5";
  if (a == "SHA256") return "sha256";
  return "";
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

bool TcapCheckpointOk(std::string_view c) {
  if (c.empty() || c.size() > kMaxCheckpointBytes) return false;
  const size_t comma = c.find(',');
  if (comma == std::string_view::npos || comma == 0 || comma + 1 == c.size()) return false;
  const std::string_view time = c.substr(0, comma), id = c.substr(comma + 1);
  if (std::count(time.begin(), time.end(), '.') > 1 || time.front() == '.' || time.back() == '.') return false;
  if (time.find_first_not_of("0123456789.") != std::string_view::npos) return false;
  return id.find_first_not_of("0123456789") == std::string_view::npos;
}

Status ParseTcapPage(std::string_view body, TcapPage* out) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return Bad("not JSON");
  if (!j.is_object() || !j.contains("results") || !j["results"].is_array()) return Bad("no \"results\" array");
  TcapPage page;
  if (j.contains("checkpoint") && !j["checkpoint"].is_null()) {
    if (!j["checkpoint"].is_string() || !TcapCheckpointOk(j["checkpoint"].get<std::string>())) {
      return Bad("checkpoint is not \"<time>,<id>\"");
    }
    page.checkpoint = j["checkpoint"].get<std::string>();
  }
  if (j.contains("next") && !j["next"].is_null()) {
    if (!j["next"].is_string()) return Bad("next is not a URL or null");
    page.has_next = true;
  }
  if (page.has_next && page.checkpoint.empty()) return Bad("next without a checkpoint to resume from");
  if (!j["results"].empty() && page.checkpoint.empty()) return Bad("results without a checkpoint");
  size_t i = 0;
  for (const json& r : j["results"]) {
    const std::string at = "results[" + std::to_string(i++) + "]: ";
    if (!r.is_object()) return Bad(at + "not an object");
    for (const char* k : {"hash_digest", "algorithm"}) {
      if (!r.contains(k) || !r[k].is_string()) return Bad(at + "needs a \"" + k + "\" string");
    }
    std::string ref;
    if (r.contains("id") && r["id"].is_number_unsigned()) {
      ref = std::to_string(r["id"].get<uint64_t>());
    } else if (r.contains("id") && r["id"].is_string() && !r["id"].get<std::string>().empty() &&
               r["id"].get<std::string>().size() <= base::kMaxRefBytes && Printable(r["id"].get<std::string>())) {
      ref = r["id"].get<std::string>();
    } else {
      return Bad(at + "needs an \"id\" (a number, or a printable string of at most 256 bytes)");
    }
    bool deleted = false;
    if (r.contains("deleted") && !r["deleted"].is_null()) {
      if (!r["deleted"].is_boolean()) return Bad(at + "deleted is not a boolean");
      deleted = r["deleted"].get<bool>();
    }
    const std::string type = SignalTypeOf(r["algorithm"].get<std::string>());
    if (type.empty()) {
      ++page.skipped;
      continue;
    }
    TcapRecord rec;
    Status s = base::ParseSignal(type, Lower(r["hash_digest"].get<std::string>()), ref, &rec.entry);
    if (!s.ok()) {
      if (page.invalid++ == 0) page.first_invalid = "id " + ref + ": " + s.message();
      continue;
    }
    rec.remove = deleted;
    if (r.contains("updated_on") && r["updated_on"].is_number()) {
      const double t = r["updated_on"].get<double>();
      // Seconds between 1970 and 5138: anything else is not a time.
      if (std::isfinite(t) && t > 0 && t < 1e11) rec.meta.first_seen_ms = std::llround(t * 1000);
    }
    if (r.contains("ideology")) AddTag("ideology:", r["ideology"], &rec.meta);
    if (r.contains("file_type")) AddTag("file_type:", r["file_type"], &rec.meta);
    page.records.push_back(std::move(rec));
  }
  *out = std::move(page);
  return Status::Ok();
}

Status TcapClient::Create(const ExchangeConfig& config, std::unique_ptr<TcapClient>* out) {
  std::unique_ptr<TcapClient> c(new TcapClient(config));
  const std::string what = "exchange '" + config.name + "' password_file";
  struct stat st;
  if (::stat(config.password_file.c_str(), &st) != 0) {
    return Status::InvalidArgument(what + ": cannot read " + config.password_file);
  }
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(what + ": " + config.password_file + " is not a regular file");
  if (st.st_mode & S_IROTH) {
    return Status::PermissionDenied(what + ": " + config.password_file +
                                    " is readable by every user (chmod o-rwx, or 600)");
  }
  HS_RETURN_IF_ERROR(ReadKeyFile(config.password_file, what, &c->password_));
  *out = std::move(c);
  return Status::Ok();
}

HttpRequest TcapClient::Base(std::string url, std::string name) const {
  HttpRequest req;
  req.url = std::move(url);
  req.name = std::move(name);
  req.cacert = config_.cacert;
  req.max_bytes = config_.max_bytes;
  req.timeout_s = config_.timeout_s;
  return req;
}

Status TcapClient::Login(int64_t* retry_after_s) {
  token_.clear();
  HttpRequest req = Base(config_.base_url + config_.token_path, "TCAP login as '" + config_.username + "'");
  req.method = "POST";
  req.content_type = "application/json";
  req.body = json{{"username", config_.username}, {"password", password_}}.dump();
  req.max_bytes = std::min<int64_t>(req.max_bytes, 1 << 20);
  HttpAnswer a;
  HS_RETURN_IF_ERROR(fetcher_.Send(req, &a));
  if (a.status == 400 || a.status == 401 || a.status == 403) {
    return Status::PermissionDenied(req.name + " refused (HTTP " + std::to_string(a.status) +
                                    "): check username and password_file");
  }
  if (a.status != 200) {
    if (a.status == 429 || a.status == 503) *retry_after_s = a.retry_after_s;
    return Status::Unavailable(req.name + " answered HTTP " + std::to_string(a.status));
  }
  json j = json::parse(a.body, nullptr, false);
  if (!j.is_object() || !j.contains("token") || !j["token"].is_string()) {
    return Status::InvalidArgument(req.name + ": the answer has no \"token\" string");
  }
  std::string token = j["token"].get<std::string>();
  // It goes into a header: visible ASCII only, bounded.
  if (token.empty() || token.size() > kMaxTokenBytes ||
      !std::all_of(token.begin(), token.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; })) {
    return Status::InvalidArgument(req.name + ": the token is not a JWT (empty, too long, or not visible ASCII)");
  }
  token_ = std::move(token);
  return Status::Ok();
}

Status TcapClient::Fetch(const std::string& after, TcapPage* out, Outcome* outcome, int64_t* retry_after_s) {
  *retry_after_s = -1;
  *outcome = Outcome::kPage;
  std::string url = config_.base_url + config_.list_path + "?order=asc&limit=" + std::to_string(config_.page_limit) +
                    "&after=" + httplib::detail::encode_query_param(after);
  if (!config_.ideology.empty()) url += "&ideology=" + httplib::detail::encode_query_param(config_.ideology);
  const std::string name = "TCAP hash list after '" + after + "'";
  HttpAnswer a;
  for (int attempt = 0;; ++attempt) {
    if (token_.empty()) HS_RETURN_IF_ERROR(Login(retry_after_s));
    HttpRequest req = Base(url, name);
    req.headers.emplace_back("Authorization", "Bearer " + token_);
    HS_RETURN_IF_ERROR(fetcher_.Get(req, &a));
    if (a.status != 401 && a.status != 403) break;
    // The token expired (TAT answers 403 "Token has expired"; its lifetime
    // is not documented): one new login, one more try.
    token_.clear();
    if (attempt == 1) {
      return Status::PermissionDenied(name + ": refused with a new token too (HTTP " + std::to_string(a.status) +
                                      "): the account may lack access to the hash list");
    }
  }
  if (a.status == 200) return ParseTcapPage(a.body, out);
  if (!after.empty() && (a.status == 400 || a.status == 410)) {
    *outcome = Outcome::kCheckpointRefused;
    return Status::Ok();
  }
  if (a.status == 429 || a.status == 503) *retry_after_s = a.retry_after_s;
  return Status::Unavailable(name + " answered HTTP " + std::to_string(a.status));
}

}  // namespace hsync
