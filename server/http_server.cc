#include "server/http_server.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "server/api.h"
#include "server/http/front.h"
#include "server/http/listener.h"
#include "server/http/media_type.h"
#include "server/http/multipart.h"
#include "server/http/tls_context.h"
#include "server/log.h"
#include "server/request_id.h"
#include "server/route_pattern.h"
#include "server/routes.h"
#include "server/ui_auth.h"

namespace server {

namespace {

constexpr int kPublicListener = 1;
constexpr int kMetricsListener = 2;
constexpr int kListenBacklog = 1024;
const std::string kUiIndexPath = "/ui/index.html";

struct CompiledRoute {
  const Route* route;
  RoutePattern pattern;
};

// What Admit learned from the head, for Handle.
struct Exchange {
  const Route* route = nullptr;
  ApiRequest api;
};

// Every answer names its request (server/request_id.h).
http::Response ToHttp(const ApiResponse& api, std::string_view request_id) {
  http::Response r;
  r.status = api.status;
  r.content_type = api.content_type;
  r.headers = api.headers;
  r.headers.emplace_back("X-Request-Id", std::string(request_id));
  // API answers are never cached (a shared browser must not show one
  // reviewer's entries to the next); handlers that may be cached say so.
  const bool has_cache_control = std::any_of(r.headers.begin(), r.headers.end(),
                                             [](const auto& h) { return h.first == "Cache-Control"; });
  if (!has_cache_control) r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.body = api.body;
  return r;
}

// The bearer token, or "" when the header is absent or malformed.
std::string BearerToken(const http::RequestHead& head) {
  const std::string* h = head.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!h || h->size() <= kBearer.size() || h->compare(0, kBearer.size(), kBearer) != 0) return {};
  return h->substr(kBearer.size());
}

// The first coding of Content-Encoding other than identity, or "".
std::string ContentCoding(const http::RequestHead& head) {
  for (const auto& [name, value] : head.headers) {
    if (name != "content-encoding") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view coding = http::TrimSpace(rest.substr(0, comma));
      rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
      if (!coding.empty() && !http::EqualsIgnoreCase(coding, "identity")) return std::string(coding);
    }
  }
  return {};
}

// Writes a follower refuses: lists (create, PATCH, batches), reviews and
// forwarded audit entries, which belong to the primary's lists and match log.
bool IsListWrite(const Route& route) {
  const std::string_view name = route.name;
  return std::string_view(route.method) != "GET" &&
         (name.rfind("/v1/lists", 0) == 0 || name == "/v1/audit/{id}/review" || name == "/v1/audit/forward");
}

Status Compile(const std::vector<Route>& routes, std::vector<CompiledRoute>* out) {
  out->clear();
  for (const Route& r : routes) {
    CompiledRoute c{&r, {}};
    HS_RETURN_IF_ERROR(RoutePattern::Parse(r.pattern, &c.pattern));
    out->push_back(std::move(c));
  }
  return Status::Ok();
}

// Lets the process hold as many descriptors as it may: every connection is
// one, and the default soft limit (1024) is below server.max_connections.
void RaiseDescriptorLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

struct HttpServer::Impl : http::Application {
  Service* service = nullptr;
  std::unique_ptr<http::TlsContext> tls;
  std::unique_ptr<http::Front> front;
  std::vector<CompiledRoute> api_routes, metrics_routes;
  std::string metrics_bound;

  ~Impl() override { service->metrics().SetExtraRenderer(nullptr); }

  // GET /healthz only says the process answers: run it on the event loop, so
  // health checks never queue behind busy workers (no key, no store, no lock
  // but the metrics one).
  bool RunsInline(const http::Request& req) const override {
    return req.listener == kPublicListener && (req.head.method == "GET" || req.head.method == "HEAD") &&
           req.head.path == "/healthz";
  }

  bool Admit(http::Request& req, http::Response* refusal) override {
    const http::RequestHead& head = req.head;
    const std::string request_id = RequestIdOf(head.headers);
    ScopedRequestId scope(request_id);
    const auto& routes = req.listener == kMetricsListener ? metrics_routes : api_routes;
    const std::string method = head.method == "HEAD" ? "GET" : head.method;
    const CompiledRoute* match = nullptr;
    std::vector<std::string> path_args;
    std::string allow;
    // "/ui/" is the console's page; route patterns have no empty segment.
    const std::string& path = head.path == "/ui/" ? kUiIndexPath : head.path;
    for (const auto& r : routes) {
      if (!r.pattern.Match(path, &path_args)) continue;
      if (method == r.route->method) {
        match = &r;
        break;
      }
      allow += (allow.empty() ? "" : ", ") + std::string(r.route->method);
      if (std::string_view(r.route->method) == "GET") allow += ", HEAD";
    }
    ApiResponse out;
    if (!match) {
      if (allow.empty()) {
        out.Error(404, "not_found", "no such route");
      } else {
        out.Error(405, "method_not_allowed", head.method + " is not allowed on this route (allowed: " + allow + ")");
        out.headers.emplace_back("Allow", allow);
      }
      return Refuse("unmatched", req, "", out, refusal);
    }
    const Route& route = *match->route;
    auto exchange = std::make_shared<Exchange>();
    exchange->route = &route;
    ApiRequest& api = exchange->api;
    api.request_id = request_id;
    api.method = head.method;
    api.path = head.path;
    api.path_args = std::move(path_args);
    for (const auto& [k, v] : head.query) api.params.emplace(k, v);
    if (const std::string* ct = head.Header("content-type")) api.content_type = *ct;
    if (const std::string* accept = head.Header("accept")) api.accept = *accept;
    if (const std::string* inm = head.Header("if-none-match")) api.if_none_match = *inm;

    // Protocol refusals that need no key: the body is never decompressed
    // (a small compressed body could inflate past every limit), a body route
    // needs a length or chunked framing, and only 100-continue is expected.
    if (std::string coding = ContentCoding(head); !coding.empty()) {
      out.Error(415, "unsupported",
                "request bodies are not decompressed: send them without Content-Encoding (got " + coding + ")");
      return Refuse(route.name, req, "", out, refusal);
    }
    if (route.body != Route::Body::kNone && !head.chunked && !head.content_length) {
      out.Error(411, "length_required", "this route needs a body with Content-Length or Transfer-Encoding: chunked");
      return Refuse(route.name, req, "", out, refusal);
    }
    if (const std::string* expect = head.Header("expect"); expect && !http::EqualsIgnoreCase(*expect, "100-continue")) {
      out.Error(417, "expectation_failed", "only Expect: 100-continue is supported");
      return Refuse(route.name, req, "", out, refusal);
    }
    if (!Authorize(route, head, &api, &out)) return Refuse(route.name, req, api.key.id, out, refusal);
    if (service->follower() && IsListWrite(route)) {
      out.Error(409, "read_only_replica",
                "this instance follows " + service->follower()->primary_url() +
                    " and its lists are read-only: send list writes and reviews to the primary");
      return Refuse(route.name, req, api.key.id, out, refusal);
    }
    req.budget_owner = api.key.id;
    if (req.body_too_large) {
      api.body_too_large = true;
      api.body_bytes = req.body_bytes;
      if (route.body == Route::Body::kRawImage) {
        RunHandler(route, api, &out);  // audits the refused screen, answers 413
      } else {
        out.Error(413, "too_large", "the request body is over the configured limit of " +
                                        std::to_string(service->config().max_body_bytes) + " bytes");
      }
      return Refuse(route.name, req, api.key.id, out, refusal);
    }
    req.state = std::move(exchange);
    return true;
  }

  void Handle(http::Request& req, http::Response* response) override {
    auto exchange = std::any_cast<std::shared_ptr<Exchange>>(req.state);
    const Route& route = *exchange->route;
    ApiRequest& api = exchange->api;
    ScopedRequestId scope(api.request_id);
    api.body = std::move(req.body);
    api.body_bytes = req.body_bytes;
    api.body_too_large = req.body_too_large;
    ApiResponse out;
    if (api.body_too_large && route.body != Route::Body::kRawImage) {
      out.Error(413, "too_large", "the request body is over the configured limit of " +
                                      std::to_string(service->config().max_body_bytes) + " bytes");
    } else if (Status s = ParseParts(route, &api); !s.ok()) {
      out.FromStatus(s);
    } else {
      RunHandler(route, api, &out);
    }
    *response = ToHttp(out, api.request_id);
    Finish(route.name, req, api.key.id, api.body_bytes, out.status);
  }

  // multipart/form-data bodies become ApiRequest::parts (views into api->body).
  Status ParseParts(const Route& route, ApiRequest* api) const {
    if (route.body != Route::Body::kMultipart) return Status::Ok();
    http::MediaType type;
    if (!http::ParseMediaType(api->content_type, &type).ok() || type.Essence() != "multipart/form-data") {
      return Status::Ok();  // the handler answers 415
    }
    http::MultipartLimits limits;
    limits.max_parts = static_cast<size_t>(service->config().max_batch_parts);
    std::vector<http::MultipartPart> parts;
    HS_RETURN_IF_ERROR(http::ParseMultipart(api->body, api->content_type, limits, &parts));
    api->parts.reserve(parts.size());
    for (auto& p : parts) api->parts.push_back({std::move(p.name), std::move(p.filename), std::move(p.content_type), p.content});
    return Status::Ok();
  }

  void RunHandler(const Route& route, const ApiRequest& api, ApiResponse* out) {
    try {
      route.handler(*service, api, out);
    } catch (const std::exception& e) {
      Log(LogLevel::kError, "handler threw an exception", {{"route", route.name}, {"error", e.what()}});
      *out = ApiResponse();
      out->Error(500, "internal", "internal error");
    }
  }

  bool Refuse(const char* route_name, const http::Request& req, const std::string& key_id, const ApiResponse& out,
              http::Response* refusal) {
    *refusal = ToHttp(out, CurrentRequestId());
    Finish(route_name, req, key_id, req.body_bytes, out.status);
    return false;
  }

  // One metrics observation and one log line per request.
  void Finish(const char* route_name, const http::Request& req, const std::string& key_id, uint64_t bytes_in, int status) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - req.complete_at).count();
    service->metrics().ObserveRequest(route_name, status, seconds);
    if (!service->config().log_requests) return;
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.2f", seconds * 1000);
    Log(status >= 500 ? LogLevel::kWarn : LogLevel::kInfo, "request",
        {{"method", req.head.method},
         {"route", route_name},
         {"status", std::to_string(status)},
         {"ms", ms},
         {"key", key_id.empty() ? "-" : key_id},
         {"bytes_in", std::to_string(bytes_in)},
         {"peer", req.peer}});
  }

  bool Authorize(const Route& route, const http::RequestHead& head, ApiRequest* api, ApiResponse* out) {
    if (route.roles == kPublic) return true;
    std::string token = BearerToken(head);
    // No bearer key: the console's session cookie may stand in for one (server/ui_auth.h).
    const UiAuthResult by_cookie = token.empty() ? AuthenticateUiSession(*service, head, api) : UiAuthResult::kNoCookie;
    if (by_cookie == UiAuthResult::kCsrfFailed) {
      out->Error(403, "csrf_failed", "a console request that changes state needs the session's X-CSRF-Token header");
      return false;
    }
    Status s = by_cookie == UiAuthResult::kOk ? Status::Ok()
               : token.empty()                ? Status::NotFound("")
                                              : service->keys()->Authenticate(token, &api->key);
    if (s.code() == Status::Code::kNotFound) {
      out->Error(401, "unauthenticated", "a valid API key is required (Authorization: Bearer KEY)");
      out->headers.emplace_back("WWW-Authenticate", "Bearer");
      return false;
    }
    if (!s.ok()) {
      Log(LogLevel::kError, "key lookup failed", {{"error", s.ToString()}});
      out->FromStatus(s);
      return false;
    }
    if (service->probing().Blocks(api->key, base::NowMs())) {
      service->metrics().CountRejected("probing_suspected");
      out->Error(403, "probing_suspected", "this key is blocked: its screens looked like probing for list hashes");
      return false;
    }
    if ((route.roles & Bit(api->key.role)) == 0) {
      out->Error(403, "permission_denied", "this key's role may not call " + std::string(route.name));
      return false;
    }
    int retry_after = 1;
    if (!service->limiter().Admit(api->key.id, &retry_after)) {
      service->metrics().CountRejected("rate_limited");
      out->Error(429, "rate_limited", "too many requests for this key; retry later");
      out->headers.emplace_back("Retry-After", std::to_string(retry_after));
      return false;
    }
    return true;
  }

  // The front's connection counters in Prometheus text.
  void RenderFrontMetrics(std::string* out) const {
    const http::FrontStats& s = front->stats();
    auto gauge = [&](const char* name, const char* help, double v) {
      char num[64];
      std::snprintf(num, sizeof num, "%.0f", v);
      *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " + num + "\n";
    };
    auto counter = [&](const char* name, const char* help, const char* label,
                       std::initializer_list<std::pair<const char*, uint64_t>> values) {
      *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
      for (const auto& [k, v] : values) *out += std::string(name) + "{" + label + "=\"" + k + "\"} " + std::to_string(v) + "\n";
    };
    gauge("hashscreen_http_connections", "Open client connections (both listeners).", static_cast<double>(s.open_connections));
    gauge("hashscreen_http_body_buffer_bytes", "Request body bytes reserved in the body buffer budget.",
          static_cast<double>(s.body_buffer_bytes));
    counter("hashscreen_http_connections_refused_total", "New connections refused, by reason.", "reason",
            {{"max_connections", s.refused_max_connections.load()},
             {"max_connections_per_peer", s.refused_max_per_peer.load()},
             {"accept_error", s.accept_errors.load()}});
    counter("hashscreen_http_connections_closed_total", "Connections closed by the server before an answer, by reason.",
            "reason",
            {{"evicted_idle", s.evicted_idle.load()},
             {"evicted_slow_head", s.evicted_slow_head.load()},
             {"header_timeout", s.header_timeouts.load()},
             {"body_timeout", s.body_timeouts.load()},
             {"write_timeout", s.write_timeouts.load()},
             {"tls_handshake_failed", s.tls_handshake_failures.load()}});
    *out += "# HELP hashscreen_http_body_buffer_refusals_total Requests answered 503 because the body buffer was full.\n"
            "# TYPE hashscreen_http_body_buffer_refusals_total counter\n"
            "hashscreen_http_body_buffer_refusals_total " +
            std::to_string(s.body_buffer_refusals.load()) + "\n";
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Status HttpServer::Create(Service* service, std::unique_ptr<HttpServer>* out) {
  const ServerConfig& c = service->config();
  auto impl = std::make_unique<Impl>();
  impl->service = service;
  if (!c.plain_http) HS_RETURN_IF_ERROR(http::TlsContext::Load(c.tls_cert, c.tls_key, &impl->tls));
  RaiseDescriptorLimit();
  http::FrontOptions o;
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  // A handler may wait in the ScreenGate's queue; with at least that many
  // workers plus spare ones, queued screens never delay other routes.
  o.worker_threads = c.worker_threads > 0 ? static_cast<size_t>(c.worker_threads)
                                          : service->screen_workers() + static_cast<size_t>(c.screen_queue) + 4 * cores;
  o.max_connections = static_cast<size_t>(c.max_connections);
  o.max_connections_per_peer = static_cast<size_t>(c.max_connections_per_peer);
  o.head_grace_ms = c.head_grace_ms;
  o.max_head_bytes = static_cast<size_t>(c.max_header_bytes);
  o.max_body_bytes = static_cast<uint64_t>(c.max_body_bytes);
  o.body_buffer_bytes = static_cast<uint64_t>(c.body_buffer_bytes);
  o.body_buffer_per_owner_bytes = static_cast<uint64_t>(BodyBufferPerKey(c));
  o.header_timeout_ms = c.header_timeout_s * 1000;
  o.body_timeout_ms = c.body_timeout_s * 1000;
  o.write_timeout_ms = c.write_timeout_s * 1000;
  o.keep_alive_timeout_ms = c.keep_alive_timeout_s * 1000;
  o.keep_alive_max_requests = static_cast<uint64_t>(c.keep_alive_max_requests);
  HS_RETURN_IF_ERROR(http::Front::Create(o, impl.get(), &impl->front));
  HS_RETURN_IF_ERROR(Compile(Routes(), &impl->api_routes));
  HS_RETURN_IF_ERROR(Compile(MetricsRoutes(), &impl->metrics_routes));
  Impl* self = impl.get();
  service->metrics().SetExtraRenderer([self](std::string* text) { self->RenderFrontMetrics(text); });
  out->reset(new HttpServer(std::move(impl)));
  return Status::Ok();
}

Status HttpServer::Bind(std::string* bound) {
  const ServerConfig& c = impl_->service->config();
  std::string host;
  int port = 0;
  HS_RETURN_IF_ERROR(ParseListen(c.listen, &host, &port));
  int fd = -1;
  HS_RETURN_IF_ERROR(http::BindListener("server.listen", host, port, kListenBacklog, &fd, bound));
  impl_->front->AddListener(fd, impl_->tls.get(), kPublicListener);
  if (!c.metrics_listen.empty()) {
    HS_RETURN_IF_ERROR(ParseListen(c.metrics_listen, &host, &port));
    HS_RETURN_IF_ERROR(http::BindListener("metrics.listen", host, port, kListenBacklog, &fd, &impl_->metrics_bound));
    impl_->front->AddListener(fd, nullptr, kMetricsListener);
  }
  return Status::Ok();
}

const std::string& HttpServer::metrics_address() const { return impl_->metrics_bound; }

void HttpServer::Serve() { impl_->front->Run(); }

void HttpServer::Stop() { impl_->front->Stop(); }

Status HttpServer::ReloadTls() {
  if (!impl_->tls) return Status::Unsupported("plain HTTP: there is no TLS certificate to reload");
  return impl_->tls->Reload();
}

}  // namespace server
