// RocksDB's diagnostic log, routed to a caller-given sink instead of the
// `LOG` file RocksDB would otherwise keep in the data directory.
//
// Why: on a full disk RocksDB's own file logger fails to append, and the
// Debian build of RocksDB (assertions enabled) aborts the process the next
// time anything is logged after that failure (WritableFileWriter asserts it
// is not reused after an error). A logger that writes no file cannot fail
// that way. Only warnings and errors are passed on: RocksDB's informational
// lines (options dumps, statistics) are not wanted in the service's log.
//
// Thread-safety: RocksDB calls the logger from any thread; the sink must be
// thread-safe. A line longer than 4 KiB is cut.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include <rocksdb/env.h>

namespace store {

using RocksLogSink = std::function<void(std::string_view line)>;

// A logger passing RocksDB's WARN and higher lines to `sink`; an empty sink
// writes them to stderr, one `rocksdb: ...` line each.
std::shared_ptr<rocksdb::Logger> NewRocksLogger(RocksLogSink sink);

}  // namespace store
