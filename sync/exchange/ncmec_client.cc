#include "sync/exchange/ncmec_client.h"

#include <expat.h>

#include <algorithm>
#include <cstring>

#include <httplib.h>

#include "base/clock.h"
#include "base/number_parse.h"
#include "sync/follower.h"

namespace hsync {

namespace {

Status Bad(const std::string& why) { return Status::InvalidArgument("NCMEC page: " + why); }

constexpr size_t kMaxDepth = 32;
constexpr size_t kMaxText = 4096;  // any one element's text (ids, hashes, next paths)

// Element names arrive as "namespace|local" (XML_ParserCreateNS with '|'):
// the namespace is NCMEC's, whatever the version says, so only local names count.
std::string_view Local(const XML_Char* name) {
  std::string_view n(name);
  const size_t bar = n.rfind('|');
  return bar == std::string_view::npos ? n : n.substr(bar + 1);
}

struct Parse {
  XML_Parser parser = nullptr;
  std::vector<std::string> path;  // local names from the root
  std::string text;
  Status error;
  NcmecPage page;
  NcmecEntry entry;
  bool in_entry = false, entry_is_video = false;
  std::string id, member, timestamp, classification;
  std::vector<std::pair<std::string, std::string>> fingerprints;  // element, value
  size_t index = 0;

  void Fail(Status s) {
    if (error.ok()) error = std::move(s);
    XML_StopParser(parser, XML_FALSE);
  }
};

bool IsEntry(std::string_view n) {
  return n == "image" || n == "video" || n == "deletedImage" || n == "deletedVideo";
}

void XMLCALL OnStart(void* data, const XML_Char* name, const XML_Char** attrs) {
  auto* p = static_cast<Parse*>(data);
  // expat may still report events after XML_StopParser (the end of an
  // empty element): nothing is read after the first error.
  if (!p->error.ok()) return;
  if (p->path.size() >= kMaxDepth) return p->Fail(Bad("nested deeper than 32 elements"));
  const std::string_view local = Local(name);
  if (p->path.empty() && local != "queryResult") return p->Fail(Bad("the root is <" + std::string(local) + ">, not <queryResult>"));
  if (p->path.size() == 2 && (p->path[1] == "images" || p->path[1] == "videos") && IsEntry(local)) {
    p->in_entry = true;
    p->entry_is_video = local == "video" || local == "deletedVideo";
    p->entry = NcmecEntry();
    p->entry.deleted = local.rfind("deleted", 0) == 0;
    p->id.clear();
    p->member.clear();
    p->timestamp.clear();
    p->classification.clear();
    p->fingerprints.clear();
  }
  if (p->in_entry && p->path.size() == 3 && local == "member") {
    for (size_t i = 0; attrs[i]; i += 2) {
      if (std::string_view(attrs[i]) == "id") p->member = attrs[i + 1];
    }
  }
  p->path.emplace_back(local);
  p->text.clear();
}

void XMLCALL OnText(void* data, const XML_Char* s, int len) {
  auto* p = static_cast<Parse*>(data);
  if (!p->error.ok()) return;
  if (p->text.size() + static_cast<size_t>(len) > kMaxText) return p->Fail(Bad("an element's text is longer than 4096 bytes"));
  p->text.append(s, static_cast<size_t>(len));
}

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

// The `name` query parameter of a relative URL, "" if absent.
std::string QueryParam(const std::string& url, const std::string& name) {
  const size_t q = url.find('?');
  if (q == std::string::npos) return "";
  size_t at = q + 1;
  while (at < url.size()) {
    size_t end = url.find('&', at);
    if (end == std::string::npos) end = url.size();
    const std::string kv = url.substr(at, end - at);
    if (kv.rfind(name + "=", 0) == 0) return kv.substr(name.size() + 1);
    at = end + 1;
  }
  return "";
}

void FinishEntry(Parse* p) {
  const std::string at = "entry " + std::to_string(p->index++) + ": ";
  if (p->id.empty()) return p->Fail(Bad(at + "no <id>"));
  if (p->member.empty() || p->member.find_first_not_of("0123456789") != std::string::npos || p->member.size() > 20) {
    return p->Fail(Bad(at + "no numeric <member id>"));
  }
  p->entry.ref = p->member + "-" + p->id;
  if (p->entry.ref.size() > base::kMaxRefBytes) return p->Fail(Bad(at + "id too long"));
  if (p->entry_is_video) {
    ++p->page.skipped;
    return;
  }
  if (!p->timestamp.empty()) {
    int64_t ms = 0;
    if (!ParseNcmecTime(p->timestamp, &ms)) return p->Fail(Bad(at + "timestamp '" + p->timestamp + "' is not ISO 8601 UTC"));
    p->entry.meta.first_seen_ms = ms;
  }
  if (!p->classification.empty() && p->classification.size() <= store::kMaxSignalTagBytes) {
    p->entry.meta.tags.push_back(p->classification);
  }
  if (!p->entry.deleted) {
    for (auto& [element, value] : p->fingerprints) {
      if (element != "md5" && element != "pdq") continue;
      std::transform(value.begin(), value.end(), value.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      base::SignalEntry e;
      Status s = base::ParseSignal(element, value, p->entry.ref, &e);
      if (!s.ok()) return p->Fail(Bad(at + "<" + element + ">: " + s.message()));
      const bool dup = std::any_of(p->entry.signals.begin(), p->entry.signals.end(),
                                   [&](const base::SignalEntry& x) { return x.type == e.type && x.hash == e.hash; });
      if (!dup) p->entry.signals.push_back(std::move(e));
    }
  }
  p->page.entries.push_back(std::move(p->entry));
}

void XMLCALL OnEnd(void* data, const XML_Char* name) {
  auto* p = static_cast<Parse*>(data);
  if (!p->error.ok() || p->path.empty()) return;
  const std::string_view local = Local(name);
  const size_t depth = p->path.size();  // of the element ending
  const std::string text = Trim(p->text);
  p->text.clear();
  if (p->in_entry) {
    if (depth == 3) {
      // queryResult/images/image itself.
      p->in_entry = false;
      FinishEntry(p);
    } else if (depth == 4) {
      if (local == "id") p->id = text;
      if (local == "timestamp") p->timestamp = text;
      if (local == "classification") p->classification = text;
    } else if (depth == 5 && p->path[3] == "fingerprints" && !text.empty()) {
      // Large fingerprints are empty elements with an href: not inline, skipped.
      p->fingerprints.emplace_back(std::string(local), text);
    }
  } else if (depth == 3 && p->path[1] == "paging" && local == "next") {
    p->page.next = text;
  }
  p->path.pop_back();
}

void XMLCALL OnDoctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
  static_cast<Parse*>(data)->Fail(Bad("a DOCTYPE is refused (no DTDs, no entities)"));
}

void XMLCALL OnEntityDecl(void* data, const XML_Char*, int, const XML_Char*, int, const XML_Char*, const XML_Char*,
                          const XML_Char*, const XML_Char*) {
  static_cast<Parse*>(data)->Fail(Bad("an entity declaration is refused"));
}

}  // namespace

bool ParseNcmecTime(std::string_view t, int64_t* unix_ms) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (t.size() != 20 && t.size() != 24) return false;
  auto digits = [&](size_t at, size_t n, int* out) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      v = v * 10 + (t[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h, mi, s, ms = 0;
  if (!digits(0, 4, &y) || t[4] != '-' || !digits(5, 2, &mo) || t[7] != '-' || !digits(8, 2, &d) || t[10] != 'T' ||
      !digits(11, 2, &h) || t[13] != ':' || !digits(14, 2, &mi) || t[16] != ':' || !digits(17, 2, &s)) {
    return false;
  }
  if (t.size() == 24 && (t[19] != '.' || !digits(20, 3, &ms))) return false;
  if (t.back() != 'Z') return false;
  return base::UtcToUnixMs(y, mo, d, h, mi, s, ms, unix_ms);
}

std::string FormatNcmecTime(int64_t unix_s) { return base::FormatIso8601(unix_s * 1000); }

Status ParseNcmecPage(std::string_view body, NcmecPage* out) {
  if (body.size() > static_cast<size_t>(INT32_MAX)) return Bad("larger than 2 GiB");
  Parse p;
  p.parser = XML_ParserCreateNS(nullptr, '|');
  if (!p.parser) return Status::Unavailable("expat: out of memory");
  XML_SetUserData(p.parser, &p);
  XML_SetElementHandler(p.parser, OnStart, OnEnd);
  XML_SetCharacterDataHandler(p.parser, OnText);
  XML_SetStartDoctypeDeclHandler(p.parser, OnDoctype);
  XML_SetEntityDeclHandler(p.parser, OnEntityDecl);
  XML_SetParamEntityParsing(p.parser, XML_PARAM_ENTITY_PARSING_NEVER);
  const XML_Status st = XML_Parse(p.parser, body.data(), static_cast<int>(body.size()), XML_TRUE);
  if (st != XML_STATUS_OK && p.error.ok()) {
    p.error = Bad(std::string("not XML (line ") + std::to_string(XML_GetCurrentLineNumber(p.parser)) +
                  "): " + XML_ErrorString(XML_GetErrorCode(p.parser)));
  }
  XML_ParserFree(p.parser);
  HS_RETURN_IF_ERROR(p.error);
  if (!p.page.next.empty()) {
    if (p.page.next.rfind("/v2/entries?", 0) != 0) return Bad("paging next '" + p.page.next.substr(0, 200) + "' is not a /v2/entries path");
    uint64_t max = 0, start = 0;
    if (base::ParseUint(QueryParam(p.page.next, "max"), "max", 0, UINT64_MAX / 2, &max).ok() &&
        base::ParseUint(QueryParam(p.page.next, "start"), "start", 0, UINT64_MAX / 2, &start).ok() && max >= start) {
      p.page.estimated = static_cast<int64_t>(max - start + p.page.entries.size() + p.page.skipped);
    }
  }
  *out = std::move(p.page);
  return Status::Ok();
}

Status NcmecClient::Create(const ExchangeConfig& config, std::unique_ptr<NcmecClient>* out) {
  std::unique_ptr<NcmecClient> c(new NcmecClient(config));
  std::string line;
  const std::string what = "exchange '" + config.name + "' credentials_file";
  HS_RETURN_IF_ERROR(ReadKeyFile(config.credentials_file, what, &line));
  const size_t colon = line.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == line.size()) {
    return Status::InvalidArgument(what + ": the line must be user:password");
  }
  c->user_ = line.substr(0, colon);
  c->password_ = line.substr(colon + 1);
  *out = std::move(c);
  return Status::Ok();
}

std::string NcmecClient::WindowPath(int64_t from_s, int64_t to_s) {
  return "/v2/entries?from=" + httplib::detail::encode_query_param(FormatNcmecTime(from_s)) +
         "&to=" + httplib::detail::encode_query_param(FormatNcmecTime(to_s));
}

Status NcmecClient::Fetch(const std::string& path, NcmecPage* out, int* status, int64_t* retry_after_s) {
  *retry_after_s = -1;
  *status = 0;
  // Only an entries path on the configured base: the credentials go nowhere else.
  if (path.rfind("/v2/entries?", 0) != 0 || path.find_first_of(" #\r\n") != std::string::npos) {
    return Status::InvalidArgument("NCMEC paging path '" + path.substr(0, 200) + "' is not a /v2/entries query");
  }
  HttpRequest req;
  req.url = config_.base_url + path;
  req.name = "NCMEC " + path.substr(0, 200);
  req.cacert = config_.cacert;
  req.max_bytes = config_.max_bytes;
  req.timeout_s = config_.timeout_s;
  req.headers.push_back(httplib::make_basic_authentication_header(user_, password_));
  req.headers.emplace_back("Accept", "application/xml");
  HttpAnswer a;
  HS_RETURN_IF_ERROR(fetcher_.Get(req, &a));
  *status = a.status;
  if (a.status != 200) {
    if (a.status == 429 || a.status == 503) *retry_after_s = a.retry_after_s;
    return Status::Unavailable("NCMEC entries answered HTTP " + std::to_string(a.status));
  }
  return ParseNcmecPage(a.body, out);
}

}  // namespace hsync
