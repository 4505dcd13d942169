// Follower: keeps this instance's lists a copy of a primary's, by reading
// the primary's feed (GET /v1/feed, binary encoding, long polls) and
// applying each page with HashLists::ApplyFeedPage: one atomic RocksDB write
// holding the page and the new cursor, so a follower killed at any point
// resumes exactly where its last write ended (nothing lost, nothing applied
// twice), and the match index is updated in place (no reload).
//
// Bootstrap: when the first catch-up of this process needs more than one
// page (an empty follower, or one that was down long), its pages are written
// the same way but the index is left alone (IndexUpdate::kDeferred) and
// built ONCE from RocksDB when the head is reached (HashLists::RebuildIndex,
// what a primary does at start), then the follower is caught up and goes on
// in place. Growing the index page by page costs a segment build, a merge
// and a presence check per page against an ever larger index; one build at
// the end costs what a primary's start costs. A kill during the bootstrap
// resumes from the cursor: the restarted process loads what is stored and
// defers again.
//
// The cursor lives in the meta family under "follow_cursor" with the
// primary's instance id: a follower refuses to continue from a different
// primary, and refuses to start on a database holding lists of its own.
// When the primary is unreachable it keeps what it has (screening goes on),
// retries with exponential backoff and jitter (0.25 s doubling to 30 s),
// and reports it through the log callback and Stats.
//
// Ready() is what /readyz shows: the first catch-up is done and the lag is
// at most max_lag_s. The lag is 0 right after the primary said "nothing
// newer", then grows with the time since; while behind, it is the age of the
// newest record applied. So a primary that cannot be reached makes the
// follower unready after max_lag_s (load balancers then prefer the others).
//
// Namespace hsync, not sync: POSIX declares ::sync().
//
// Thread-safety: Start/Stop from one thread; stats() and Ready() from any.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/database.h"
#include "store/feed.h"
#include "store/hash_lists.h"
#include "sync/feed_client.h"

namespace hsync {

class Follower {
 public:
  enum class LogLevel { kDebug, kInfo, kWarn };
  struct Options {
    FeedClient::Options primary;
    int64_t max_lag_s = 10;
    size_t page_entries = 1'000'000;  // entries per page asked for
    size_t page_bytes = 32 << 20;     // bytes per page asked for
    // Where the follower reports what happens: warnings (errors, retries),
    // information (first catch-up, recovery), debug (every page, timed).
    std::function<void(LogLevel level, const std::string& message)> log;
  };

  struct Stats {
    bool running = false;
    bool caught_up_once = false;
    bool connected = false;        // the last request to the primary succeeded
    double lag_seconds = 0;
    uint64_t lag_records = 0;      // primary's head record - ours
    uint64_t pages = 0, entries = 0, errors = 0;
    store::FeedCursor cursor;
    uint64_t primary_head = 0;
    std::string last_error;
  };

  // Reads the cursor; FailedPrecondition-like InvalidArgument when the
  // database holds lists but was never a follower, or its cursor is damaged.
  static Status Create(store::Database* db, store::HashLists* lists, const Options& options,
                       std::unique_ptr<Follower>* out);
  ~Follower();  // Stop()
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  void Start();
  // Interrupts a long poll and waits for the thread; a page being applied
  // is finished first (it is one atomic write either way).
  void Stop();

  Stats stats() const;
  bool Ready() const;
  const std::string& primary_url() const { return options_.primary.url; }

  static constexpr const char* kCursorKey = "follow_cursor";

 private:
  Follower(store::Database* db, store::HashLists* lists, const Options& options);
  // A page asked for and decoded (not applied yet).
  struct Fetched {
    store::FeedCursor from;
    Status status;
    store::FeedPage page;
    std::string primary_id;
    double fetch_ms = 0, decode_ms = 0;
  };
  Fetched Fetch(const store::FeedCursor& from, int64_t wait_s);
  void Loop();
  // One page: fetched (or taken from the prefetch) and applied; while
  // behind, the next page is fetched meanwhile. False with *error set on failure.
  bool Step(Status* error);
  void Log(LogLevel level, const std::string& message) const {
    if (options_.log) options_.log(level, message);
  }
  // The end of a deferred bootstrap: the index built from RocksDB, then the
  // follower marked caught up. False with *error set if the build failed
  // (the next Step tries again).
  bool FinishBootstrap(Status* error);
  void MarkCaughtUp(uint64_t head_record);
  void Backoff(int failures);
  double LagSeconds() const;

  store::Database* db_;
  store::HashLists* lists_;
  Options options_;
  std::unique_ptr<FeedClient> client_;
  std::thread thread_;
  std::future<Fetched> prefetch_;  // the loop thread's only
  // The loop thread's only: pages go to RocksDB without the index (bootstrap),
  // and the index build at its end is still to do.
  bool deferring_ = false;
  bool rebuild_due_ = false;

  mutable std::mutex mu_;  // guards everything below and wakes Backoff
  std::condition_variable cv_;
  bool stopping_ = false;
  bool running_ = false;
  store::FeedCursor cursor_;
  std::string primary_id_;
  bool caught_up_ = false;       // the last page ended at the primary's head
  bool caught_up_once_ = false;
  bool connected_ = false;
  int64_t as_of_ms_ = 0;         // our data is the primary's as of this time
  uint64_t primary_head_ = 0;
  uint64_t pages_ = 0, entries_ = 0, errors_ = 0;
  std::string last_error_;
  int64_t started_ms_ = 0;
};

// Reads a key file: one line, the secret (surrounding whitespace and the
// newline removed). InvalidArgument naming `what` (the setting or flag) and
// the file when unreadable, empty or more than one line.
Status ReadKeyFile(const std::string& path, std::string_view what, std::string* key);

}  // namespace hsync
