#include "sync/exchange/snapshot_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sync/exchange/exchange_state.h"
#include "sync/follower.h"

namespace hsync {

namespace {

class UrlSource : public SnapshotSource {
 public:
  UrlSource(const ExchangeConfig& c, std::string authorization) : config_(c), authorization_(std::move(authorization)) {}

  Status Fetch(const std::string& checkpoint, Snapshot* out, int64_t* retry_after_s) override {
    *retry_after_s = -1;
    HttpRequest req;
    req.url = config_.url;
    req.cacert = config_.cacert;
    req.max_bytes = config_.max_bytes;
    req.timeout_s = config_.timeout_s;
    if (!authorization_.empty()) req.headers.emplace_back("Authorization", authorization_);
    DecodeValidators(checkpoint, &req.if_none_match, &req.if_modified_since);
    HttpAnswer a;
    HS_RETURN_IF_ERROR(fetcher_.Get(req, &a));
    if (a.status == 304) {
      out->not_modified = true;
      return Status::Ok();
    }
    if (a.status != 200) {
      *retry_after_s = a.status == 429 || a.status == 503 ? a.retry_after_s : -1;
      return Status::Unavailable(config_.url + " answered HTTP " + std::to_string(a.status) +
                                 (a.retry_after_s >= 0 ? " (Retry-After " + std::to_string(a.retry_after_s) + " s)" : ""));
    }
    out->not_modified = false;
    out->text = std::move(a.body);
    out->checkpoint = EncodeValidators(a.etag, a.last_modified);
    return Status::Ok();
  }
  void Cancel() override { fetcher_.Cancel(); }

 private:
  ExchangeConfig config_;
  std::string authorization_;
  HttpFetcher fetcher_;
};

class FileSource : public SnapshotSource {
 public:
  explicit FileSource(const ExchangeConfig& c) : config_(c) {}

  Status Fetch(const std::string& checkpoint, Snapshot* out, int64_t* retry_after_s) override {
    *retry_after_s = -1;
    const std::string& path = config_.path;
    // O_NONBLOCK: a FIFO put in the list's place must not block the exchange.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return Status::Unavailable(path + ": " + std::strerror(errno));
    struct stat st{};
    Status s;
    if (::fstat(fd, &st) != 0) {
      s = Status::IOError(path + ": " + std::strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
      s = Status::InvalidArgument(path + ": not a regular file");
    } else if (st.st_size > config_.max_bytes) {
      s = Status::TooLarge(path + ": larger than max_bytes (" + std::to_string(config_.max_bytes) + ")");
    }
    const std::string stamp = EncodeValidators(
        std::to_string(st.st_size), std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec));
    if (s.ok() && stamp == checkpoint) {
      out->not_modified = true;
    } else if (s.ok()) {
      // Read what is there, up to one byte past the cap (a file that grows
      // while read is still caught).
      std::string text(static_cast<size_t>(st.st_size) + 1, '\0');
      size_t got = 0;
      ssize_t n = 0;
      while (got < text.size() && (n = ::read(fd, text.data() + got, text.size() - got)) > 0) got += static_cast<size_t>(n);
      if (n < 0) {
        s = Status::IOError(path + ": " + std::strerror(errno));
      } else if (got > static_cast<size_t>(st.st_size)) {
        s = Status::Unavailable(path + ": the file changed while it was read");
      } else {
        text.resize(got);
        out->not_modified = false;
        out->text = std::move(text);
        out->checkpoint = stamp;
      }
    }
    ::close(fd);
    return s;
  }
  void Cancel() override {}

 private:
  ExchangeConfig config_;
};

}  // namespace

Status MakeSnapshotSource(const ExchangeConfig& config, std::unique_ptr<SnapshotSource>* out) {
  switch (config.kind) {
    case ExchangeKind::kUrl: {
      std::string auth;
      if (!config.auth_file.empty()) {
        HS_RETURN_IF_ERROR(ReadKeyFile(config.auth_file, "exchange '" + config.name + "' auth_file", &auth));
      }
      *out = std::make_unique<UrlSource>(config, std::move(auth));
      return Status::Ok();
    }
    case ExchangeKind::kFile:
      *out = std::make_unique<FileSource>(config);
      return Status::Ok();
    default:
      return Status::Unsupported(std::string("exchange kind ") + ExchangeKindName(config.kind) + " is not a snapshot");
  }
}

}  // namespace hsync
