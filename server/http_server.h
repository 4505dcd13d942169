// HttpServer: hashscreend's HTTP application on top of the front
// (server/http/front.h): the route table, authentication (401), the route's
// roles (403), the per-key rate limit (429), the protocol refusals that need
// the route (404, 405, 411, 413, 415, 417), multipart parsing, and one
// request log line and metrics per request.
//
// All of it is decided from the request head, before the front reads any
// body byte; the handlers (routes.h) then run on the front's worker pool.
// Two listeners: the public one (HTTPS, or plain HTTP on loopback) serving
// every route, and the metrics listener (plain HTTP, `metrics.listen`,
// loopback unless `metrics.allow_remote`) serving only GET /metrics without
// a key.
//
// Thread-safety: Stop and ReloadTls may be called from any thread (the
// signal thread); the other methods from the thread that owns the server.
#pragma once

#include <memory>
#include <string>

#include "server/service.h"

namespace server {

class HttpServer {
 public:
  // Loads the TLS certificate and key (unless plain_http) and installs the
  // routes. InvalidArgument naming the file when TLS material is unusable.
  static Status Create(Service* service, std::unique_ptr<HttpServer>* out);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the configured addresses (port 0 picks a free port); *bound is the
  // actual "host:port" of the public listener. A port in use is IOError
  // "cannot bind ADDR: address in use".
  Status Bind(std::string* bound);
  // The metrics listener's actual address, "" when metrics.listen is "".
  const std::string& metrics_address() const;
  // Serves until Stop; returns after in-flight requests finished.
  void Serve();
  // Stops accepting; requests in progress are finished and answered.
  void Stop();
  // Reloads the TLS certificate and key files for new connections (SIGHUP);
  // on failure the current ones stay and the error says why.
  Status ReloadTls();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace server
