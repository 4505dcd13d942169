// FeedClient: the follower's connection to its primary (one keep-alive
// HTTPS connection, cpp-httplib, the only sync/ file that includes it). The
// primary's URL must be https://HOST[:PORT], or http:// to a loopback host
// only (a replica key must never cross a network in clear text).
//
// Thread-safety: Get from one thread at a time; Cancel from any thread, to
// interrupt a Get in progress (shutdown during a long poll).
#pragma once

#include <memory>
#include <string>

#include "base/status.h"

namespace hsync {

using base::Status;

class FeedClient {
 public:
  struct Options {
    std::string url;     // https://primary:8443
    std::string key;     // replica API key
    std::string cacert;  // CA certificate file to trust; "" = the system's
  };
  // InvalidArgument naming follow.url for a URL that is not allowed.
  static Status Create(const Options& options, std::unique_ptr<FeedClient>* out);
  ~FeedClient();
  FeedClient(const FeedClient&) = delete;
  FeedClient& operator=(const FeedClient&) = delete;

  // GETs `target` (path and query) asking for `accept`; the answer's status
  // and body. Unavailable when the primary cannot be reached or the
  // connection breaks (also after Cancel); the read waits up to timeout_s.
  Status Get(const std::string& target, const std::string& accept, int timeout_s, int* status, std::string* body);
  // POSTs `body` of `content_type` to `target`; the same errors as Get.
  Status Post(const std::string& target, const std::string& content_type, const std::string& body, int timeout_s,
              int* status, std::string* answer);
  void Cancel();

 private:
  struct Impl;
  explicit FeedClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Checks a primary URL: scheme https, or http with a loopback host; no
// path, query or credentials. InvalidArgument naming follow.url otherwise.
Status CheckPrimaryUrl(const std::string& url);

// "the primary answered HTTP <status>: <message>" from an error answer's
// JSON body (or the start of a body that is not one).
std::string PrimaryErrorMessage(int status, const std::string& body);

}  // namespace hsync
