#include "server/http_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <chrono>
#include <thread>

#include <httplib.h>

#include "base/clock.h"
#include "server/api.h"
#include "server/log.h"
#include "server/routes.h"

namespace server {

namespace {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return e ? buf : "unknown error";
}

void WriteResponse(const ApiResponse& api, httplib::Response& res) {
  res.status = api.status;
  for (const auto& [k, v] : api.headers) res.set_header(k, v);
  res.set_content(api.body, api.content_type.c_str());
}

// Extracts the bearer token, or "" when the header is absent or malformed.
std::string BearerToken(const httplib::Request& req) {
  std::string h = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (h.size() <= kBearer.size() || h.compare(0, kBearer.size(), kBearer) != 0) return {};
  return h.substr(kBearer.size());
}

}  // namespace

struct HttpServer::Impl {
  Service* service;
  std::unique_ptr<httplib::Server> http;

  // Runs one request through auth, rate limit and the route's handler.
  // `read_body` (raw image routes) is called only after auth succeeded, so an
  // unauthenticated client never gets its upload buffered.
  void Dispatch(const Route& route, const httplib::Request& req, httplib::Response& res,
                const httplib::ContentReader* reader) {
    auto start = std::chrono::steady_clock::now();
    ApiRequest api;
    ApiResponse out;
    api.method = req.method;
    api.path = req.path;
    for (size_t i = 1; i < req.matches.size(); ++i) api.path_args.push_back(req.matches[i].str());
    api.params.insert(req.params.begin(), req.params.end());
    api.content_type = req.get_header_value("Content-Type");
    bool authorized = Authorize(route, req, &api, &out);
    if (reader) ReadBody(*reader, authorized, req.get_header_value("Content-Length"), &api, &res);
    if (authorized) {
      if (route.body != Route::Body::kRawImage) api.body = req.body;
      if (route.body == Route::Body::kMultipart) {
        for (const auto& [name, f] : req.files) api.parts.push_back({f.name, f.filename, f.content_type, f.content});
      }
      route.handler(*service, api, &out);
    }
    WriteResponse(out, res);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    service->metrics().ObserveRequest(route.name, out.status, seconds);
    if (service->config().log_requests) {
      char ms[32];
      std::snprintf(ms, sizeof ms, "%.2f", seconds * 1000);
      Log(out.status >= 500 ? LogLevel::kWarn : LogLevel::kInfo, "request",
          {{"method", req.method},
           {"route", route.name},
           {"status", std::to_string(out.status)},
           {"ms", ms},
           {"key", api.key.id.empty() ? "-" : api.key.id},
           {"bytes_in", std::to_string(reader ? api.body.size() : req.body.size())},
           {"peer", req.remote_addr}});
    }
  }

  bool Authorize(const Route& route, const httplib::Request& req, ApiRequest* api, ApiResponse* out) {
    if (route.roles == kPublic) return true;
    std::string token = BearerToken(req);
    Status s = token.empty() ? Status::NotFound("") : service->keys()->Authenticate(token, &api->key);
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

  // Reads a streamed body up to limits.max_body_bytes. Bodies of refused
  // requests are read and dropped, so the connection stays in step.
  void ReadBody(const httplib::ContentReader& reader, bool keep, const std::string& content_length, ApiRequest* api,
                httplib::Response* res) {
    const size_t max = static_cast<size_t>(service->config().max_body_bytes);
    bool over = false;
    size_t seen = 0;
    bool ok = reader([&](const char* data, size_t len) {
      seen += len;
      if (seen > max) {
        over = true;
        return false;
      }
      if (keep) api->body.append(data, len);
      return true;
    });
    api->body_bytes = seen;
    if (!ok && (over || res->status == 413)) {
      api->body_too_large = true;
      if (!over) api->body_bytes = std::strtoull(content_length.c_str(), nullptr, 10);
      // A cut-off stream leaves unread bytes on the connection.
      if (over) res->set_header("Connection", "close");
    }
    res->status = -1;  // let the handler's status stand
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Status HttpServer::Create(Service* service, std::unique_ptr<HttpServer>* out) {
  const ServerConfig& c = service->config();
  auto impl = std::make_unique<Impl>();
  impl->service = service;
  if (c.plain_http) {
    impl->http = std::make_unique<httplib::Server>();
  } else {
    std::string problem;
    auto setup = [&](SSL_CTX& ctx) {
      SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
      SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
      if (SSL_CTX_use_certificate_chain_file(&ctx, c.tls_cert.c_str()) != 1) {
        problem = "server.tls_cert: cannot load " + c.tls_cert + ": " + OpenSslError();
        return false;
      }
      if (SSL_CTX_use_PrivateKey_file(&ctx, c.tls_key.c_str(), SSL_FILETYPE_PEM) != 1) {
        problem = "server.tls_key: cannot load " + c.tls_key + ": " + OpenSslError();
        return false;
      }
      if (SSL_CTX_check_private_key(&ctx) != 1) {
        problem = "server.tls_key: " + c.tls_key + " does not match the certificate " + c.tls_cert;
        return false;
      }
      return true;
    };
    auto ssl = std::make_unique<httplib::SSLServer>(setup);
    if (!ssl->is_valid()) return Status::InvalidArgument(problem.empty() ? "cannot set up TLS" : problem);
    impl->http = std::move(ssl);
  }
  httplib::Server& http = *impl->http;
  size_t threads = c.connection_threads > 0 ? static_cast<size_t>(c.connection_threads)
                                            : 16 * std::max(1u, std::thread::hardware_concurrency());
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(static_cast<size_t>(c.max_body_bytes));
  http.set_keep_alive_timeout(c.keep_alive_timeout_s);
  http.set_keep_alive_max_count(static_cast<size_t>(c.keep_alive_max_requests));
  http.set_read_timeout(c.read_timeout_s, 0);
  http.set_write_timeout(c.read_timeout_s, 0);
  http.set_tcp_nodelay(true);

  Impl* self = impl.get();
  for (const Route& route : Routes()) {
    const Route* r = &route;
    std::string m = route.method;
    if (route.body == Route::Body::kRawImage) {
      http.Post(route.pattern, [self, r](const httplib::Request& req, httplib::Response& res,
                                          const httplib::ContentReader& reader) { self->Dispatch(*r, req, res, &reader); });
      continue;
    }
    httplib::Server::Handler h = [self, r](const httplib::Request& req, httplib::Response& res) {
      self->Dispatch(*r, req, res, nullptr);
    };
    if (m == "GET") http.Get(route.pattern, h);
    else if (m == "POST") http.Post(route.pattern, h);
    else if (m == "PATCH") http.Patch(route.pattern, h);
    else if (m == "DELETE") http.Delete(route.pattern, h);
  }
  // Requests no route took (unknown path, body over the limit, malformed
  // HTTP) still get a JSON error body.
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    ApiResponse api;
    switch (res.status) {
      case 404: api.Error(404, "not_found", "no such route"); break;
      case 413: api.Error(413, "too_large", "the request body is over the configured limit"); break;
      case 400: api.Error(400, "invalid_argument", "malformed request"); break;
      default: api.Error(res.status, "error", "request failed"); break;
    }
    res.set_content(api.body, api.content_type.c_str());
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    ApiResponse api;
    api.Error(500, "internal", "internal error");
    WriteResponse(api, res);
    Log(LogLevel::kError, "handler threw an exception");
  });
  out->reset(new HttpServer(std::move(impl)));
  return Status::Ok();
}

Status HttpServer::Bind(std::string* bound) {
  std::string host;
  int port = 0;
  HS_RETURN_IF_ERROR(ParseListen(impl_->service->config().listen, &host, &port));
  if (port == 0) {
    port = impl_->http->bind_to_any_port(host);
    if (port < 0) return Status::IOError("cannot bind " + host + " on any port");
  } else if (!impl_->http->bind_to_port(host, port)) {
    return Status::IOError("cannot bind " + impl_->service->config().listen + " (in use, or not an address of this host)");
  }
  *bound = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  return Status::Ok();
}

void HttpServer::Serve() { impl_->http->listen_after_bind(); }

void HttpServer::Stop() { impl_->http->stop(); }

}  // namespace server
