#include "client/api_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "base/loopback.h"
#include "base/number_parse.h"

namespace client {

namespace {
std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool TakeValue(std::vector<std::string>* args, const std::string& name, std::string* value, Status* error) {
  for (size_t i = 0; i < args->size(); ++i) {
    const std::string& a = (*args)[i];
    if (a == name) {
      if (i + 1 >= args->size()) {
        *error = Status::InvalidArgument(name + " needs a value");
        return false;
      }
      *value = (*args)[i + 1];
      args->erase(args->begin() + i, args->begin() + i + 2);
      return true;
    }
    if (a.rfind(name + "=", 0) == 0) {
      *value = a.substr(name.size() + 1);
      args->erase(args->begin() + i);
      return true;
    }
  }
  return false;
}
}  // namespace

bool IsLoopbackUrl(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  std::string authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  // user@host could hide the real host from a reader: not loopback.
  if (authority.find('@') != std::string::npos) return false;
  std::string host;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return false;
    host = authority.substr(1, close - 1);
    std::string rest = authority.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') return false;
  } else {
    host = authority.substr(0, authority.find(':'));
  }
  return base::IsLoopbackHost(host);
}

Status TakeServerOptions(std::vector<std::string>* args, ServerOptions* o) {
  Status error;
  o->url = Env("HASHSCREEN_SERVER");
  o->key = Env("HASHSCREEN_KEY");
  o->cacert = Env("HASHSCREEN_CACERT");
  TakeValue(args, "--server", &o->url, &error);
  TakeValue(args, "--key", &o->key, &error);
  TakeValue(args, "--cacert", &o->cacert, &error);
  if (!error.ok()) return error;
  if (o->url.empty()) o->url = "https://127.0.0.1:8443";
  while (!o->url.empty() && o->url.back() == '/') o->url.pop_back();
  if (o->url.rfind("https://", 0) != 0 && o->url.rfind("http://", 0) != 0) {
    return Status::InvalidArgument("--server must be a URL like https://host:8443");
  }
  // The key travels in a header: in clear text only to this machine.
  if (o->url.rfind("http://", 0) == 0 && !IsLoopbackUrl(o->url)) {
    return Status::InvalidArgument("--server " + o->url +
                                   ": plain http:// is accepted for loopback only (127.0.0.0/8, ::1, localhost); use https://");
  }
  return Status::Ok();
}

const char* ServerOptionsHelp() {
  return "  --server URL     hashscreend to talk to (env HASHSCREEN_SERVER; default https://127.0.0.1:8443)\n"
         "  --key KEY        API key (env HASHSCREEN_KEY; prefer the environment: flags show in `ps`)\n"
         "  --cacert FILE    CA certificate to trust, e.g. the dev certificate (env HASHSCREEN_CACERT)\n";
}

std::string ApiAnswer::ErrorMessage() const {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("message") &&
      j["error"]["message"].is_string()) {
    return j["error"]["message"].get<std::string>();
  }
  return body.empty() ? "HTTP " + std::to_string(status) : body.substr(0, 200);
}

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

struct ApiClient::Impl {
  httplib::Client http;
  httplib::Headers headers;
  explicit Impl(const ServerOptions& o) : http(o.url) {
    if (!o.cacert.empty()) http.set_ca_cert_path(o.cacert.c_str());
    http.enable_server_certificate_verification(true);
    // One connection carries every request of a thread (HTTP keep-alive).
    // Without TCP_NODELAY each request's last segment waits on Nagle until
    // the server's delayed ACK (~40 ms): 83 files/s instead of 400+ with a
    // server that answers in 5 ms (issue 13). SO_KEEPALIVE lets a long scan
    // notice a peer that vanished without closing.
    http.set_keep_alive(true);
    http.set_tcp_nodelay(true);
    http.set_socket_options([](socket_t sock) {
      int on = 1;
      setsockopt(sock, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    });
    http.set_connection_timeout(10, 0);
    http.set_read_timeout(120, 0);
    http.set_write_timeout(120, 0);
    if (!o.key.empty()) headers.emplace("Authorization", "Bearer " + o.key);
  }
  Status Convert(httplib::Result r, ApiAnswer* out) {
    if (!r) {
      std::string why;
      switch (r.error()) {
        case httplib::Error::SSLServerVerification:
          why = "the server's certificate is not trusted (pass its CA with --cacert)";
          break;
        case httplib::Error::SSLLoadingCerts: why = "cannot load the CA certificate given with --cacert"; break;
        case httplib::Error::Connection: why = "connection refused or host unreachable"; break;
        case httplib::Error::Read: why = "the connection broke while reading the answer"; break;
        case httplib::Error::Write: why = "the connection broke while sending"; break;
        default: why = httplib::to_string(r.error()); break;
      }
      return Status::Unavailable("cannot reach the server: " + why);
    }
    out->status = r->status;
    out->body = r->body;
    out->retry_after = r->get_header_value("Retry-After");
    out->audit_next = r->get_header_value("X-Audit-Next");
    return Status::Ok();
  }
};

ApiClient::ApiClient(const ServerOptions& options) : impl_(std::make_unique<Impl>(options)) {}
ApiClient::~ApiClient() = default;

Status ApiClient::Get(const std::string& path, ApiAnswer* out) {
  return impl_->Convert(impl_->http.Get(path.c_str(), impl_->headers), out);
}

Status ApiClient::Post(const std::string& path, const std::string& body, const std::string& content_type,
                       ApiAnswer* out) {
  return impl_->Convert(impl_->http.Post(path.c_str(), impl_->headers, body, content_type.c_str()), out);
}

Status ApiClient::PostRetrying(const std::string& path, const std::string& body, const std::string& content_type,
                               ApiAnswer* out) {
  for (int attempt = 0;; ++attempt) {
    HS_RETURN_IF_ERROR(Post(path, body, content_type, out));
    if ((out->status != 503 && out->status != 429) || attempt >= 8) return Status::Ok();
    uint64_t wait = 1;
    if (!base::ParseUint(out->retry_after, "Retry-After", 1, 30, &wait).ok()) wait = out->retry_after.empty() ? 1 : 30;
    std::this_thread::sleep_for(std::chrono::seconds(wait));
  }
}

Status ApiClient::Delete(const std::string& path, ApiAnswer* out) {
  return impl_->Convert(impl_->http.Delete(path.c_str(), impl_->headers), out);
}

int RunServerCommand(const char* name, const std::vector<std::string>& argv, const char* help,
                     const std::function<int(ApiClient& api, const std::string& sub, std::vector<std::string>& args)>& run) {
  auto fail = [&](const std::string& what) {
    std::fprintf(stderr, "hashscreen %s: %s\n", name, what.c_str());
    return 1;
  };
  std::vector<std::string> args = argv;
  ServerOptions server;
  if (Status s = TakeServerOptions(&args, &server); !s.ok()) return fail(s.message());
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::printf(help, ServerOptionsHelp());
    return args.empty() ? 2 : 0;
  }
  if (server.key.empty()) return fail("no API key (set HASHSCREEN_KEY or pass --key)");
  const std::string sub = args[0];
  args.erase(args.begin());
  // A malformed answer from the server (a proxy's HTML page, say) is an error
  // line, not an abort.
  try {
    ApiClient api(server);
    return run(api, sub, args);
  } catch (const std::exception& e) {
    return fail(std::string("unexpected answer from the server: ") + e.what());
  }
}

}  // namespace client
