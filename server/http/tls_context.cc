#include "server/http/tls_context.h"

#include <openssl/err.h>

namespace server::http {

using base::Status;

namespace {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return e ? buf : "unknown error";
}

}  // namespace

Status TlsContext::Build(const std::string& cert, const std::string& key, SSL_CTX** out) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return Status::IOError("cannot create a TLS context: " + OpenSslError());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  Status s;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    s = Status::InvalidArgument("server.tls_cert: cannot load " + cert + ": " + OpenSslError());
  } else if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    s = Status::InvalidArgument("server.tls_key: cannot load " + key + ": " + OpenSslError());
  } else if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    s = Status::InvalidArgument("server.tls_key: " + key + " does not match the certificate " + cert);
  }
  if (!s.ok()) {
    SSL_CTX_free(ctx);
    return s;
  }
  *out = ctx;
  return Status::Ok();
}

Status TlsContext::Load(const std::string& cert_file, const std::string& key_file, std::unique_ptr<TlsContext>* out) {
  SSL_CTX* ctx = nullptr;
  HS_RETURN_IF_ERROR(Build(cert_file, key_file, &ctx));
  out->reset(new TlsContext(cert_file, key_file, ctx));
  return Status::Ok();
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

SSL* TlsContext::NewSession() {
  std::lock_guard<std::mutex> lock(mu_);
  return SSL_new(ctx_);
}

Status TlsContext::Reload() {
  SSL_CTX* fresh = nullptr;
  HS_RETURN_IF_ERROR(Build(cert_, key_, &fresh));
  SSL_CTX* old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = ctx_;
    ctx_ = fresh;
  }
  SSL_CTX_free(old);  // sessions made from it hold their own references
  return Status::Ok();
}

}  // namespace server::http
