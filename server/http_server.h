// HttpServer: the HTTPS (or loopback plain HTTP) front of hashscreend, built
// on cpp-httplib. This file pair is the only place that knows httplib: it
// turns each request into an ApiRequest, authenticates it (401), checks the
// route's roles (403), applies the per-key rate limit (429), runs the route
// handler on a connection thread, and records metrics and one log line.
//
// Threading: one acceptor thread (Serve) hands each connection to a pool of
// connection threads; CPU-heavy hashing is further bounded by the Service's
// ScreenGate, so the acceptor never waits for hashing.
//
// Thread-safety: Stop may be called from any thread (e.g. a signal thread);
// the other methods from the thread that owns the server.
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

  // Binds the configured address (port 0 picks a free port); *bound is the
  // actual "host:port".
  Status Bind(std::string* bound);
  // Accepts and serves until Stop; returns after in-flight requests finished.
  void Serve();
  // Stops accepting; connections finish the request they are serving.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace server
