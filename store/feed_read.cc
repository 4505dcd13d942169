// HashLists' feed, primary side: loading the head at open, publishing new
// records to waiting long polls, and reading pages (store/feed.h).
#include <algorithm>

#include <rocksdb/iterator.h>

#include "base/clock.h"
#include "base/coding.h"
#include "store/feed.h"
#include "store/hash_lists.h"
#include "store/key_encoding.h"

namespace store {

namespace {
// Approximate wire bytes of an entry (the binary encoding's, within a few).
size_t ChangeBytes(const Change& c) { return 24 + c.hash.size() + c.ref.size(); }
size_t ListPutBytes(const ListInfo& l) { return 64 + l.name.size() + l.owner.size(); }
}  // namespace

Status HashLists::LoadFeed() {
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->family(Database::kFeed)));
  it->SeekToLast();
  HS_RETURN_IF_ERROR(FromRocks(it->status(), "reading the feed"));
  if (it->Valid()) {
    if (it->key().size() != 8) return Status::Corruption("feed key is damaged");
    FeedRecord last;
    HS_RETURN_IF_ERROR(keys::DecodeFeedRecord(base::GetU64(it->key().data()), it->value().ToStringView(), &last));
    feed_head_ = last.seq;
    feed_head_time_ms_ = last.time_ms;
    return Status::Ok();
  }
  if (lists_.empty()) return Status::Ok();

  // A database written before the feed existed: describe every list as it
  // is, then its whole change history, so a follower replays it from empty.
  std::vector<uint64_t> ids;
  for (const auto& [id, info] : lists_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  const int64_t now = base::NowMs();
  rocksdb::WriteBatch wb;
  uint64_t seq = 0;
  for (uint64_t id : ids) {
    FeedRecord put;
    put.seq = ++seq;
    put.time_ms = now;
    put.list = lists_[id];
    put.list.last_seq = 0;
    put.list.signal_count = 0;
    put.list_id = id;
    wb.Put(db_->family(Database::kFeed), keys::FeedKey(put.seq), keys::EncodeFeedRecord(put));
    if (lists_[id].last_seq == 0) continue;
    FeedRecord batch;
    batch.seq = ++seq;
    batch.kind = FeedKind::kBatch;
    batch.time_ms = now;
    batch.list_id = id;
    batch.first_change = 1;
    batch.last_change = lists_[id].last_seq;
    wb.Put(db_->family(Database::kFeed), keys::FeedKey(batch.seq), keys::EncodeFeedRecord(batch));
  }
  HS_RETURN_IF_ERROR(db_->Write(&wb, /*sync=*/true));
  feed_head_ = seq;
  feed_head_time_ms_ = now;
  return Status::Ok();
}

void HashLists::PublishFeed(uint64_t seq, int64_t time_ms) {
  {
    std::lock_guard l(feed_mu_);
    feed_head_ = seq;
    feed_head_time_ms_ = time_ms;
  }
  feed_cv_.notify_all();
}

void HashLists::FeedHead(uint64_t* record, int64_t* time_ms) const {
  std::lock_guard l(feed_mu_);
  *record = feed_head_;
  *time_ms = feed_head_time_ms_;
}

bool HashLists::WaitForFeed(const FeedCursor& after, std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock l(feed_mu_);
  auto ready = [&] { return after.change != 0 || feed_head_ > after.record; };
  feed_cv_.wait_until(l, deadline, [&] { return feed_stopped_ || ready(); });
  return ready();
}

void HashLists::StopFeedWaiters() {
  {
    std::lock_guard l(feed_mu_);
    feed_stopped_ = true;
  }
  feed_cv_.notify_all();
}

Status HashLists::ReadFeed(const FeedCursor& after, size_t max_entries, size_t max_bytes, FeedPage* out) const {
  *out = FeedPage();
  uint64_t head;
  FeedHead(&head, &out->head_time_ms);
  out->head = {head, 0};
  out->next = after;
  if (after.record > head || (after.record == head && after.change != 0)) {
    return Status::InvalidArgument("cursor " + FormatFeedCursor(after) + " is beyond the end of this feed (" +
                                   FormatFeedCursor(out->head) + ")");
  }
  if (max_entries == 0 || after == out->head) return Status::Ok();

  rocksdb::ReadOptions ro;
  // Large pages (a bootstrap) read the changes sequentially: read ahead, and
  // keep them out of the block cache, which serves the screening look-ups.
  if (max_entries > 10000) {
    ro.readahead_size = 4 << 20;
    ro.fill_cache = false;
  }
  // Records up to the head are immutable, and so are the changes they name.
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(ro, db_->family(Database::kFeed)));
  std::unique_ptr<rocksdb::Iterator> changes(db_->db()->NewIterator(ro, db_->family(Database::kChanges)));
  size_t bytes = 0;
  auto full = [&](size_t cost) { return out->entries > 0 && (out->entries >= max_entries || bytes + cost > max_bytes); };
  uint64_t expect = after.change != 0 ? after.record : after.record + 1;
  bool stop = false;
  for (it->Seek(keys::FeedKey(expect)); !stop && it->Valid(); it->Next(), ++expect) {
    if (it->key().size() != 8) return Status::Corruption("feed key is damaged");
    const uint64_t seq = base::GetU64(it->key().data());
    if (seq > head) break;
    if (seq != expect) return Status::Corruption("feed record " + std::to_string(expect) + " is missing");
    FeedItem item;
    HS_RETURN_IF_ERROR(keys::DecodeFeedRecord(seq, it->value().ToStringView(), &item.record));
    const FeedRecord& r = item.record;
    if (r.kind == FeedKind::kListPut) {
      if (seq == after.record) {
        return Status::InvalidArgument("cursor " + FormatFeedCursor(after) + ": feed record " + std::to_string(seq) +
                                       " is a list record, not a batch");
      }
      if (full(ListPutBytes(r.list))) break;
      bytes += ListPutBytes(r.list);
      ++out->entries;
      out->items.push_back(std::move(item));
      out->next = {seq, 0};
      continue;
    }
    uint64_t start = r.first_change;
    if (seq == after.record) {
      if (after.change < r.first_change || after.change >= r.last_change) {
        return Status::InvalidArgument("cursor " + FormatFeedCursor(after) + " is not inside feed record " +
                                       std::to_string(seq) + " (changes " + std::to_string(r.first_change) + ".." +
                                       std::to_string(r.last_change) + ")");
      }
      start = after.change + 1;
    }
    const std::string prefix = keys::ListPrefix(r.list_id);
    item.changes.reserve(std::min<uint64_t>(r.last_change - start + 1, max_entries - std::min(max_entries, out->entries) + 1));
    changes->Seek(keys::ChangeKey(r.list_id, start));
    for (uint64_t c = start; c <= r.last_change; ++c, changes->Next()) {
      if (full(40)) {
        stop = true;
        break;
      }
      if (!changes->Valid() || changes->key().size() != 16 || !changes->key().starts_with(prefix) ||
          base::GetU64(changes->key().data() + 8) != c) {
        HS_RETURN_IF_ERROR(FromRocks(changes->status(), "reading changes"));
        return Status::Corruption("change " + std::to_string(c) + " of list " + std::to_string(r.list_id) +
                                  " named by feed record " + std::to_string(seq) + " is missing");
      }
      Change change;
      HS_RETURN_IF_ERROR(keys::DecodeChange(c, changes->value().ToStringView(), &change));
      bytes += ChangeBytes(change);
      ++out->entries;
      item.changes.push_back(std::move(change));
    }
    if (item.changes.empty()) break;
    out->next = item.completes() ? FeedCursor{seq, 0} : FeedCursor{seq, item.changes.back().seq};
    out->items.push_back(std::move(item));
  }
  HS_RETURN_IF_ERROR(FromRocks(it->status(), "reading the feed"));
  return FromRocks(changes->status(), "reading changes");
}

}  // namespace store
