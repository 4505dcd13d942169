#include "sync/exchange/http_fetcher.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <httplib.h>

#include "base/clock.h"
#include "base/number_parse.h"

namespace hsync {

Status SplitUrl(const std::string& url, std::string* origin, std::string* target) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return Status::InvalidArgument("'" + url + "' is not a URL");
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return Status::InvalidArgument("'" + url + "': only http and https");
  const size_t path = url.find_first_of("/?#", scheme_end + 3);
  *origin = url.substr(0, path);
  if (origin->size() <= scheme_end + 3) return Status::InvalidArgument("'" + url + "' has no host");
  *target = path == std::string::npos ? "/" : url.substr(path);
  if (const size_t hash = target->find('#'); hash != std::string::npos) target->resize(hash);
  if (target->empty() || target->front() == '?') *target = std::string("/") + *target;
  return Status::Ok();
}

int64_t ParseRetryAfter(const std::string& value, int64_t now_ms) {
  int64_t s = 0;
  if (base::ParseInt(value, "Retry-After", 0, INT64_MAX, &s).ok()) return std::min<int64_t>(s, 86400);
  struct tm tm{};
  const char* end = strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return -1;
  const int64_t at_ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  return std::clamp<int64_t>((at_ms - now_ms + 999) / 1000, 0, 86400);
}

void HttpFetcher::Cancel() {
  {
    std::lock_guard l(mu_);
    canceled_ = true;
  }
  cv_.notify_all();
}

Status HttpFetcher::Send(const HttpRequest& request, HttpAnswer* answer) {
  std::string origin, target;
  HS_RETURN_IF_ERROR(SplitUrl(request.url, &origin, &target));
  if (request.method != "GET" && request.method != "POST" && request.method != "PUT") {
    return Status::InvalidArgument("HTTP method '" + request.method + "' is not GET, POST or PUT");
  }
  if (request.method == "GET" && !request.body.empty()) return Status::InvalidArgument("a GET carries no body");
  httplib::Client http(origin);
  if (!request.cacert.empty()) http.set_ca_cert_path(request.cacert.c_str());
  http.enable_server_certificate_verification(true);
  const int connect_s = static_cast<int>(std::min<int64_t>(10, request.timeout_s));
  http.set_connection_timeout(connect_s, 0);
  http.set_read_timeout(static_cast<time_t>(request.timeout_s), 0);
  http.set_write_timeout(static_cast<time_t>(std::min<int64_t>(30, request.timeout_s)), 0);
  http.set_keep_alive(false);
  http.set_follow_location(false);  // a redirect is an answer the status reports

  httplib::Headers headers;
  for (const auto& [k, v] : request.headers) headers.emplace(k, v);
  if (!request.if_none_match.empty()) headers.emplace("If-None-Match", request.if_none_match);
  if (!request.if_modified_since.empty()) headers.emplace("If-Modified-Since", request.if_modified_since);

  // The watchdog: stops the connection when the time is up or on Cancel,
  // and keeps stopping it until Get returns (a stop that lands while the
  // client is still connecting finds no socket to shut down).
  bool done = false, timed_out = false;
  {
    std::lock_guard l(mu_);
    if (canceled_) return Status::Unavailable("canceled");
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(request.timeout_s);
  std::thread watchdog([&] {
    std::unique_lock l(mu_);
    cv_.wait_until(l, deadline, [&] { return done || canceled_; });
    if (done) return;
    if (!canceled_) timed_out = true;
    while (!done) {
      l.unlock();
      http.stop();
      l.lock();
      cv_.wait_for(l, std::chrono::milliseconds(50), [&] { return done; });
    }
  });

  HttpAnswer a;
  bool too_large = false;
  httplib::Request req;
  req.method = request.method;
  req.path = target;
  req.headers = std::move(headers);
  if (request.method != "GET") {
    req.body = request.body;
    req.set_header("Content-Type", request.content_type.empty() ? "application/octet-stream" : request.content_type);
  }
  req.response_handler = [&](const httplib::Response& response) {
    a.status = response.status;
    a.etag = response.get_header_value("ETag");
    a.last_modified = response.get_header_value("Last-Modified");
    if (response.has_header("Retry-After")) {
      a.retry_after_s = ParseRetryAfter(response.get_header_value("Retry-After"), base::NowMs());
    }
    if (response.has_header("Content-Length")) {
      int64_t n = 0;
      if (base::ParseInt(response.get_header_value("Content-Length"), "Content-Length", 0, INT64_MAX, &n).ok() &&
          n > request.max_bytes) {
        too_large = true;
        return false;
      }
    }
    return true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (a.body.size() + n > static_cast<uint64_t>(request.max_bytes)) {
      too_large = true;
      return false;
    }
    a.body.append(data, n);
    return true;
  };
  httplib::Result r = http.send(req);
  bool canceled;
  {
    std::lock_guard l(mu_);
    done = true;
    canceled = canceled_;
    // The client's own read timeout equals ours: on a loaded machine it can
    // fire before the watchdog wakes, as a read error. Past the deadline, a
    // failed request timed out, whichever noticed first.
    if (!r && !canceled && std::chrono::steady_clock::now() >= deadline) timed_out = true;
  }
  cv_.notify_all();
  watchdog.join();

  const std::string& name = request.name.empty() ? request.url : request.name;
  if (too_large) {
    return Status::TooLarge(name + ": the answer is larger than max_bytes (" + std::to_string(request.max_bytes) +
                            ")");
  }
  if (timed_out) {
    return Status::Unavailable(name + ": timed out after " + std::to_string(request.timeout_s) + " s");
  }
  if (canceled) return Status::Unavailable("canceled");
  if (!r) {
    std::string why;
    switch (r.error()) {
      case httplib::Error::SSLServerVerification: why = "the server's certificate is not trusted (cacert)"; break;
      case httplib::Error::SSLLoadingCerts: why = "cannot load the CA certificate of cacert"; break;
      case httplib::Error::Connection: why = "connection refused or host unreachable"; break;
      case httplib::Error::Read: why = "the connection broke while reading the answer"; break;
      default: why = httplib::to_string(r.error()); break;
    }
    return Status::Unavailable(name + ": " + why);
  }
  *answer = std::move(a);
  return Status::Ok();
}

}  // namespace hsync
