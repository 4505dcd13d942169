#include "sync/exchange/exchange_config.h"

#include <algorithm>
#include <map>
#include <set>

#include "base/loopback.h"
#include "base/signal.h"
#include "codec/hash_list_codec.h"

namespace hsync {

namespace {

struct Kind {
  ExchangeKind kind;
  const char* name;
};
constexpr Kind kKinds[] = {{ExchangeKind::kUrl, "url"},       {ExchangeKind::kFile, "file"},
                           {ExchangeKind::kNcmec, "ncmec"},   {ExchangeKind::kStopNcii, "stopncii"},
                           {ExchangeKind::kThreatExchange, "threatexchange"}, {ExchangeKind::kTcap, "tcap"}};

bool NameOk(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

// https://, or http:// to a loopback host: a list URL may carry an
// Authorization header, which must not cross a network in clear text.
Status CheckListUrl(const std::string& where, const std::string& url) {
  std::string rest;
  bool https = url.rfind("https://", 0) == 0;
  if (https) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return Status::InvalidArgument(where + ": '" + url + "' is not an https:// URL");
  }
  std::string host = rest.substr(0, rest.find_first_of("/?#"));
  if (host.empty() || host.find('@') != std::string::npos) {
    return Status::InvalidArgument(where + ": '" + url + "' needs a host (and no user:password@)");
  }
  if (host.front() == '[') {
    host = host.substr(1, host.find(']') == std::string::npos ? 0 : host.find(']') - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    host.resize(colon);
  }
  if (!https && !base::IsLoopbackHost(host)) {
    return Status::InvalidArgument(where + ": '" + url + "' is plain http:// to a host that is not loopback (use https://)");
  }
  return Status::Ok();
}

}  // namespace

const char* ExchangeKindName(ExchangeKind kind) {
  for (const Kind& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "?";
}

std::string ExchangeOwner(const std::string& name) { return "exchange:" + name; }

Status ParseExchangeTable(const ExchangeTable& table, size_t index, ExchangeConfig* out) {
  const std::string at = "exchange[" + std::to_string(index) + "]";
  std::map<std::string, const ExchangeValue*> values;
  for (const auto& [k, v] : table) values[k] = &v;
  ExchangeConfig c;

  auto str = [&](const char* key, bool required, std::string* dst) -> Status {
    auto it = values.find(key);
    if (it == values.end()) {
      return required ? Status::InvalidArgument(at + "." + key + ": required") : Status::Ok();
    }
    const auto* s = std::get_if<std::string>(it->second);
    if (!s) return Status::InvalidArgument(at + "." + key + ": expected a string");
    *dst = *s;
    return Status::Ok();
  };
  // A partner API's base_url (the kind's default already in c.base_url
  // unless `required`): http(s), no query or fragment, trailing '/' dropped.
  auto base_url = [&](bool required) -> Status {
    HS_RETURN_IF_ERROR(str("base_url", required, &c.base_url));
    while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
    HS_RETURN_IF_ERROR(CheckListUrl(at + ".base_url", c.base_url));
    if (c.base_url.find_first_of("?#") != std::string::npos) {
      return Status::InvalidArgument(at + ".base_url: no query or fragment");
    }
    return Status::Ok();
  };
  auto num = [&](const char* key, int64_t min, int64_t max, int64_t* dst) -> Status {
    auto it = values.find(key);
    if (it == values.end()) return Status::Ok();
    const auto* v = std::get_if<int64_t>(it->second);
    if (!v) return Status::InvalidArgument(at + "." + key + ": expected an integer");
    if (*v < min || *v > max) {
      return Status::InvalidArgument(at + "." + key + ": " + std::to_string(*v) + " is outside " + std::to_string(min) +
                                     ".." + std::to_string(max));
    }
    *dst = *v;
    return Status::Ok();
  };

  HS_RETURN_IF_ERROR(str("name", true, &c.name));
  if (!NameOk(c.name)) {
    return Status::InvalidArgument(at + ".name: '" + c.name + "' must be 1..64 letters, digits, '_', '-' or '.'");
  }
  const std::string where = "exchange '" + c.name + "'";
  std::string kind;
  HS_RETURN_IF_ERROR(str("kind", true, &kind).WithContext(where));
  bool known = false;
  for (const Kind& k : kKinds) {
    if (kind == k.name) {
      c.kind = k.kind;
      known = true;
    }
  }
  if (!known) {
    return Status::InvalidArgument(at + ".kind: '" + kind + "' is not one of url, file, ncmec, stopncii, threatexchange, tcap");
  }
  HS_RETURN_IF_ERROR(str("list", true, &c.list));
  if (c.list.empty() || c.list.size() > 256) return Status::InvalidArgument(at + ".list: must be 1..256 bytes");
  HS_RETURN_IF_ERROR(num("interval_s", 1, 30ll * 86400, &c.interval_s));
  HS_RETURN_IF_ERROR(num("pdq_threshold", 0, 63, &c.pdq_threshold));
  HS_RETURN_IF_ERROR(num("max_bytes", 1024, 16ll << 30, &c.max_bytes));
  HS_RETURN_IF_ERROR(num("timeout_s", 1, 3600, &c.timeout_s));

  std::set<std::string> allowed = {"name", "kind", "list", "interval_s", "pdq_threshold", "max_bytes", "timeout_s"};
  switch (c.kind) {
    case ExchangeKind::kUrl:
      allowed.insert({"url", "format", "type", "cacert", "auth_file"});
      HS_RETURN_IF_ERROR(str("url", true, &c.url));
      HS_RETURN_IF_ERROR(CheckListUrl(at + ".url", c.url));
      HS_RETURN_IF_ERROR(str("format", false, &c.format));
      HS_RETURN_IF_ERROR(str("type", false, &c.type));
      HS_RETURN_IF_ERROR(str("cacert", false, &c.cacert));
      HS_RETURN_IF_ERROR(str("auth_file", false, &c.auth_file));
      break;
    case ExchangeKind::kFile:
      allowed.insert({"path", "format", "type"});
      HS_RETURN_IF_ERROR(str("path", true, &c.path));
      if (c.path.empty()) return Status::InvalidArgument(at + ".path: must not be empty");
      HS_RETURN_IF_ERROR(str("format", false, &c.format));
      HS_RETURN_IF_ERROR(str("type", false, &c.type));
      break;
    case ExchangeKind::kThreatExchange: {
      allowed.insert({"privacy_group", "token_file", "base_url", "page_limit", "types", "stale_after_s", "cacert"});
      HS_RETURN_IF_ERROR(str("privacy_group", true, &c.privacy_group));
      if (c.privacy_group.empty() || c.privacy_group.size() > 32 ||
          c.privacy_group.find_first_not_of("0123456789") != std::string::npos) {
        return Status::InvalidArgument(at + ".privacy_group: must be the group's numeric id");
      }
      HS_RETURN_IF_ERROR(str("token_file", true, &c.token_file));
      HS_RETURN_IF_ERROR(base_url(false));
      HS_RETURN_IF_ERROR(num("page_limit", 1, 5000, &c.page_limit));
      HS_RETURN_IF_ERROR(str("types", false, &c.types));
      if (c.types.empty() || c.types.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_,") != std::string::npos) {
        return Status::InvalidArgument(at + ".types: a comma-separated list of indicator types (HASH_PDQ,HASH_MD5)");
      }
      HS_RETURN_IF_ERROR(num("stale_after_s", 1, 89ll * 86400, &c.stale_after_s));
      HS_RETURN_IF_ERROR(str("cacert", false, &c.cacert));
      allowed.insert("feedback_attempts");
      HS_RETURN_IF_ERROR(num("feedback_attempts", 1, 1000, &c.feedback_attempts));
      break;
    }
    case ExchangeKind::kNcmec: {
      allowed.insert({"base_url", "credentials_file", "cacert", "max_window_entries", "paging_ttl_s"});
      HS_RETURN_IF_ERROR(base_url(true));
      HS_RETURN_IF_ERROR(str("credentials_file", true, &c.credentials_file));
      HS_RETURN_IF_ERROR(str("cacert", false, &c.cacert));
      HS_RETURN_IF_ERROR(num("max_window_entries", 1000, 100000000, &c.max_window_entries));
      HS_RETURN_IF_ERROR(num("paging_ttl_s", 0, 12 * 3600, &c.paging_ttl_s));
      allowed.insert({"feedback_attempts", "feedback_reason"});
      HS_RETURN_IF_ERROR(num("feedback_attempts", 1, 1000, &c.feedback_attempts));
      HS_RETURN_IF_ERROR(str("feedback_reason", false, &c.feedback_reason));
      if (c.feedback_reason.size() > 64 ||
          c.feedback_reason.find_first_not_of("0123456789abcdefABCDEF-") != std::string::npos) {
        return Status::InvalidArgument(at + ".feedback_reason: must be a reason GUID (GET {base_url}/v2/feedback/PDQ/reasons)");
      }
      break;
    }
    case ExchangeKind::kStopNcii: {
      allowed.insert({"base_url", "fetch_key_file", "subscription_key_file", "cacert", "page_limit", "stale_after_s"});
      c.base_url = "https://api.stopncii.org/v1";
      c.stale_after_s = 30ll * 86400;
      HS_RETURN_IF_ERROR(base_url(false));
      HS_RETURN_IF_ERROR(str("fetch_key_file", true, &c.fetch_key_file));
      HS_RETURN_IF_ERROR(str("subscription_key_file", true, &c.subscription_key_file));
      HS_RETURN_IF_ERROR(str("cacert", false, &c.cacert));
      HS_RETURN_IF_ERROR(num("page_limit", 1, 10000, &c.page_limit));
      HS_RETURN_IF_ERROR(num("stale_after_s", 1, 365ll * 86400, &c.stale_after_s));
      allowed.insert({"feedback_attempts", "feedback_key_file"});
      HS_RETURN_IF_ERROR(num("feedback_attempts", 1, 1000, &c.feedback_attempts));
      HS_RETURN_IF_ERROR(str("feedback_key_file", false, &c.feedback_key_file));
      break;
    }
    case ExchangeKind::kTcap: {
      allowed.insert({"base_url", "token_path", "list_path", "username", "password_file", "ideology", "cacert",
                      "page_size", "stale_after_s"});
      c.base_url = "https://beta.terrorismanalytics.org";
      c.page_limit = 1000;
      c.stale_after_s = 30ll * 86400;
      HS_RETURN_IF_ERROR(base_url(false));
      for (auto [key, dst] : {std::pair{"token_path", &c.token_path}, std::pair{"list_path", &c.list_path}}) {
        HS_RETURN_IF_ERROR(str(key, false, dst));
        if (dst->empty() || dst->front() != '/' || dst->size() > 256 ||
            dst->find_first_of("?#% \t\r\n") != std::string::npos) {
          return Status::InvalidArgument(at + "." + key + ": a path starting with '/' (no query, no spaces)");
        }
      }
      HS_RETURN_IF_ERROR(str("username", true, &c.username));
      if (c.username.empty() || c.username.size() > 256 ||
          !std::all_of(c.username.begin(), c.username.end(), [](unsigned char ch) { return ch >= 0x20 && ch != 0x7f; })) {
        return Status::InvalidArgument(at + ".username: 1..256 printable bytes");
      }
      HS_RETURN_IF_ERROR(str("password_file", true, &c.password_file));
      if (c.password_file.empty()) return Status::InvalidArgument(at + ".password_file: must not be empty");
      HS_RETURN_IF_ERROR(str("ideology", false, &c.ideology));
      if (!c.ideology.empty() && c.ideology != "islamist" && c.ideology != "far-right" && c.ideology != "all") {
        return Status::InvalidArgument(at + ".ideology: '" + c.ideology + "' is not one of islamist, far-right, all");
      }
      HS_RETURN_IF_ERROR(str("cacert", false, &c.cacert));
      HS_RETURN_IF_ERROR(num("page_size", 1, 10000, &c.page_limit));
      HS_RETURN_IF_ERROR(num("stale_after_s", 1, 365ll * 86400, &c.stale_after_s));
      break;
    }
    default:
      return Status::Unsupported(at + ".kind: '" + kind + "' is not built yet in this version (docs/exchanges.md)");
  }
  if (c.kind == ExchangeKind::kUrl || c.kind == ExchangeKind::kFile) {
    codec::ListFormat format;
    base::SignalType type;
    HS_RETURN_IF_ERROR(codec::ParseListFormat(c.format, &format).WithContext(at + ".format"));
    HS_RETURN_IF_ERROR(base::ParseSignalType(c.type, &type).WithContext(at + ".type"));
  }
  std::string unknown;
  for (const auto& [k, v] : table) {
    if (!allowed.count(k)) unknown += (unknown.empty() ? "" : ", ") + k;
  }
  if (!unknown.empty()) {
    return Status::InvalidArgument(at + " (" + c.name + ", kind " + kind + "): unknown key(s) " + unknown);
  }
  *out = std::move(c);
  return Status::Ok();
}

Status ValidateExchanges(const std::vector<ExchangeConfig>& exchanges) {
  std::set<std::string> names;
  for (const auto& e : exchanges) {
    if (!names.insert(e.name).second) return Status::InvalidArgument("exchange name '" + e.name + "' is used twice");
  }
  return Status::Ok();
}

}  // namespace hsync
