#include "sync/feed_client.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "base/loopback.h"

namespace hsync {

Status CheckPrimaryUrl(const std::string& url) {
  auto bad = [&](const std::string& why) { return Status::InvalidArgument("follow.url: '" + url + "' " + why); };
  std::string rest;
  bool https = false;
  if (url.rfind("https://", 0) == 0) {
    https = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return bad("is not an https:// URL");
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty()) return bad("has no host");
  if (rest.find_first_of("/?#@ ") != std::string::npos) return bad("must be scheme://host[:port] only");
  std::string host = rest;
  if (host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string::npos) return bad("has an unterminated IPv6 address");
    host = host.substr(1, close - 1);
  } else if (const size_t colon = host.rfind(':'); colon != std::string::npos) {
    host.resize(colon);
  }
  if (!https && !base::IsLoopbackHost(host)) {
    return bad("is plain http:// to a host that is not loopback: a replica key must not travel in clear text (use https://)");
  }
  return Status::Ok();
}

struct FeedClient::Impl {
  httplib::Client http;
  httplib::Headers headers;
  explicit Impl(const Options& o) : http(o.url) {
    if (!o.cacert.empty()) http.set_ca_cert_path(o.cacert.c_str());
    http.enable_server_certificate_verification(true);
    http.set_keep_alive(true);
    http.set_connection_timeout(10, 0);
    http.set_write_timeout(30, 0);
    headers.emplace("Authorization", "Bearer " + o.key);
  }
};

FeedClient::FeedClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FeedClient::~FeedClient() = default;

Status FeedClient::Create(const Options& options, std::unique_ptr<FeedClient>* out) {
  HS_RETURN_IF_ERROR(CheckPrimaryUrl(options.url));
  std::string url = options.url;
  while (url.back() == '/') url.pop_back();
  Options o = options;
  o.url = url;
  out->reset(new FeedClient(std::make_unique<Impl>(o)));
  return Status::Ok();
}

namespace {

Status Answer(httplib::Result r, int* status, std::string* body) {
  if (!r) {
    std::string why;
    switch (r.error()) {
      case httplib::Error::SSLServerVerification: why = "the primary's certificate is not trusted (follow.cacert)"; break;
      case httplib::Error::SSLLoadingCerts: why = "cannot load the CA certificate of follow.cacert"; break;
      case httplib::Error::Connection: why = "connection refused or host unreachable"; break;
      case httplib::Error::Read: why = "the connection broke while reading the answer"; break;
      case httplib::Error::Canceled: why = "canceled"; break;
      default: why = httplib::to_string(r.error()); break;
    }
    return Status::Unavailable("cannot reach the primary: " + why);
  }
  *status = r->status;
  *body = std::move(r->body);
  return Status::Ok();
}

}  // namespace

std::string PrimaryErrorMessage(int status, const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  std::string m;
  if (j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("message") &&
      j["error"]["message"].is_string()) {
    m = j["error"]["message"].get<std::string>();
  } else {
    m = body.substr(0, 200);
  }
  return "the primary answered HTTP " + std::to_string(status) + (m.empty() ? "" : ": " + m);
}

Status FeedClient::Get(const std::string& target, const std::string& accept, int timeout_s, int* status,
                       std::string* body) {
  impl_->http.set_read_timeout(timeout_s, 0);
  httplib::Headers headers = impl_->headers;
  headers.emplace("Accept", accept);
  return Answer(impl_->http.Get(target.c_str(), headers), status, body);
}

Status FeedClient::Post(const std::string& target, const std::string& content_type, const std::string& body,
                        int timeout_s, int* status, std::string* answer) {
  impl_->http.set_read_timeout(timeout_s, 0);
  httplib::Headers headers = impl_->headers;
  headers.emplace("Accept", "application/json");
  return Answer(impl_->http.Post(target.c_str(), headers, body, content_type.c_str()), status, answer);
}

void FeedClient::Cancel() { impl_->http.stop(); }

}  // namespace hsync
