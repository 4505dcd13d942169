#include "sync/follower.h"

#include <algorithm>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/coding.h"
#include "sync/feed_codec.h"
#include "sync/loop_thread.h"
#include "sync/retry_backoff.h"

namespace hsync {

namespace {

// Cursor record: u64 record, u64 change, u16 n + primary instance id.
std::string EncodeCursor(const store::FeedCursor& c, const std::string& primary_id) {
  std::string v;
  base::PutU64(&v, c.record);
  base::PutU64(&v, c.change);
  base::PutU16(&v, static_cast<uint16_t>(primary_id.size()));
  v += primary_id;
  return v;
}

bool DecodeCursor(std::string_view v, store::FeedCursor* c, std::string* primary_id) {
  base::ByteReader in(v);
  c->record = in.U64();
  c->change = in.U64();
  *primary_id = std::string(in.Bytes(in.U16()));
  return in.done();
}

}  // namespace

Status ReadKeyFile(const std::string& path, std::string_view what, std::string* key) {
  const std::string w(what);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument(w + ": cannot read " + path);
  // A key is ~90 bytes; a bounded read keeps a wrong path (a log, a device)
  // from filling memory.
  constexpr size_t kMaxBytes = 4096;
  std::string k(kMaxBytes + 1, '\0');
  in.read(k.data(), static_cast<std::streamsize>(k.size()));
  k.resize(static_cast<size_t>(in.gcount()));
  if (k.size() > kMaxBytes) return Status::InvalidArgument(w + ": " + path + " is larger than a key file can be");
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!k.empty() && space(k.back())) k.pop_back();
  size_t start = 0;
  while (start < k.size() && space(k[start])) ++start;
  k.erase(0, start);
  if (k.empty()) return Status::InvalidArgument(w + ": " + path + " holds no key");
  if (k.find_first_of("\r\n") != std::string::npos) {
    return Status::InvalidArgument(w + ": " + path + " must hold the key on one line");
  }
  *key = std::move(k);
  return Status::Ok();
}

Follower::Follower(store::Database* db, store::HashLists* lists, const Options& options)
    : db_(db), lists_(lists), options_(options) {}

Follower::~Follower() { Stop(); }

Status Follower::Create(store::Database* db, store::HashLists* lists, const Options& options,
                        std::unique_ptr<Follower>* out) {
  std::unique_ptr<Follower> f(new Follower(db, lists, options));
  HS_RETURN_IF_ERROR(FeedClient::Create(options.primary, &f->client_));
  std::string v;
  Status s = db->Get(store::Database::kMeta, kCursorKey, &v);
  if (s.ok()) {
    if (!DecodeCursor(v, &f->cursor_, &f->primary_id_)) return Status::Corruption("follow_cursor is damaged");
  } else if (s.code() == Status::Code::kNotFound) {
    uint64_t head;
    int64_t t;
    lists->FeedHead(&head, &t);
    if (!lists->Lists().empty() || head != 0) {
      return Status::InvalidArgument("follow.url: the database in " + db->dir() +
                                     " holds lists of its own; a follower starts from an empty database");
    }
  } else {
    return s;
  }
  *out = std::move(f);
  return Status::Ok();
}

void Follower::Start() {
  LoopThread{mu_, cv_, stopping_, running_, thread_}.Start([this] { Loop(); }, [this] { started_ms_ = base::NowMs(); });
}

void Follower::Stop() { LoopThread{mu_, cv_, stopping_, running_, thread_}.Stop(client_.get()); }

void Follower::Loop() {
  int failures = 0;
  for (;;) {
    {
      std::lock_guard l(mu_);
      if (stopping_) break;
    }
    Status error;
    if (Step(&error)) {
      if (failures > 0) Log(LogLevel::kInfo, "the primary is reachable again; following");
      failures = 0;
      continue;
    }
    {
      std::lock_guard l(mu_);
      if (stopping_) break;
      ++errors_;
      connected_ = error.code() != Status::Code::kUnavailable;
      last_error_ = error.ToString();
    }
    Log(LogLevel::kWarn, "following " + options_.primary.url +
                             " failed (retrying; screening goes on with the lists as they are): " + error.ToString());
    Backoff(++failures);
  }
  if (prefetch_.valid()) prefetch_.wait();
  std::lock_guard l(mu_);
  running_ = false;
  cv_.notify_all();
}

void Follower::Backoff(int failures) {
  std::unique_lock l(mu_);
  cv_.wait_for(l, RetryDelay(failures), [&] { return stopping_; });
}

Follower::Fetched Follower::Fetch(const store::FeedCursor& from, int64_t wait_s) {
  Fetched f;
  f.from = from;
  const std::string target = "/v1/feed?after=" + store::FormatFeedCursor(from) +
                             "&limit=" + std::to_string(options_.page_entries) +
                             "&max_bytes=" + std::to_string(options_.page_bytes) + "&wait_s=" + std::to_string(wait_s);
  int status = 0;
  std::string body;
  const auto t0 = std::chrono::steady_clock::now();
  f.status = client_->Get(target, kFeedMediaType, static_cast<int>(wait_s) + 60, &status, &body);
  if (f.status.ok() && status != 200) {
    f.status = (status >= 500 || status == 429) ? Status::Unavailable(PrimaryErrorMessage(status, body))
                                                : Status::PermissionDenied(PrimaryErrorMessage(status, body));
  }
  const auto t1 = std::chrono::steady_clock::now();
  if (f.status.ok()) f.status = DecodeFeedPage(body, &f.page, &f.primary_id);
  const auto t2 = std::chrono::steady_clock::now();
  f.fetch_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  f.decode_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  if (f.status.ok() && f.page.items.empty() && !(f.page.next == from)) {
    f.status = Status::Corruption("the primary sent an empty page that moves the cursor from " +
                                  store::FormatFeedCursor(from) + " to " + store::FormatFeedCursor(f.page.next));
  }
  return f;
}

bool Follower::Step(Status* error) {
  if (rebuild_due_) return FinishBootstrap(error);
  store::FeedCursor from;
  bool caught_up, caught_up_once;
  std::string known;
  {
    std::lock_guard l(mu_);
    from = cursor_;
    caught_up = caught_up_;
    caught_up_once = caught_up_once_;
    known = primary_id_;
  }
  // Long polls while caught up, shorter than max_lag_s so that an idle
  // primary's answers keep the lag (and /readyz) fresh.
  const int64_t wait_s = caught_up ? std::clamp<int64_t>(options_.max_lag_s / 2, 1, 30) : 0;
  Fetched f;
  if (prefetch_.valid()) {
    f = prefetch_.get();
    if (!(f.from == from)) f = Fetch(from, wait_s);  // the page before it failed: start again
  } else {
    f = Fetch(from, wait_s);
  }
  Status s = f.status;
  const store::FeedPage& page = f.page;
  if (s.ok() && !known.empty() && f.primary_id != known) {
    s = Status::Corruption("the primary at " + options_.primary.url + " is instance " + f.primary_id +
                           ", but this follower's lists come from instance " + known +
                           " (following another primary needs an empty database)");
  }
  // While behind, the primary reads and sends the next page as this one is
  // written: bootstrap is then as fast as the slower of the two, not their sum.
  if (s.ok() && !page.items.empty() && !(page.next == page.head)) {
    prefetch_ = std::async(std::launch::async, [this, next = page.next] { return Fetch(next, 0); });
  }
  const bool at_head = page.next == page.head;
  // A first catch-up longer than this page: defer the index to its end.
  if (s.ok() && !caught_up_once && !page.items.empty() && !at_head) deferring_ = true;
  const auto t0 = std::chrono::steady_clock::now();
  if (s.ok() && !page.items.empty()) {
    s = lists_->ApplyFeedPage(from, page, kCursorKey, EncodeCursor(page.next, f.primary_id),
                              deferring_ ? store::HashLists::IndexUpdate::kDeferred
                                         : store::HashLists::IndexUpdate::kInPlace);
  } else if (s.ok() && known.empty()) {
    // Remember the primary even before its first record arrives.
    rocksdb::WriteBatch wb;
    wb.Put(db_->family(store::Database::kMeta), kCursorKey, EncodeCursor(page.next, f.primary_id));
    s = db_->Write(&wb, /*sync=*/true);
  }
  if (!s.ok()) {
    *error = s;
    return false;
  }
  if (!page.items.empty()) {
    Log(LogLevel::kDebug, "applied " + std::to_string(page.entries) + " entries up to " +
                              store::FormatFeedCursor(page.next) + ": fetch " + std::to_string(f.fetch_ms) +
                              " ms, decode " + std::to_string(f.decode_ms) + " ms, apply " +
                              std::to_string(std::chrono::duration<double, std::milli>(
                                                 std::chrono::steady_clock::now() - t0).count()) + " ms");
  }
  {
    std::lock_guard l(mu_);
    cursor_ = page.next;
    primary_id_ = f.primary_id;
    connected_ = true;
    primary_head_ = page.head.record;
    ++pages_;
    entries_ += page.entries;
    caught_up_ = false;
    for (const auto& item : page.items) as_of_ms_ = std::max(as_of_ms_, item.record.time_ms);
  }
  if (at_head && deferring_) {
    rebuild_due_ = true;
    return FinishBootstrap(error);
  }
  if (at_head) MarkCaughtUp(page.head.record);
  return true;
}

bool Follower::FinishBootstrap(Status* error) {
  const auto t0 = std::chrono::steady_clock::now();
  if (Status s = lists_->RebuildIndex(); !s.ok()) {
    *error = s.WithContext("building the index at the end of the bootstrap");
    return false;
  }
  Log(LogLevel::kInfo, "bootstrap: built the index from the stored lists in " +
                           std::to_string(static_cast<int64_t>(
                               std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count())) +
                           " ms");
  deferring_ = rebuild_due_ = false;
  uint64_t head;
  {
    std::lock_guard l(mu_);
    head = primary_head_;
  }
  MarkCaughtUp(head);
  return true;
}

void Follower::MarkCaughtUp(uint64_t head_record) {
  const int64_t now = base::NowMs();
  bool first_catch_up = false;
  {
    std::lock_guard l(mu_);
    caught_up_ = true;
    as_of_ms_ = now;
    first_catch_up = !caught_up_once_;
    caught_up_once_ = true;
  }
  if (first_catch_up) {
    Log(LogLevel::kInfo, "caught up with " + options_.primary.url + " at feed record " + std::to_string(head_record) +
                             " in " + std::to_string(now - started_ms_) + " ms");
  }
}

double Follower::LagSeconds() const {
  if (as_of_ms_ == 0) return 0;
  return std::max<double>(0, static_cast<double>(base::NowMs() - as_of_ms_) / 1000.0);
}

Follower::Stats Follower::stats() const {
  std::lock_guard l(mu_);
  Stats s;
  s.running = running_;
  s.caught_up_once = caught_up_once_;
  s.connected = connected_;
  s.lag_seconds = LagSeconds();
  s.primary_head = primary_head_;
  s.lag_records = primary_head_ > cursor_.record ? primary_head_ - cursor_.record : 0;
  s.pages = pages_;
  s.entries = entries_;
  s.errors = errors_;
  s.cursor = cursor_;
  s.last_error = last_error_;
  return s;
}

bool Follower::Ready() const {
  std::lock_guard l(mu_);
  return caught_up_once_ && LagSeconds() <= static_cast<double>(options_.max_lag_s);
}

}  // namespace hsync
