#include "store/rocksdb_log.h"

#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <string>

namespace store {

namespace {

class SinkLogger final : public rocksdb::Logger {
 public:
  explicit SinkLogger(RocksLogSink sink) : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), sink_(std::move(sink)) {}

  // Lines without a level are RocksDB's informational header and dumps.
  void Logv(const char*, va_list) override {}

  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char text[4096];
    std::vsnprintf(text, sizeof text, format, ap);
    static constexpr const char* kNames[] = {"debug", "info", "warn", "error", "fatal", "header"};
    const size_t l = static_cast<size_t>(level);
    std::string line = std::string(l < std::size(kNames) ? kNames[l] : "?") + ": " + text;
    if (sink_) {
      sink_(line);
      return;
    }
    line = "rocksdb " + line + "\n";
    // One write per line so lines of concurrent threads do not interleave;
    // a failure to write a diagnostic is not worth anything more.
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
  }

 private:
  const RocksLogSink sink_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewRocksLogger(RocksLogSink sink) {
  return std::make_shared<SinkLogger>(std::move(sink));
}

}  // namespace store
