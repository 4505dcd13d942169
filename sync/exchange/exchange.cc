#include "sync/exchange/exchange.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include <rocksdb/write_batch.h>

#include "base/clock.h"
#include "base/number_parse.h"
#include "codec/hash_list_codec.h"
#include "sync/exchange/ncmec_state.h"
#include "sync/exchange/snapshot_diff.h"
#include "sync/loop_thread.h"
#include "sync/retry_backoff.h"

namespace hsync {

namespace {

std::string PrintableCheckpoint(const ExchangeConfig& c, const ExchangeState& s) {
  if (s.generation == 0 && s.checkpoint.empty()) return "";
  std::string a, b;
  if (c.kind == ExchangeKind::kUrl || c.kind == ExchangeKind::kFile) DecodeValidators(s.checkpoint, &a, &b);
  std::string out = "generation " + std::to_string(s.generation);
  if (c.kind == ExchangeKind::kUrl) {
    if (!a.empty()) out += ", etag " + a;
    if (!b.empty()) out += ", last-modified " + b;
  } else if (c.kind == ExchangeKind::kFile) {
    if (!a.empty()) out += ", size " + a + ", mtime " + b;
  } else if (c.kind == ExchangeKind::kThreatExchange) {
    out += s.checkpoint.empty() ? ", whole group next" : ", updates since " + s.checkpoint;
  } else if (c.kind == ExchangeKind::kNcmec) {
    const NcmecCheckpoint n = DecodeNcmecCheckpoint(s.checkpoint);
    out += ", windows read to " + FormatNcmecTime(n.done_s);
    if (!n.next.empty()) out += ", window to " + FormatNcmecTime(n.to_s) + " open at page " + n.next;
  } else if (c.kind == ExchangeKind::kStopNcii) {
    out += s.checkpoint.empty() ? ", everything next" : ", records since " + s.checkpoint;
  } else if (c.kind == ExchangeKind::kTcap) {
    out += s.checkpoint.empty() ? ", everything next" : ", records after " + s.checkpoint;
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
  if (config.kind == ExchangeKind::kThreatExchange) {
    HS_RETURN_IF_ERROR(ThreatExchangeClient::Create(config, &x->te_));
  } else if (config.kind == ExchangeKind::kNcmec) {
    HS_RETURN_IF_ERROR(NcmecClient::Create(config, &x->ncmec_));
  } else if (config.kind == ExchangeKind::kStopNcii) {
    HS_RETURN_IF_ERROR(StopNciiClient::Create(config, &x->stopncii_));
  } else if (config.kind == ExchangeKind::kTcap) {
    HS_RETURN_IF_ERROR(TcapClient::Create(config, &x->tcap_));
  } else {
    HS_RETURN_IF_ERROR(MakeSnapshotSource(config, &x->source_).WithContext(where));
  }
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
  LoopThread{mu_, cv_, stopping_, running_, thread_}.Stop([this] {
    if (source_) source_->Cancel();
    if (te_) te_->Cancel();
    if (ncmec_) ncmec_->Cancel();
    if (stopncii_) stopncii_->Cancel();
    if (tcap_) tcap_->Cancel();
  });
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

bool Exchange::Stopping() const {
  std::lock_guard l(mu_);
  return stopping_;
}

Status Exchange::RunOnce(int64_t* retry_after_s) {
  if (te_) return RunThreatExchange(retry_after_s);
  if (ncmec_) return RunNcmec(retry_after_s);
  if (stopncii_) return RunStopNcii(retry_after_s);
  if (tcap_) return RunTcap(retry_after_s);
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
  codec::ListCodecOptions options;
  HS_RETURN_IF_ERROR(codec::ParseListFormat(config_.format, &options.format));
  HS_RETURN_IF_ERROR(base::ParseSignalType(config_.type, &options.type));
  std::vector<base::SignalEntry> entries;
  // Any line that cannot be read rejects the whole snapshot: applying it
  // without that line would withdraw the hash the line holds.
  HS_RETURN_IF_ERROR(codec::ParseHashList(snapshot.text, options, &entries)
                         .WithContext(config_.kind == ExchangeKind::kUrl ? config_.url : config_.path));
  return ApplyFull(entries, {}, snapshot.checkpoint, entries.size());
}

namespace {
std::string EntryKey(const base::SignalEntry& e) {
  std::string k(1, static_cast<char>(e.type));
  k += e.hash;
  return k;
}
}  // namespace

Status Exchange::WriteWithState(store::BatchRequest* batch, ExchangeState* next, store::BatchResult* result,
                                std::vector<store::HashLists::MetaWrite> extra) {
  if (batch->add.empty() && batch->remove.empty()) {
    rocksdb::WriteBatch wb;
    wb.Put(db_->family(store::Database::kMeta), ExchangeStateKey(config_.name), EncodeExchangeState(*next));
    for (const auto& m : extra) {
      if (m.value) {
        wb.Put(db_->family(store::Database::kMeta), m.key, *m.value);
      } else {
        wb.Delete(db_->family(store::Database::kMeta), m.key);
      }
    }
    return db_->Write(&wb, true);
  }
  next->generation = next->generation + 1;
  batch->batch_id = "exchange:" + config_.name + ":" + std::to_string(next->generation);
  extra.push_back({ExchangeStateKey(config_.name), EncodeExchangeState(*next)});
  return lists_->ApplyBatch(list_id_, *batch, std::move(extra), result);
}

Status Exchange::TakePage(const std::vector<const PartnerUpdate*>& updates, WholeList* whole,
                          const std::string& checkpoint, const char* what) {
  if (whole) {
    for (const PartnerUpdate* u : updates) whole->Add(*u);
    if (whole->bytes() > 4 * config_.max_bytes) {
      return Status::TooLarge(std::string("the whole ") + what + " is larger than 4 x max_bytes; raise max_bytes");
    }
    return Status::Ok();
  }
  store::BatchRequest batch;
  HS_RETURN_IF_ERROR(DeltaBatch(*lists_, list_id_, updates, &batch));
  return ApplyDelta(std::move(batch), checkpoint);
}

Status Exchange::ApplyWhole(WholeList* whole, const std::string& checkpoint) {
  std::vector<base::SignalEntry> live;
  std::vector<store::SignalMeta> live_meta;
  whole->Take(&live, &live_meta);
  HS_RETURN_IF_ERROR(ApplyFull(live, live_meta, checkpoint, live.size()));
  std::lock_guard l(mu_);
  ++full_fetches_;
  return Status::Ok();
}

Status Exchange::ApplyFull(const std::vector<base::SignalEntry>& entries, const std::vector<store::SignalMeta>& meta,
                           const std::string& checkpoint, size_t lines) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<base::SignalEntry> current;
  HS_RETURN_IF_ERROR(lists_->ListSignals(list_id_, &current));
  store::BatchRequest batch;
  DiffSnapshot(current, entries, &batch.add, &batch.remove);
  if (!meta.empty() && !batch.add.empty()) {
    std::unordered_map<std::string, const store::SignalMeta*> by_key;
    for (size_t i = 0; i < entries.size(); ++i) by_key.emplace(EntryKey(entries[i]), &meta[i]);
    for (const auto& e : batch.add) batch.add_meta.push_back(*by_key.at(EntryKey(e)));
  }

  ExchangeState next;
  {
    std::lock_guard l(mu_);
    next = state_;
  }
  next.last_success_ms = base::NowMs();
  next.checkpoint = checkpoint;
  next.entries = current.size() + batch.add.size() - batch.remove.size();
  store::BatchResult result;
  HS_RETURN_IF_ERROR(WriteWithState(&batch, &next, &result));
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  NoteApplied(next, result);
  Log(LogLevel::kInfo, "applied a whole list of " + std::to_string(lines) + " entries: " +
                           std::to_string(result.added) + " added, " + std::to_string(result.removed) +
                           " withdrawn, " + std::to_string(next.entries) + " in list '" + config_.list + "' (" +
                           std::to_string(static_cast<int64_t>(ms)) + " ms)");
  return Status::Ok();
}

Status Exchange::ApplyDelta(store::BatchRequest batch, const std::string& checkpoint,
                            std::vector<store::HashLists::MetaWrite> extra) {
  ExchangeState next;
  {
    std::lock_guard l(mu_);
    next = state_;
  }
  next.last_success_ms = base::NowMs();
  next.checkpoint = checkpoint;
  store::BatchResult result;
  store::ListInfo info;
  const bool changes = !batch.add.empty() || !batch.remove.empty();
  if (changes) HS_RETURN_IF_ERROR(lists_->GetList(list_id_, &info));
  HS_RETURN_IF_ERROR(WriteWithState(&batch, &next, &result, std::move(extra)));
  if (changes) next.entries = info.signal_count + result.added - result.removed;
  NoteApplied(next, result);
  return Status::Ok();
}

void Exchange::NoteApplied(const ExchangeState& next, const store::BatchResult& result) {
  std::lock_guard l(mu_);
  state_ = next;
  ++applied_;
  added_ += result.added;
  removed_ += result.removed;
}

Status Exchange::RunThreatExchange(int64_t* retry_after_s) {
  ExchangeState state;
  {
    std::lock_guard l(mu_);
    state = state_;
  }
  // Deletions are kept ~90 days: a checkpoint older than stale_after_s may
  // have missed some, so the whole group is fetched and diffed instead.
  const bool stale = state.last_success_ms > 0 && base::NowMs() - state.last_success_ms > config_.stale_after_s * 1000;
  int64_t update_time = -1;
  if (!state.checkpoint.empty() && !stale) {
    if (!base::ParseInt(state.checkpoint, "checkpoint", 0, INT64_MAX, &update_time).ok()) update_time = -1;
  }
  const bool full = update_time < 0;
  if (full && stale) Log(LogLevel::kWarn, "the checkpoint is stale (older than stale_after_s): fetching the whole group");
  std::string url = te_->FirstUrl(full ? std::nullopt : std::optional<int64_t>(update_time));
  WholeList whole;  // a whole-group fetch
  int64_t max_update = full ? 0 : update_time;
  size_t pages = 0, updates = 0;
  while (!url.empty()) {
    if (Stopping()) return Status::Unavailable("canceled");
    ThreatUpdatePage page;
    HS_RETURN_IF_ERROR(te_->Fetch(url, &page, retry_after_s));
    ++pages;
    updates += page.updates.size();
    max_update = std::max(max_update, page.max_last_updated);
    // One page, one atomic write with the checkpoint it reaches (start_time
    // is inclusive: the update a fetch resumes from comes again).
    HS_RETURN_IF_ERROR(TakePage(page.updates, full ? &whole : nullptr, std::to_string(max_update), "group"));
    url = page.next;
  }
  // An empty group has no update time to resume from: the next fetch is
  // whole again (cheap while it is empty).
  if (full) HS_RETURN_IF_ERROR(ApplyWhole(&whole, max_update > 0 ? std::to_string(max_update) : ""));
  Log(LogLevel::kDebug, std::to_string(pages) + " threat_updates pages, " + std::to_string(updates) + " updates");
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
  s.full_fetches = full_fetches_;
  s.running = running_;
  return s;
}

}  // namespace hsync
