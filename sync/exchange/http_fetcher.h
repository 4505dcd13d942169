// HttpFetcher: the bounded HTTP request every exchange fetches with, and
// sends partner feedback with (GET; POST/PUT with a body: cpp-httplib; one
// new connection per request: exchanges poll every few minutes). Bounded
// three ways, so a hostile or broken server cannot hold an exchange (or the
// shutdown) nor fill memory:
//   time   the whole fetch, from connecting to the last byte, ends after
//          timeout_s (a watchdog thread stops the connection; a server that
//          trickles one byte a second is cut off the same as a silent one);
//   size   a body above max_bytes is abandoned as soon as it passes it;
//   cancel Cancel(), from any thread, stops the fetch in flight and refuses
//          every later one (shutdown).
// Conditional GETs: If-None-Match / If-Modified-Since from the last answer's
// ETag / Last-Modified; a 304 comes back as status 304 with an empty body.
//
// Thread-safety: Fetch from one thread at a time; Cancel from any.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace hsync {

using base::Status;

struct HttpRequest {
  std::string method = "GET";  // GET, POST or PUT
  std::string url;             // scheme://host[:port]/path?query
  std::string body;            // POST/PUT: sent with content_type
  std::string content_type;
  std::string name;  // how errors name the request ("" = the URL; set it when the URL holds a secret)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string if_none_match, if_modified_since;  // "" = unconditional
  std::string cacert;                            // CA file for https; "" = the system's
  int64_t max_bytes = 256ll << 20;
  int64_t timeout_s = 60;
};

struct HttpAnswer {
  int status = 0;
  std::string body;
  std::string etag, last_modified;
  int64_t retry_after_s = -1;  // from Retry-After (seconds or an HTTP date); -1 = absent
};

class HttpFetcher {
 public:
  HttpFetcher() = default;
  HttpFetcher(const HttpFetcher&) = delete;
  HttpFetcher& operator=(const HttpFetcher&) = delete;

  // Any HTTP status is Ok with answer->status set. Unavailable when the
  // server cannot be reached, the connection breaks, or the time is up
  // ("... timed out after N s"); TooLarge past max_bytes; Unavailable
  // ("canceled") after Cancel. Send sends request.method (GET unless set);
  // InvalidArgument for a method other than GET, POST, PUT, or a body on a
  // GET. Get is Send for the fetches (the method left at GET).
  Status Send(const HttpRequest& request, HttpAnswer* answer);
  Status Get(const HttpRequest& request, HttpAnswer* answer) { return Send(request, answer); }
  void Cancel();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool canceled_ = false;
};

// Splits "scheme://host[:port]/path?query" into "scheme://host[:port]" and
// "/path?query" ("/" when absent). InvalidArgument for anything else.
Status SplitUrl(const std::string& url, std::string* origin, std::string* target);

// The seconds a Retry-After value asks for (delta-seconds or an IMF-fixdate
// relative to now_ms), clamped to 0..86400; -1 if unreadable.
int64_t ParseRetryAfter(const std::string& value, int64_t now_ms);

}  // namespace hsync
