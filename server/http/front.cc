#include "server/http/front.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "server/request_id.h"
#include "server/http/connection_caps.h"
#include "server/http/listener.h"
#include "server/http/media_type.h"
#include "server/http/worker_pool.h"
#include "server/log.h"

namespace server::http {

using base::Status;

namespace {

// epoll data: 0 is the wake-up eventfd, 1..kMaxListeners the listeners,
// connection ids start above.
constexpr uint64_t kWakeId = 0;
constexpr uint64_t kMaxListeners = 64;
constexpr size_t kReadChunk = 16384;   // one TLS record
constexpr int kDriveSteps = 64;        // I/O steps per connection per loop turn (fairness)
constexpr int64_t kAcceptPauseMs = 100;  // after EMFILE/ENFILE

enum class Phase {
  kIdle,       // no byte of a request yet (new, or keep-alive between requests)
  kHandshake,  // TLS handshake
  kHead,       // reading the request head
  kAdmitting,  // Application::Admit runs on a worker
  kBody,       // reading the body
  kHandling,   // Application::Handle runs on a worker
  kWriting,    // writing the response
  kLingering,  // answered and half-closed; discarding what the client still sends
};

enum class Io { kOk, kWouldBlock, kEof, kError };

}  // namespace

struct Front::Impl {
  struct Listener {
    int fd = -1;
    TlsContext* tls = nullptr;
    int tag = 0;
    uint64_t id = 0;
    std::unique_ptr<ConnectionCaps> caps;
    int64_t paused_until = 0;  // accept paused (out of descriptors) until then
  };

  struct Conn {
    explicit Conn(const RequestParser::Limits& limits) : parser(limits) {}
    uint64_t id = 0;
    int fd = -1;
    SSL* ssl = nullptr;
    Listener* listener = nullptr;
    std::string peer;
    Phase phase = Phase::kIdle;
    bool fresh = true;  // no request started yet on this connection
    bool handshake_done = false;
    bool read_wants_write = false, write_wants_read = false, handshake_wants_write = false;
    RequestParser parser;
    std::string in;
    size_t in_off = 0;
    std::string out;
    size_t out_off = 0;
    std::shared_ptr<Request> request;
    bool http10 = false, head_only = false, client_keep_alive = false;
    bool body_cut = false;  // the body went over the limit and was not read to its end
    bool close_after_write = false, linger_after_write = false;
    uint64_t served = 0;
    uint64_t reserved = 0;  // body buffer budget held
    std::string owner;      // whose budget `reserved` is charged to
    uint64_t body_wire = 0; // body bytes consumed from the wire, framing included
    uint64_t lingered = 0;
    int64_t deadline = 0;   // monotonic ms; 0 = none
    uint32_t events = 0;    // registered with epoll

    std::string_view Input() const { return std::string_view(in).substr(in_off); }
    void Consume(size_t n) {
      in_off += n;
      if (in_off == in.size()) {
        in.clear();
        in_off = 0;
      }
    }
  };

  struct Completion {
    uint64_t conn = 0;
    bool admitted = false;  // Admit said yes: read the body
    std::shared_ptr<Request> request;
    Response response;
  };

  FrontOptions options;
  Application* app = nullptr;
  FrontStats stats;
  int epoll_fd = -1, wake_fd = -1;
  std::vector<std::unique_ptr<Listener>> listeners;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns;
  std::set<std::pair<int64_t, uint64_t>> timers;  // (deadline, conn id)
  std::vector<uint64_t> ready;                     // connections to drive again next turn
  uint64_t next_id = kMaxListeners + 1;
  uint64_t budget_used = 0;
  std::unordered_map<std::string, uint64_t> owner_used;  // budget held per Request::budget_owner
  std::atomic<bool> stop_requested{false};
  bool draining = false;
  std::unique_ptr<WorkerPool> pool;
  std::mutex completions_mu;
  std::vector<Completion> completions;
  char scratch[65536];

  ~Impl() {
    pool.reset();  // first: its tasks post into members below
    for (auto& [id, c] : conns) {
      if (c->ssl) SSL_free(c->ssl);
      close(c->fd);
    }
    for (auto& l : listeners) {
      if (l->fd >= 0) close(l->fd);
    }
    if (wake_fd >= 0) close(wake_fd);
    if (epoll_fd >= 0) close(epoll_fd);
  }

  // ---- loop plumbing ----

  void Wake() {
    uint64_t one = 1;
    ssize_t n = write(wake_fd, &one, sizeof one);
    (void)n;  // a full eventfd counter already wakes the loop
  }

  void Post(Completion c) {
    {
      std::lock_guard<std::mutex> lock(completions_mu);
      completions.push_back(std::move(c));
    }
    Wake();
  }

  void SetDeadline(Conn& c, int64_t at) {
    if (c.deadline) timers.erase({c.deadline, c.id});
    c.deadline = at;
    if (at) timers.insert({at, c.id});
  }

  void SetInterest(Conn& c, uint32_t events) {
    if (events == c.events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = c.id;
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev);
    c.events = events;
  }

  void UpdateInterest(Conn& c) {
    uint32_t ev = 0;
    bool pending_out = c.out_off < c.out.size();
    switch (c.phase) {
      case Phase::kHandshake:
        ev = c.handshake_wants_write ? EPOLLOUT : EPOLLIN;
        break;
      case Phase::kIdle:
      case Phase::kHead:
      case Phase::kBody:
        ev = c.read_wants_write ? EPOLLOUT : EPOLLIN;
        break;
      case Phase::kLingering:
        ev = EPOLLIN;
        break;
      default:
        break;
    }
    if (pending_out) ev |= c.write_wants_read ? EPOLLIN : EPOLLOUT;
    SetInterest(c, ev);
  }

  bool Reserve(Conn& c, uint64_t bytes) {
    if (bytes == 0) return true;
    if (budget_used + bytes > options.body_buffer_bytes) return false;
    if (!c.owner.empty()) {
      uint64_t& mine = owner_used[c.owner];
      if (mine + bytes > options.body_buffer_per_owner_bytes) {
        if (mine == 0) owner_used.erase(c.owner);
        return false;
      }
      mine += bytes;
    }
    budget_used += bytes;
    c.reserved += bytes;
    stats.body_buffer_bytes = static_cast<int64_t>(budget_used);
    return true;
  }

  void Release(Conn& c) {
    budget_used -= c.reserved;
    if (!c.owner.empty() && c.reserved) {
      auto it = owner_used.find(c.owner);
      if (it != owner_used.end() && (it->second -= c.reserved) == 0) owner_used.erase(it);
    }
    c.reserved = 0;
    c.owner.clear();
    c.body_wire = 0;
    stats.body_buffer_bytes = static_cast<int64_t>(budget_used);
  }

  // Reserves buffer space for the body received so far plus `incoming`
  // bytes, growing geometrically (at most to the body's limit) so the
  // string's capacity and the reservation are the same bytes and a body
  // costs O(log n) reallocations. False (nothing more reserved) when a
  // budget is full.
  bool ReserveFor(Conn& c, uint64_t incoming) {
    Request& req = *c.request;
    uint64_t limit = options.max_body_bytes;
    if (req.head.content_length) limit = std::min(limit, *req.head.content_length);
    const uint64_t need = std::min<uint64_t>(limit, req.body.size() + incoming);
    if (need <= c.reserved) return true;
    const uint64_t want = std::min<uint64_t>(limit, std::max<uint64_t>(need, 2 * c.reserved));
    if (!Reserve(c, want - c.reserved) && !Reserve(c, need - c.reserved)) return false;
    req.body.reserve(c.reserved);
    return true;
  }

  void Close(Conn& c) {
    SetDeadline(c, 0);
    Release(c);
    c.listener->caps->Remove(c.id);
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
    if (c.ssl) SSL_free(c.ssl);
    close(c.fd);
    --stats.open_connections;
    conns.erase(c.id);  // destroys c
  }

  // ---- socket I/O ----

  Io ReadSome(Conn& c, size_t max) {
    max = std::min(max, sizeof scratch);
    if (!c.ssl) {
      ssize_t n = recv(c.fd, scratch, max, 0);
      if (n > 0) {
        c.in.append(scratch, static_cast<size_t>(n));
        return Io::kOk;
      }
      if (n == 0) return Io::kEof;
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? Io::kWouldBlock : Io::kError;
    }
    ERR_clear_error();
    int n = SSL_read(c.ssl, scratch, static_cast<int>(max));
    c.read_wants_write = false;
    if (n > 0) {
      c.in.append(scratch, static_cast<size_t>(n));
      return Io::kOk;
    }
    switch (SSL_get_error(c.ssl, n)) {
      case SSL_ERROR_WANT_READ: return Io::kWouldBlock;
      case SSL_ERROR_WANT_WRITE: c.read_wants_write = true; return Io::kWouldBlock;
      case SSL_ERROR_ZERO_RETURN: return Io::kEof;
      default: return Io::kError;
    }
  }

  // Writes what it can of c.out.
  Io Flush(Conn& c) {
    while (c.out_off < c.out.size()) {
      size_t len = c.out.size() - c.out_off;
      if (!c.ssl) {
        ssize_t n = send(c.fd, c.out.data() + c.out_off, len, MSG_NOSIGNAL);
        if (n > 0) {
          c.out_off += static_cast<size_t>(n);
          continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return Io::kWouldBlock;
        return Io::kError;
      }
      ERR_clear_error();
      int n = SSL_write(c.ssl, c.out.data() + c.out_off, static_cast<int>(std::min<size_t>(len, 1 << 20)));
      c.write_wants_read = false;
      if (n > 0) {
        c.out_off += static_cast<size_t>(n);
        continue;
      }
      switch (SSL_get_error(c.ssl, n)) {
        case SSL_ERROR_WANT_WRITE: return Io::kWouldBlock;
        case SSL_ERROR_WANT_READ: c.write_wants_read = true; return Io::kWouldBlock;
        default: return Io::kError;
      }
    }
    c.out.clear();
    c.out_off = 0;
    return Io::kOk;
  }

  // ---- accepting ----

  void Accept(Listener& l) {
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      int fd = accept4(l.fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
        ++stats.accept_errors;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: stop asking for a while instead of spinning
          // on a listener that stays readable.
          Log(LogLevel::kWarn, "accept paused: out of file descriptors", {{"error", std::strerror(errno)}});
          epoll_ctl(epoll_fd, EPOLL_CTL_DEL, l.fd, nullptr);
          l.paused_until = base::MonotonicMs() + kAcceptPauseMs;
        }
        return;
      }
      std::string peer = PeerAddress(&addr);
      std::vector<uint64_t> evict;
      ConnectionCaps::Verdict verdict = l.caps->Check(peer, base::MonotonicMs(), &evict);
      if (verdict != ConnectionCaps::Verdict::kAdmit) {
        ++(verdict == ConnectionCaps::Verdict::kRefusePeer ? stats.refused_max_per_peer : stats.refused_max_connections);
        close(fd);
        continue;
      }
      for (uint64_t victim : evict) {
        auto it = conns.find(victim);
        if (it == conns.end()) continue;
        // A fresh connection is idle in phase but was a head to the caps.
        ++(it->second->phase == Phase::kIdle && !it->second->fresh ? stats.evicted_idle : stats.evicted_slow_head);
        Close(*it->second);
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto conn = std::make_unique<Conn>(RequestParser::Limits{options.max_head_bytes, options.max_headers});
      Conn& c = *conn;
      c.id = next_id++;
      c.fd = fd;
      c.listener = &l;
      c.peer = std::move(peer);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = c.id;
      if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        continue;
      }
      c.events = EPOLLIN;
      l.caps->Add(c.id, c.peer, base::MonotonicMs());
      ++stats.accepted;
      ++stats.open_connections;
      // A new connection has header_timeout for its handshake and first head.
      SetDeadline(c, base::MonotonicMs() + options.header_timeout_ms);
      conns.emplace(c.id, std::move(conn));
    }
  }

  // ---- the per-connection state machine ----

  // Queues `r` as the answer to the current request and moves to kWriting.
  // `body_unread`: the client may still be sending a body we will not read.
  void Respond(Conn& c, const Response& r, bool body_unread) {
    Release(c);
    c.request.reset();
    bool keep_alive = !body_unread && !r.close && !draining && c.client_keep_alive &&
                      c.served + 1 < options.keep_alive_max_requests;
    c.out += SerializeResponse(r, keep_alive, c.http10, c.head_only);
    c.close_after_write = !keep_alive;
    c.linger_after_write = body_unread;
    c.phase = Phase::kWriting;
    SetDeadline(c, base::MonotonicMs() + options.write_timeout_ms);
  }

  void RespondError(Conn& c, int status, const std::string& code, const std::string& message, bool body_unread) {
    // Refusals the application never sees name their request too (the
    // head's X-Request-Id when it got that far and is valid).
    const std::string id = c.request ? RequestIdOf(c.request->head.headers) : NewRequestId();
    ScopedRequestId scope(id);
    Response r = ErrorResponse(status, code, message);
    r.headers.emplace_back("X-Request-Id", id);
    if (status == 503) r.headers.emplace_back("Retry-After", "1");
    Respond(c, r, body_unread);
  }

  // The response is written: close, or make ready for the next request.
  // False if the connection was closed (c is gone).
  bool FinishExchange(Conn& c) {
    if (c.close_after_write) {
      if (c.ssl) {
        ERR_clear_error();
        SSL_shutdown(c.ssl);  // one close_notify, best effort
      }
      shutdown(c.fd, SHUT_WR);
      if (!c.linger_after_write) {
        Close(c);
        return false;
      }
      c.phase = Phase::kLingering;
      c.lingered = 0;
      SetDeadline(c, base::MonotonicMs() + options.linger_ms);
      return true;
    }
    ++c.served;
    c.fresh = false;
    c.parser.Reset();
    c.http10 = c.head_only = c.client_keep_alive = c.body_cut = false;
    if (!c.Input().empty()) {
      c.phase = Phase::kHead;  // a pipelined request is already here
      c.listener->caps->SetHeadStarted(c.id, base::MonotonicMs());
      SetDeadline(c, base::MonotonicMs() + options.header_timeout_ms);
      return true;
    }
    // Idle: give the buffers back (many idle keep-alive connections must stay cheap).
    std::string().swap(c.in);
    std::string().swap(c.out);
    c.in_off = c.out_off = 0;
    c.phase = Phase::kIdle;
    c.listener->caps->SetIdle(c.id, true);
    SetDeadline(c, draining ? base::MonotonicMs() : base::MonotonicMs() + options.keep_alive_timeout_ms);
    return true;
  }

  void OnHeadComplete(Conn& c) {
    SetDeadline(c, 0);
    c.listener->caps->SetIdle(c.id, false);  // past its head: never evicted
    auto req = std::make_shared<Request>();
    req->head = c.parser.TakeHead();
    req->peer = c.peer;
    req->listener = c.listener->tag;
    c.http10 = req->head.version_minor == 0;
    c.head_only = req->head.method == "HEAD";
    c.client_keep_alive = req->head.keep_alive;
    if (req->head.content_length && *req->head.content_length > options.max_body_bytes) {
      req->body_too_large = true;
      req->body_bytes = *req->head.content_length;
    }
    const bool has_body = req->head.has_body();
    const uint64_t id = c.id;
    Application* application = app;
    if (!has_body) {
      // Complete the message (the head's final LF is still unconsumed), then
      // admit and handle in one worker task.
      size_t n = c.parser.ParseBody(c.Input(), &req->body, 0);
      c.Consume(n);
      if (c.parser.state() != RequestParser::State::kComplete) {
        return RespondError(c, c.parser.error_status() ? c.parser.error_status() : 400, "invalid_argument",
                            c.parser.error_message().empty() ? "malformed request" : c.parser.error_message(), true);
      }
      req->complete_at = std::chrono::steady_clock::now();
      c.phase = Phase::kHandling;
      if (application->RunsInline(*req)) {
        Response response;
        if (application->Admit(*req, &response)) application->Handle(*req, &response);
        return Respond(c, response, false);
      }
      pool->Submit([this, id, req, application] {
        Completion done;
        done.conn = id;
        if (application->Admit(*req, &done.response)) {
          req->complete_at = std::chrono::steady_clock::now();
          application->Handle(*req, &done.response);
        }
        Post(std::move(done));
      });
      return;
    }
    c.phase = Phase::kAdmitting;
    c.request = req;
    pool->Submit([this, id, req, application] {
      Completion done;
      done.conn = id;
      req->complete_at = std::chrono::steady_clock::now();
      done.admitted = application->Admit(*req, &done.response);
      if (done.admitted) done.request = req;
      Post(std::move(done));
    });
  }

  void OnAdmitted(Conn& c) {
    Request& req = *c.request;
    if (req.body_too_large) {
      return RespondError(c, 413, "too_large", "the request body is over the configured limit", true);
    }
    // Nothing is reserved for what Content-Length announces: a client that
    // announces 32 MiB and sends nothing holds no buffer space.
    c.owner = req.budget_owner;
    const std::string* expect = req.head.Header("expect");
    if (expect && EqualsIgnoreCase(*expect, "100-continue") && !c.http10) c.out += "HTTP/1.1 100 Continue\r\n\r\n";
    c.phase = Phase::kBody;
    SetDeadline(c, base::MonotonicMs() + options.body_timeout_ms);
  }

  void SubmitHandle(Conn& c) {
    SetDeadline(c, 0);
    std::shared_ptr<Request> req = std::move(c.request);
    req->complete_at = std::chrono::steady_clock::now();
    c.phase = Phase::kHandling;
    const uint64_t id = c.id;
    Application* application = app;
    pool->Submit([this, id, req, application] {
      Completion done;
      done.conn = id;
      application->Handle(*req, &done.response);
      req->body.clear();
      req->body.shrink_to_fit();  // free the body on the worker, not the loop
      Post(std::move(done));
    });
  }

  // Body bytes from the input buffer; true if the phase changed.
  bool ParseBodyInput(Conn& c) {
    Request& req = *c.request;
    std::string_view input = c.Input();
    if (!ReserveFor(c, input.size())) {
      ++stats.body_buffer_refusals;
      RespondError(c, 503, "unavailable", "the server is receiving too many request bodies; retry later", true);
      return true;
    }
    size_t n = c.parser.ParseBody(input, &req.body, options.max_body_bytes);
    c.Consume(n);
    // Chunk-size lines, extensions and trailers are not body bytes, but they
    // cost reading: the wire may carry at most twice the limit.
    c.body_wire += n;
    const bool framing_over =
        c.body_wire > 2 * options.max_body_bytes + (64u << 10) && c.parser.state() != RequestParser::State::kComplete;
    if (c.parser.over_limit() || framing_over) {
      req.body_too_large = true;
      req.body_bytes = framing_over ? c.body_wire : c.parser.body_bytes();
      std::string().swap(req.body);
      Release(c);
      c.body_cut = true;
      SubmitHandle(c);
      return true;
    }
    if (c.parser.state() == RequestParser::State::kError) {
      RespondError(c, c.parser.error_status(), "invalid_argument", c.parser.error_message(), true);
      return true;
    }
    if (c.parser.state() == RequestParser::State::kComplete) {
      req.body_bytes = req.body.size();
      SubmitHandle(c);
      return true;
    }
    return false;
  }

  // Runs the connection until it blocks. False if it was closed.
  bool Drive(Conn& c) {
    for (int step = 0; step < kDriveSteps; ++step) {
      if (c.out_off < c.out.size()) {
        Io w = Flush(c);
        if (w == Io::kError) {
          Close(c);
          return false;
        }
      }
      switch (c.phase) {
        case Phase::kIdle: {
          if (c.ssl == nullptr && c.listener->tls != nullptr) {
            // A new TLS connection: the handshake starts with its first byte;
            // until then it is idle (and the first to go under a cap).
            char b;
            ssize_t n = recv(c.fd, &b, 1, MSG_PEEK);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
            if (n <= 0) {
              Close(c);
              return false;
            }
            c.ssl = c.listener->tls->NewSession();
            if (!c.ssl || SSL_set_fd(c.ssl, c.fd) != 1) {
              Close(c);
              return false;
            }
            c.listener->caps->SetHeadStarted(c.id, base::MonotonicMs());
            c.phase = Phase::kHandshake;
            continue;
          }
          Io r = ReadSome(c, kReadChunk);
          if (r == Io::kWouldBlock) return true;
          if (r != Io::kOk) {
            Close(c);
            return false;
          }
          c.listener->caps->SetHeadStarted(c.id, base::MonotonicMs());
          c.phase = Phase::kHead;
          if (!c.fresh) SetDeadline(c, base::MonotonicMs() + options.header_timeout_ms);
          continue;
        }
        case Phase::kHandshake: {
          ERR_clear_error();
          int r = SSL_accept(c.ssl);
          c.handshake_wants_write = false;
          if (r == 1) {
            c.handshake_done = true;
            c.phase = Phase::kHead;
            continue;
          }
          int err = SSL_get_error(c.ssl, r);
          if (err == SSL_ERROR_WANT_READ) return true;
          if (err == SSL_ERROR_WANT_WRITE) {
            c.handshake_wants_write = true;
            return true;
          }
          ++stats.tls_handshake_failures;
          Close(c);
          return false;
        }
        case Phase::kHead: {
          if (!c.Input().empty()) {
            size_t n = c.parser.ParseHead(c.Input());
            c.Consume(n);
            if (c.parser.state() == RequestParser::State::kError) {
              RespondError(c, c.parser.error_status(), c.parser.error_status() == 431 ? "too_large" : "invalid_argument",
                           c.parser.error_message(), true);
              continue;
            }
            if (c.parser.state() == RequestParser::State::kHeadDone) {
              OnHeadComplete(c);
              continue;
            }
          }
          Io r = ReadSome(c, kReadChunk);
          if (r == Io::kWouldBlock) return true;
          if (r != Io::kOk) {
            Close(c);
            return false;
          }
          continue;
        }
        case Phase::kBody: {
          if (!c.Input().empty()) {
            if (ParseBodyInput(c)) continue;
          }
          Io r = ReadSome(c, sizeof scratch);
          if (r == Io::kWouldBlock) return true;
          if (r != Io::kOk) {
            Close(c);
            return false;
          }
          continue;
        }
        case Phase::kAdmitting:
        case Phase::kHandling:
          return true;
        case Phase::kWriting:
          if (c.out_off < c.out.size()) return true;  // Flush above would block
          if (!FinishExchange(c)) return false;
          continue;
        case Phase::kLingering: {
          ssize_t n = recv(c.fd, scratch, sizeof scratch, 0);
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
          c.lingered += n > 0 ? static_cast<uint64_t>(n) : 0;
          if (n <= 0 || c.lingered >= options.linger_bytes) {
            Close(c);
            return false;
          }
          continue;
        }
      }
    }
    ready.push_back(c.id);  // more to do: continue next turn, after the others
    return true;
  }

  void DriveAndUpdate(uint64_t id) {
    auto it = conns.find(id);
    if (it == conns.end()) return;
    Conn& c = *it->second;
    if (Drive(c)) UpdateInterest(c);
  }

  void OnCompletion(Completion& done) {
    auto it = conns.find(done.conn);
    if (it == conns.end()) return;  // closed meanwhile
    Conn& c = *it->second;
    if (c.phase == Phase::kAdmitting && done.admitted) {
      c.request = std::move(done.request);
      OnAdmitted(c);
    } else {
      // An answer: a refusal of the head (body unread when one was
      // announced), or the handler's response.
      bool body_unread = c.phase == Phase::kAdmitting || c.body_cut;
      Respond(c, done.response, body_unread);
    }
    DriveAndUpdate(c.id);
  }

  void Expire(int64_t now) {
    while (!timers.empty() && timers.begin()->first <= now) {
      uint64_t id = timers.begin()->second;
      timers.erase(timers.begin());
      auto it = conns.find(id);
      if (it == conns.end()) continue;
      Conn& c = *it->second;
      c.deadline = 0;
      switch (c.phase) {
        case Phase::kIdle:
          if (c.fresh) ++stats.header_timeouts;
          break;
        case Phase::kHandshake:
        case Phase::kHead:
          ++stats.header_timeouts;
          break;
        case Phase::kBody:
          ++stats.body_timeouts;
          break;
        case Phase::kWriting:
          ++stats.write_timeouts;
          break;
        default:
          break;
      }
      Close(c);
    }
  }

  void BeginDrain() {
    draining = true;
    for (auto& l : listeners) {
      if (l->fd < 0) continue;
      epoll_ctl(epoll_fd, EPOLL_CTL_DEL, l->fd, nullptr);
      close(l->fd);
      l->fd = -1;
    }
    std::vector<uint64_t> idle;
    for (auto& [id, c] : conns) {
      if (c->phase == Phase::kIdle || c->phase == Phase::kHandshake || c->phase == Phase::kHead) idle.push_back(id);
    }
    for (uint64_t id : idle) Close(*conns.at(id));
  }

  void Run() {
    std::vector<epoll_event> events(256);
    for (;;) {
      if (stop_requested.load() && !draining) BeginDrain();
      if (draining && conns.empty()) break;
      int64_t now = base::MonotonicMs();
      int timeout = -1;
      if (!timers.empty()) timeout = static_cast<int>(std::clamp<int64_t>(timers.begin()->first - now, 0, 60000));
      for (auto& l : listeners) {
        if (l->paused_until) timeout = timeout < 0 ? kAcceptPauseMs : std::min<int>(timeout, kAcceptPauseMs);
      }
      if (!ready.empty()) timeout = 0;
      int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), timeout);
      if (n < 0 && errno != EINTR) {
        Log(LogLevel::kError, "epoll_wait failed", {{"error", std::strerror(errno)}});
        break;
      }
      std::vector<uint64_t> again;
      again.swap(ready);
      for (int i = 0; i < n; ++i) {
        uint64_t id = events[i].data.u64;
        if (id == kWakeId) {
          uint64_t v;
          ssize_t r = read(wake_fd, &v, sizeof v);
          (void)r;
          continue;
        }
        if (id <= kMaxListeners) {
          if (!draining) Accept(*listeners[id - 1]);
          continue;
        }
        auto it = conns.find(id);
        if (it == conns.end()) continue;
        if (events[i].events & (EPOLLERR | EPOLLHUP)) {
          Close(*it->second);
          continue;
        }
        DriveAndUpdate(id);
      }
      for (uint64_t id : again) DriveAndUpdate(id);
      std::vector<Completion> done;
      {
        std::lock_guard<std::mutex> lock(completions_mu);
        done.swap(completions);
      }
      for (auto& d : done) OnCompletion(d);
      now = base::MonotonicMs();
      Expire(now);
      for (auto& l : listeners) {
        if (l->paused_until && l->paused_until <= now && l->fd >= 0) {
          l->paused_until = 0;
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.u64 = l->id;
          epoll_ctl(epoll_fd, EPOLL_CTL_ADD, l->fd, &ev);
        }
      }
    }
    pool.reset();  // every task has posted its completion; join the workers
  }
};

Front::Front(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Front::~Front() = default;

Status Front::Create(const FrontOptions& options, Application* app, std::unique_ptr<Front>* out) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->app = app;
  RequestParser::SetMaxHeadBytes(options.max_head_bytes);
  impl->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  impl->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl->epoll_fd < 0 || impl->wake_fd < 0) return Status::IOError(std::string("epoll: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeId;
  epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, impl->wake_fd, &ev);
  impl->pool = std::make_unique<WorkerPool>(std::max<size_t>(1, options.worker_threads));
  out->reset(new Front(std::move(impl)));
  return Status::Ok();
}

void Front::AddListener(int fd, TlsContext* tls, int tag) {
  auto l = std::make_unique<Impl::Listener>();
  l->fd = fd;
  l->tls = tls;
  l->tag = tag;
  l->id = impl_->listeners.size() + 1;
  l->caps = std::make_unique<ConnectionCaps>(impl_->options.max_connections, impl_->options.max_connections_per_peer,
                                             impl_->options.head_grace_ms);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = l->id;
  epoll_ctl(impl_->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  impl_->listeners.push_back(std::move(l));
}

void Front::Run() { impl_->Run(); }

void Front::Stop() {
  impl_->stop_requested = true;
  impl_->Wake();
}

const FrontStats& Front::stats() const { return impl_->stats; }

}  // namespace server::http
