// Front: hashscreend's HTTP/1.1 server: one event-loop thread (epoll over
// non-blocking sockets) that accepts, runs TLS handshakes, reads request
// heads and bodies, enforces deadlines and connection caps, and writes
// responses; plus a WorkerPool that runs the application's code. A slow or
// idle client therefore costs a socket and a few KB, never a thread.
//
// One request's path:
//   accept -> [TLS handshake] -> head (RequestParser; paused at its end)
//   -> Application::Admit on a worker, before any body byte is consumed;
//      a refusal is answered at once and, when the request announced a
//      body, the connection closes without reading it
//   -> body, counted as received (chunked or not) and cut off at
//      max_body_bytes (Handle then sees body_too_large; the connection
//      closes); buffer space is reserved as bytes arrive, never for what
//      a Content-Length merely announces, within the global body buffer
//      budget and the budget of the request's owner (503 when over)
//   -> Application::Handle on a worker -> response written by the loop
//   -> keep-alive: the next request, or idle until keep_alive_timeout.
//
// Deadlines (each for the whole phase, not per read): the head must arrive
// within header_timeout from its first byte (for a new connection: from
// accept, so the TLS handshake counts too); the body within body_timeout
// from the end of the head; the response must be written within
// write_timeout; an idle keep-alive connection closes after
// keep_alive_timeout. Connection caps: ConnectionCaps per listener (at a
// full cap: idle connections first, then heads older than head_grace_ms).
//
// Thread-safety: Create, AddListener and Run from one thread; Stop from any
// thread (a signal handler thread). Application methods are called on
// worker threads, concurrently, each request by one thread at a time.
#pragma once

#include <any>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "server/http/request_parser.h"
#include "server/http/response.h"
#include "server/http/tls_context.h"

namespace server::http {

struct Request {
  RequestHead head;
  std::string peer;   // the client's address
  int listener = 0;   // the tag of the listener it arrived on
  std::string body;
  // Body bytes received; when refused unread over the limit, the
  // Content-Length announced.
  uint64_t body_bytes = 0;
  // The body is over max_body_bytes: announced (never read) or cut off.
  bool body_too_large = false;
  // When the request was complete (for a refusal: when its head was).
  std::chrono::steady_clock::time_point complete_at;
  std::any state;           // what Admit leaves for Handle
  // Who the body's buffer space is charged to (Admit sets it: the API key),
  // so one owner cannot hold more than body_buffer_per_owner_bytes of the
  // budget. Empty: charged to the global budget only.
  std::string budget_owner;
};

class Application {
 public:
  virtual ~Application() = default;
  // Decides from the head alone, before any body byte is consumed. True:
  // read the body, then Handle. False: *refusal is the answer; the body is
  // never read and, if one was announced, the connection closes after the
  // answer. request.body_too_large is already set when Content-Length is
  // over the limit (then returning true is answered with a plain 413).
  virtual bool Admit(Request& request, Response* refusal) = 0;
  // The complete request, or one whose body went over the limit
  // (body_too_large; body empty; the connection closes after the answer).
  virtual void Handle(Request& request, Response* response) = 0;
  // True for a bodyless request so cheap that Admit and Handle may run on
  // the event loop itself (they must not block): it then never waits behind
  // busy workers, and skips two thread hand-offs.
  virtual bool RunsInline(const Request& /*request*/) const { return false; }
};

struct FrontOptions {
  size_t worker_threads = 8;
  size_t max_connections = 1024;         // per listener
  size_t max_connections_per_peer = 64;  // per listener and peer address
  // At a full cap, a connection whose head (TLS handshake included) has been
  // arriving for longer than this may be closed for a new one (ConnectionCaps).
  int64_t head_grace_ms = 50;
  size_t max_head_bytes = 16384;
  size_t max_headers = 64;
  uint64_t max_body_bytes = 32ull << 20;
  uint64_t body_buffer_bytes = 256ull << 20;  // all bodies being received or handled
  uint64_t body_buffer_per_owner_bytes = 64ull << 20;  // one Request::budget_owner's share
  int64_t header_timeout_ms = 10000;
  int64_t body_timeout_ms = 60000;
  int64_t write_timeout_ms = 30000;
  int64_t keep_alive_timeout_ms = 5000;
  uint64_t keep_alive_max_requests = 10000;
  // After refusing a request whose body was not read, what the client still
  // sends is discarded for up to this long / this many bytes before the
  // socket closes, so the answer is not lost to a TCP reset.
  int64_t linger_ms = 2000;
  uint64_t linger_bytes = 4ull << 20;
};

// Counters and gauges of the front (for /metrics).
struct FrontStats {
  std::atomic<int64_t> open_connections{0};
  std::atomic<int64_t> body_buffer_bytes{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused_max_connections{0};
  std::atomic<uint64_t> refused_max_per_peer{0};
  std::atomic<uint64_t> accept_errors{0};
  std::atomic<uint64_t> evicted_idle{0};
  std::atomic<uint64_t> evicted_slow_head{0};
  std::atomic<uint64_t> header_timeouts{0};
  std::atomic<uint64_t> body_timeouts{0};
  std::atomic<uint64_t> write_timeouts{0};
  std::atomic<uint64_t> tls_handshake_failures{0};
  std::atomic<uint64_t> body_buffer_refusals{0};
};

class Front {
 public:
  static base::Status Create(const FrontOptions& options, Application* app, std::unique_ptr<Front>* out);
  ~Front();
  Front(const Front&) = delete;
  Front& operator=(const Front&) = delete;

  // Before Run: serves the listening socket `fd` (taken over; closed by the
  // front), with TLS from `tls` (not owned; outlives the front) or plain
  // HTTP when null. `tag` is passed to the application in Request::listener.
  void AddListener(int fd, TlsContext* tls, int tag);
  // Serves until Stop; then stops accepting, closes idle connections and
  // those whose request head has not arrived, finishes the requests in
  // progress (answering with Connection: close), and returns.
  void Run();
  void Stop();
  const FrontStats& stats() const;

 private:
  struct Impl;
  explicit Front(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace server::http
