// TlsContext: the server's TLS configuration (OpenSSL), reloadable.
// TLS 1.2 is the minimum; compression and renegotiation are off; partial
// writes are enabled for the non-blocking front; idle connections release
// their read/write buffers.
//
// Reload() reads the certificate chain and key files again (after a
// renewal; SIGHUP) into a new SSL_CTX and makes it the one new connections
// use; connections already open keep the context they started with (each
// SSL holds a reference). If the new files are unusable the current context
// stays and the error names the file. Load and Reload read the files the same
// way: opened non-blocking and checked on the descriptor, so a directory,
// FIFO, device or file over 1 MiB is refused (never blocks the caller), and
// an encrypted key fails instead of prompting for a passphrase.
//
// Thread-safety: NewSession and Reload may be called from any thread.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"

namespace server::http {

class TlsContext {
 public:
  // Loads `cert_file` (PEM chain) and `key_file` (PEM key). InvalidArgument
  // naming server.tls_cert / server.tls_key and the file when unusable.
  static base::Status Load(const std::string& cert_file, const std::string& key_file, std::unique_ptr<TlsContext>* out);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A new server-side session on the current context, or nullptr (out of memory).
  SSL* NewSession();
  // Re-reads the files; on success new sessions use them.
  base::Status Reload();

 private:
  TlsContext(std::string cert, std::string key, SSL_CTX* ctx) : cert_(std::move(cert)), key_(std::move(key)), ctx_(ctx) {}
  static base::Status Build(const std::string& cert, const std::string& key, SSL_CTX** out);

  const std::string cert_, key_;
  std::mutex mu_;
  SSL_CTX* ctx_;  // guarded by mu_; owned (one reference)
};

}  // namespace server::http
