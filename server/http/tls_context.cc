#include "server/http/tls_context.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

// A certificate chain or key file is far smaller than this; the bound keeps
// a wrong path (a log, a disk image) from being read whole.
constexpr size_t kMaxPemFileBytes = 1 << 20;

// Reads a PEM file the way start-up and SIGHUP both must: opened with
// O_NONBLOCK and checked on the opened descriptor (no race with a rename), so
// a FIFO, directory or device is refused naming the setting instead of
// blocking the caller (the SIGHUP reload) forever.
Status ReadPemFile(const std::string& setting, const std::string& path, std::string* out) {
  const std::string where = setting + ": " + path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return Status::IOError(where + ": " + std::strerror(errno));
  struct stat st{};
  Status s;
  std::string data;
  if (::fstat(fd, &st) != 0) {
    s = Status::IOError(where + ": " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    s = Status::InvalidArgument(where + ": not a regular file");
  } else {
    // One byte more than allowed, so a file that grew after fstat is noticed too.
    data.resize(kMaxPemFileBytes + 1);
    size_t got = 0;
    ssize_t n = 0;
    while (got < data.size() && (n = ::read(fd, data.data() + got, data.size() - got)) != 0) {
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      got += static_cast<size_t>(n);
    }
    if (n < 0) {
      s = Status::IOError(where + ": " + std::strerror(errno));
    } else if (got > kMaxPemFileBytes) {
      s = Status::InvalidArgument(where + ": larger than " + std::to_string(kMaxPemFileBytes) + " bytes");
    } else {
      data.resize(got);
    }
  }
  ::close(fd);
  HS_RETURN_IF_ERROR(s);
  *out = std::move(data);
  return Status::Ok();
}

// No passphrase: an encrypted key must fail, never prompt on a terminal.
int NoPassphrase(char*, int, int, void*) { return -1; }

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

// SSL_CTX_use_certificate_chain_file from memory: the leaf, then the chain.
bool UseCertificateChain(SSL_CTX* ctx, const std::string& pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return false;
  X509* leaf = PEM_read_bio_X509_AUX(bio.get(), nullptr, NoPassphrase, nullptr);
  if (!leaf) return false;
  const bool ok = SSL_CTX_use_certificate(ctx, leaf) == 1;
  X509_free(leaf);
  if (!ok || SSL_CTX_clear_chain_certs(ctx) != 1) return false;
  while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, ca) != 1) {
      X509_free(ca);
      return false;
    }
  }
  // The end of the data is the expected way out of the loop.
  unsigned long err = ERR_peek_last_error();
  if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
    return true;
  }
  return err == 0;
}

bool UsePrivateKey(SSL_CTX* ctx, const std::string& pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return false;
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr);
  if (!key) return false;
  const bool ok = SSL_CTX_use_PrivateKey(ctx, key) == 1;
  EVP_PKEY_free(key);
  return ok;
}

}  // namespace

Status TlsContext::Build(const std::string& cert, const std::string& key, SSL_CTX** out) {
  std::string cert_pem, key_pem;
  HS_RETURN_IF_ERROR(ReadPemFile("server.tls_cert", cert, &cert_pem));
  HS_RETURN_IF_ERROR(ReadPemFile("server.tls_key", key, &key_pem));
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return Status::IOError("cannot create a TLS context: " + OpenSslError());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  Status s;
  if (!UseCertificateChain(ctx, cert_pem)) {
    s = Status::InvalidArgument("server.tls_cert: cannot load " + cert + ": " + OpenSslError());
  } else if (!UsePrivateKey(ctx, key_pem)) {
    s = Status::InvalidArgument("server.tls_key: cannot load " + key + ": " + OpenSslError());
  } else if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    s = Status::InvalidArgument("server.tls_key: " + key + " does not match the certificate " + cert);
  }
  if (!s.ok()) {
    OPENSSL_cleanse(key_pem.data(), key_pem.size());
    SSL_CTX_free(ctx);
    return s;
  }
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
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
