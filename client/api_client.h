// ApiClient: one keep-alive connection to a hashscreend, with the caller's
// API key and the server's CA certificate. The only client file that
// includes httplib.h. Transport failures (refused, TLS, timeout) come back
// as a Status; HTTP answers, including errors, come back as an ApiAnswer.
//
// Thread-safety: one ApiClient per thread (each holds its own connection).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace client {

using base::Status;

// How to reach the server: --server URL, --key (or $HASHSCREEN_KEY),
// --cacert FILE (or $HASHSCREEN_CACERT). The server defaults to
// $HASHSCREEN_SERVER, else https://127.0.0.1:8443.
struct ServerOptions {
  std::string url;
  std::string key;
  std::string cacert;
};

// Removes --server/--key/--cacert (and their values) from `args` and fills
// `options`, with the environment as fallback. InvalidArgument when a flag
// lacks its value.
Status TakeServerOptions(std::vector<std::string>* args, ServerOptions* options);
// Whether `url`'s host is this machine: 127.0.0.0/8 in dotted-quad form,
// [::1] or localhost. Plain http:// is accepted only for such URLs.
bool IsLoopbackUrl(const std::string& url);
// Help text for those options, for the commands' --help.
const char* ServerOptionsHelp();

struct ApiAnswer {
  int status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, if any
  std::string audit_next;   // the X-Audit-Next header (audit export pages), if any
  // The "message" of a JSON error body, or the body itself.
  std::string ErrorMessage() const;
};

class ApiClient {
 public:
  explicit ApiClient(const ServerOptions& options);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  Status Get(const std::string& path, ApiAnswer* out);
  Status Post(const std::string& path, const std::string& body, const std::string& content_type, ApiAnswer* out);
  Status Delete(const std::string& path, ApiAnswer* out);
  // Post, waiting out overload (503) and rate limits (429) up to 8 times,
  // each for the answer's Retry-After (1..30 s).
  Status PostRetrying(const std::string& path, const std::string& body, const std::string& content_type,
                      ApiAnswer* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes a query parameter value.
std::string UrlEncode(const std::string& s);

// The shared shape of a server command (`hashscreen audit|lists SUB ...`):
// takes --server/--key/--cacert, prints `help` (a printf format receiving
// ServerOptionsHelp()) for --help or no arguments, requires a key, and turns a
// malformed server answer (a thrown JSON error) into one error line, all
// prefixed "hashscreen NAME: ". `run` gets the client, SUB and SUB's arguments.
int RunServerCommand(const char* name, const std::vector<std::string>& argv, const char* help,
                     const std::function<int(ApiClient& api, const std::string& sub, std::vector<std::string>& args)>& run);

}  // namespace client
