#include "sync/exchange/exchange.h"

#include <algorithm>
#include <chrono>

#include <rocksdb/write_batch.h>

#include "base/clock.h"
#include "codec/hash_list_codec.h"
#include "sync/exchange/snapshot_diff.h"
#include "sync/loop_thread.h"
#include "sync/retry_backoff.h"

namespace hsync {

namespace {

std::string PrintableCheckpoint(const ExchangeConfig& c, const ExchangeState& s) {
  if (s.generation == 0 && s.checkpoint.empty()) return "";
  std::string a, b;
  DecodeValidators(s.checkpoint, &a, &b);
  std::string out = "generation " + std::to_string(s.generation);
  if (c.kind == ExchangeKind::kUrl) {
    if (!a.empty()) out += ", etag " + a;
    if (!b.empty()) out += ", last-modified " + b;
  } else if (c.kind == ExchangeKind::kFile) {
    if (!a.empty()) out += ", size " + a + ", mtime " + b;
  }
  return out;
}

}  // namespace

Exchange::Exchange(store::Database* db, store::HashLists* lists, const ExchangeConfig& config, LogFn log)
    : db_(db), lists_(lists), config_(config), log_(std::move(log)) {}

Exchange::~Exchange() { Stop(); }

Status Exchange::Create(store::Database* db, store::HashLists* lists, const ExchangeConfig& config, LogFn log,
                        std::unique_ptr<Exchange>* out) {
  const std::string where = "exchange '" + config.name + "'";
  std::unique_ptr<Exchange> x(new Exchange(db, lists, config, std::move(log)));
  HS_RETURN_IF_ERROR(MakeSnapshotSource(config, &x->source_).WithContext(where));
  const std::string owner = ExchangeOwner(config.name);
  for (const auto& l : lists->Lists()) {
    if (l.owner == owner && l.name == config.list) x->list_id_ = l.id;
  }
  if (x->list_id_ == 0) {
    store::ListSpec spec;
    spec.name = config.list;
    spec.owner = owner;
    spec.kind = base::ListKind::kBlock;
    spec.pdq_threshold = static_cast<int>(config.pdq_threshold);
    store::ListInfo info;
    HS_RETURN_IF_ERROR(lists->CreateList(spec, &info).WithContext(where + ": creating list '" + config.list + "'"));
    x->list_id_ = info.id;
  } else {
    store::ListInfo info;
    HS_RETURN_IF_ERROR(lists->GetList(x->list_id_, &info));
    if (info.pdq_threshold != config.pdq_threshold) {
      HS_RETURN_IF_ERROR(lists->UpdateList(x->list_id_, std::nullopt, std::nullopt, static_cast<int>(config.pdq_threshold))
                             .WithContext(where));
    }
  }
  std::string v;
  Status s = db->Get(store::Database::kMeta, ExchangeStateKey(config.name), &v);
  if (s.ok()) {
    HS_RETURN_IF_ERROR(DecodeExchangeState(v, &x->state_).WithContext(where));
  } else if (s.code() != Status::Code::kNotFound) {
    return s.WithContext(where);
  }
  *out = std::move(x);
  return Status::Ok();
}

void Exchange::Start() {
  LoopThread{mu_, cv_, stopping_, running_, thread_}.Start([this] { Loop(); });
}

void Exchange::Stop() {
  LoopThread{mu_, cv_, stopping_, running_, thread_}.Stop([this] { source_->Cancel(); });
}

void Exchange::Loop() {
  int failures = 0;
  for (;;) {
    int64_t retry_after_s = -1;
    Status s = RunOnce(&retry_after_s);
    std::chrono::milliseconds wait(config_.interval_s * 1000);
    {
      std::lock_guard l(mu_);
      if (stopping_) break;
      ++fetches_;
      if (s.ok()) {
        failures = 0;
        last_error_.clear();
        last_error_ms_ = 0;
      } else {
        ++errors_;
        last_error_ = s.ToString();
        last_error_ms_ = base::NowMs();
        wait = std::min(wait, RetryDelay(++failures));
        if (retry_after_s >= 0) wait = std::max(wait, std::chrono::milliseconds(retry_after_s * 1000));
      }
    }
    if (!s.ok()) {
      Log(LogLevel::kWarn, "fetch failed (retrying in " + std::to_string(wait.count()) + " ms; the list stays as it was): " +
                               s.ToString());
    }
    std::unique_lock l(mu_);
    if (cv_.wait_for(l, wait, [this] { return stopping_; })) break;
  }
  std::lock_guard l(mu_);
  running_ = false;
  cv_.notify_all();
}

Status Exchange::RunOnce(int64_t* retry_after_s) {
  std::string checkpoint;
  {
    std::lock_guard l(mu_);
    checkpoint = state_.checkpoint;
  }
  Snapshot snapshot;
  HS_RETURN_IF_ERROR(source_->Fetch(checkpoint, &snapshot, retry_after_s));
  if (snapshot.not_modified) {
    ExchangeState next;
    {
      std::lock_guard l(mu_);
      next = state_;
    }
    next.last_success_ms = base::NowMs();
    rocksdb::WriteBatch wb;
    wb.Put(db_->family(store::Database::kMeta), ExchangeStateKey(config_.name), EncodeExchangeState(next));
    HS_RETURN_IF_ERROR(db_->Write(&wb, false));
    std::lock_guard l(mu_);
    state_ = next;
    ++not_modified_;
    return Status::Ok();
  }
  return ApplySnapshot(snapshot);
}

Status Exchange::ApplySnapshot(const Snapshot& snapshot) {
  const auto t0 = std::chrono::steady_clock::now();
  codec::ListCodecOptions options;
  HS_RETURN_IF_ERROR(codec::ParseListFormat(config_.format, &options.format));
  HS_RETURN_IF_ERROR(base::ParseSignalType(config_.type, &options.type));
  std::vector<base::SignalEntry> entries, current;
  // Any line that cannot be read rejects the whole snapshot: applying it
  // without that line would withdraw the hash the line holds.
  HS_RETURN_IF_ERROR(codec::ParseHashList(snapshot.text, options, &entries)
                         .WithContext(config_.kind == ExchangeKind::kUrl ? config_.url : config_.path));
  HS_RETURN_IF_ERROR(lists_->ListSignals(list_id_, &current));
  store::BatchRequest batch;
  DiffSnapshot(current, entries, &batch.add, &batch.remove);

  ExchangeState next;
  {
    std::lock_guard l(mu_);
    next = state_;
  }
  next.last_success_ms = base::NowMs();
  next.checkpoint = snapshot.checkpoint;
  next.entries = current.size() + batch.add.size() - batch.remove.size();
  store::BatchResult result;
  if (batch.add.empty() && batch.remove.empty()) {
    rocksdb::WriteBatch wb;
    wb.Put(db_->family(store::Database::kMeta), ExchangeStateKey(config_.name), EncodeExchangeState(next));
    HS_RETURN_IF_ERROR(db_->Write(&wb, true));
  } else {
    next.generation = next.generation + 1;
    batch.batch_id = "exchange:" + config_.name + ":" + std::to_string(next.generation);
    HS_RETURN_IF_ERROR(
        lists_->ApplyBatch(list_id_, batch, ExchangeStateKey(config_.name), EncodeExchangeState(next), &result));
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  {
    std::lock_guard l(mu_);
    state_ = next;
    ++applied_;
    added_ += result.added;
    removed_ += result.removed;
  }
  Log(LogLevel::kInfo, "applied a snapshot of " + std::to_string(entries.size()) + " lines: " +
                           std::to_string(result.added) + " added, " + std::to_string(result.removed) +
                           " withdrawn, " + std::to_string(next.entries) + " in list '" + config_.list + "' (" +
                           std::to_string(static_cast<int64_t>(ms)) + " ms)");
  return Status::Ok();
}

ExchangeStatus Exchange::status() const {
  ExchangeStatus s;
  s.name = config_.name;
  s.kind = ExchangeKindName(config_.kind);
  s.list = config_.list;
  s.list_id = list_id_;
  store::ListInfo info;
  if (lists_->GetList(list_id_, &info).ok()) s.entries = info.signal_count;
  std::lock_guard l(mu_);
  s.last_success_ms = state_.last_success_ms;
  s.last_error = last_error_;
  s.last_error_ms = last_error_ms_;
  s.checkpoint = PrintableCheckpoint(config_, state_);
  if (state_.last_success_ms > 0) s.lag_s = std::max<double>(0, (base::NowMs() - state_.last_success_ms) / 1000.0);
  s.fetches = fetches_;
  s.errors = errors_;
  s.not_modified = not_modified_;
  s.applied = applied_;
  s.added = added_;
  s.removed = removed_;
  s.running = running_;
  return s;
}

}  // namespace hsync
