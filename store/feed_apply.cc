// HashLists' feed, follower side: one page of a primary's feed applied in one
// atomic write together with the follower's cursor, then published to the
// index in place, or left for RebuildIndex during a bootstrap
// (store/hash_lists.h, ApplyFeedPage).
//
// Every change in the feed took effect on the primary (an add of an absent
// signal, a remove of a present one), so a page's net effect on a signal is
// decided by its first and last change: added if both are adds, removed if
// both are removes, otherwise present as before (only its record, the
// reference and time of the last add, may change). The first change also
// tells what this database must hold before the page; it is checked against
// the index, so a page that does not fit (a gap, a page applied twice, a
// different primary) is refused whole instead of corrupting the lists.
#include <algorithm>
#include <cstring>
#include <map>
#include <thread>

#include "base/coding.h"
#include "store/atomic_batch.h"
#include "store/feed.h"
#include "store/hash_lists.h"
#include "store/key_encoding.h"

namespace store {

namespace {

ListIndexSpec SpecOf(const ListInfo& info) {
  return ListIndexSpec{info.id, info.kind, info.pdq_threshold, info.enabled};
}

struct SignalOp {
  uint64_t list_id;
  uint64_t prefix;  // type, then the hash's first 7 bytes, big-endian: most comparisons end here
  const Change* change;
  uint32_t order;  // position in the page
};

uint64_t Prefix(const Change& c) {
  uint64_t p = static_cast<uint64_t>(c.type);
  for (size_t i = 0; i < 7; ++i) p = (p << 8) | static_cast<uint8_t>(c.hash[i]);
  return p;
}

bool SignalLess(const SignalOp& a, const SignalOp& b) {
  if (a.list_id != b.list_id) return a.list_id < b.list_id;
  if (a.prefix != b.prefix) return a.prefix < b.prefix;
  if (int c = std::memcmp(a.change->hash.data(), b.change->hash.data(), a.change->hash.size()); c != 0) return c < 0;
  return a.order < b.order;
}

bool SameSignal(const SignalOp& a, const SignalOp& b) {
  return a.list_id == b.list_id && a.prefix == b.prefix && a.change->hash == b.change->hash;
}

// What the page does to one list's signals in the index.
struct ListDelta {
  std::vector<idx::SignalRef> added, removed;
};

Status Misfit(const std::string& what) {
  return Status::Corruption("feed page does not continue this database: " + what);
}

}  // namespace

Status HashLists::ApplyFeedPage(const FeedCursor& from, const FeedPage& page, std::string_view cursor_key,
                                std::string_view cursor_value, IndexUpdate update) {
  const bool in_place = update == IndexUpdate::kInPlace;
  std::lock_guard w(write_mu_);

  // 1. Continuity, and the lists as they will be after the page.
  std::map<uint64_t, ListInfo> lists;  // touched lists, by id (key order for the write)
  std::map<uint64_t, bool> metadata;   // lists whose record came in a list_put
  auto current = [&](uint64_t id) -> ListInfo* {
    auto t = lists.find(id);
    if (t != lists.end()) return &t->second;
    auto l = lists_.find(id);
    if (l == lists_.end()) return nullptr;
    return &(lists[id] = l->second);
  };
  FeedCursor at = from;
  if (at.record != feed_head_ && !(at.record == feed_head_ + 1 && at.change != 0)) {
    return Misfit("its cursor " + FormatFeedCursor(from) + " is not where this database is (feed record " +
                  std::to_string(feed_head_) + ")");
  }
  std::vector<SignalOp> ops;
  std::vector<std::pair<uint64_t, const Change*>> changes;  // (list id, change): the change records to write
  ops.reserve(page.entries);
  changes.reserve(page.entries);
  uint64_t max_list_id = 0;
  for (const FeedItem& item : page.items) {
    const FeedRecord& r = item.record;
    const bool continues = at.change != 0;
    const std::string where = "feed record " + std::to_string(r.seq);
    if (r.seq != (continues ? at.record : at.record + 1)) {
      return Misfit(where + " follows cursor " + FormatFeedCursor(at));
    }
    if (r.kind == FeedKind::kListPut) {
      if (continues || r.list.id == 0) return Misfit(where + " is not a list record expected here");
      ListInfo* cur = current(r.list.id);
      if (cur && (cur->last_seq != r.list.last_seq || cur->signal_count != r.list.signal_count)) {
        return Misfit(where + ": list " + std::to_string(r.list.id) + " has seq " + std::to_string(cur->last_seq) +
                      " and " + std::to_string(cur->signal_count) + " signals here, " + std::to_string(r.list.last_seq) +
                      " and " + std::to_string(r.list.signal_count) + " on the primary");
      }
      lists[r.list.id] = r.list;
      metadata[r.list.id] = true;
      max_list_id = std::max(max_list_id, r.list.id);
      at = {r.seq, 0};
      continue;
    }
    if (item.changes.empty()) return Misfit(where + " carries no change");
    const uint64_t first = item.changes.front().seq;
    if (first != (continues ? at.change + 1 : r.first_change) || r.first_change > r.last_change) {
      return Misfit(where + " starts at change " + std::to_string(first));
    }
    ListInfo* list = current(r.list_id);
    if (!list) return Misfit(where + " changes list " + std::to_string(r.list_id) + ", which does not exist here");
    if (first != list->last_seq + 1) {
      return Misfit(where + ": list " + std::to_string(r.list_id) + " is at change " + std::to_string(list->last_seq) +
                    " here, the page continues from " + std::to_string(first - 1));
    }
    for (size_t i = 0; i < item.changes.size(); ++i) {
      const Change& c = item.changes[i];
      if (c.seq != first + i || c.seq > r.last_change) return Misfit(where + ": change seqs are not consecutive");
      if (!IsValidSignalType(static_cast<uint8_t>(c.type)) || c.hash.size() != SignalHashBytes(c.type)) {
        return Misfit(where + ": change " + std::to_string(c.seq) + " is malformed");
      }
      if (c.add) {
        ++list->signal_count;
      } else if (list->signal_count-- == 0) {
        return Misfit(where + ": list " + std::to_string(r.list_id) + " would hold fewer than 0 signals");
      }
      ops.push_back({r.list_id, Prefix(c), &c, static_cast<uint32_t>(ops.size())});
      changes.emplace_back(r.list_id, &c);
    }
    list->last_seq = item.changes.back().seq;
    at = item.completes() ? FeedCursor{r.seq, 0} : FeedCursor{r.seq, list->last_seq};
  }
  if (!(page.next == at)) {
    return Misfit("the page ends at " + FormatFeedCursor(at) + " but says its next cursor is " +
                  FormatFeedCursor(page.next));
  }

  // 2. Net effect per signal, checked against what this database holds
  // (kDeferred: against the lists' counts, by RebuildIndex).
  std::sort(ops.begin(), ops.end(), SignalLess);
  struct Group {
    size_t first, last;  // ops[first..last]: one signal's changes, in page order
  };
  std::vector<Group> groups;
  groups.reserve(ops.size());
  for (size_t i = 0; i < ops.size();) {
    size_t j = i;
    while (j + 1 < ops.size() && SameSignal(ops[i], ops[j + 1])) ++j;
    groups.push_back({i, j});
    i = j + 1;
  }
  std::map<uint64_t, ListDelta> deltas;
  if (in_place) {
    // Groups are in list order: one batched look-up per list.
    std::vector<idx::SignalRef> query;
    std::vector<uint8_t> present;
    for (size_t g0 = 0; g0 < groups.size();) {
      const uint64_t list_id = ops[groups[g0].first].list_id;
      size_t g1 = g0;
      query.clear();
      for (; g1 < groups.size() && ops[groups[g1].first].list_id == list_id; ++g1) {
        const Change& c = *ops[groups[g1].first].change;
        query.push_back({c.type, c.hash});
      }
      index_.ContainsMany(list_id, query, &present);
      for (size_t i = 0; i < present.size(); ++i) {
        const Change& first = *ops[groups[g0 + i].first].change;
        if (static_cast<bool>(present[i]) == first.add) {
          return Misfit("change " + std::to_string(first.seq) + " of list " + std::to_string(list_id) + " " +
                        (first.add ? "adds a signal already held" : "removes a signal not held"));
        }
      }
      g0 = g1;
    }
  }

  // 3. One atomic write: changes, signals, lists, feed records, meta.
  // As ApplyBatch: SST ingestion only while the database allows it (see
  // Database::Ingest), a WriteBatch otherwise; both are atomic.
  const AtomicBatch::Mode mode = ops.size() >= ingest_from_changes_ && db_->IngestionSafe()
                                     ? AtomicBatch::Mode::kIngest
                                     : AtomicBatch::Mode::kWriteBatch;
  AtomicBatch wb(db_, mode, mode == AtomicBatch::Mode::kWriteBatch ? 128 * ops.size() + 4096 : 0);
  std::string key, value;
  // A list's changes come in seq order and a page lists them in feed order:
  // ordering by list alone keeps the keys increasing.
  std::stable_sort(changes.begin(), changes.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [list_id, c] : changes) {
    key.clear();
    keys::AppendChangeKey(&key, list_id, c->seq);
    value.clear();
    keys::AppendChange(&value, c->add, c->type, c->hash, c->time_ms, c->ref, &c->meta);
    wb.Put(Database::kChanges, key, value);
  }
  for (const Group& g : groups) {
    const SignalOp& first = ops[g.first];
    const Change& last = *ops[g.last].change;
    key.clear();
    keys::AppendSignalKey(&key, first.list_id, last.type, last.hash);
    if (last.add) {
      value.clear();
      keys::AppendSignalValue(&value, last.time_ms, last.ref, &last.meta);
      wb.Put(Database::kSignals, key, value);
    } else {
      wb.Delete(Database::kSignals, key);
    }
    if (in_place && first.change->add == last.add) {
      auto& d = deltas[first.list_id];
      (last.add ? d.added : d.removed).push_back({last.type, last.hash});
    }
  }
  for (const auto& [id, info] : lists) wb.Put(Database::kLists, keys::ListKey(id), keys::EncodeList(info));
  for (const FeedItem& item : page.items) {
    if (item.completes()) wb.Put(Database::kFeed, keys::FeedKey(item.record.seq), keys::EncodeFeedRecord(item.record));
  }
  const uint64_t next_list_id = std::max(next_list_id_, max_list_id + 1);
  std::vector<std::pair<std::string, std::string>> meta = {{std::string(cursor_key), std::string(cursor_value)}};
  if (next_list_id != next_list_id_) meta.emplace_back(std::string(keys::kNextListId), base::EncodeU64(next_list_id));
  std::sort(meta.begin(), meta.end());
  for (const auto& [k, v] : meta) wb.Put(Database::kMeta, k, v);

  // The new segments of lists the index already has are built while the page
  // is written (as ApplyBatch does); lists new in this page get theirs after.
  // (kDeferred: deltas is empty.)
  std::vector<std::unique_ptr<MatchIndex::Prepared>> prepared;
  auto prepare_known = [&] {
    for (auto& [list_id, d] : deltas) {
      if (lists_.count(list_id)) prepared.push_back(index_.Prepare(list_id, d.added, d.removed));
    }
  };
  Status written;
  if (in_place && ops.size() >= 4096) {
    std::thread builder(prepare_known);
    written = wb.Commit();
    builder.join();
  } else {
    written = wb.Commit();
    if (written.ok()) prepare_known();
  }
  HS_RETURN_IF_ERROR(written);
  next_list_id_ = next_list_id;

  // 4. Publish: list metadata, then each list's signals, then the lists map.
  for (const auto& [id, info] : lists) {
    if (metadata.count(id)) index_.PutList(SpecOf(info));
  }
  for (auto& p : prepared) index_.Commit(std::move(p));
  for (auto& [list_id, d] : deltas) {
    if (!lists_.count(list_id)) index_.Commit(index_.Prepare(list_id, d.added, d.removed));
  }
  {
    std::unique_lock l(mu_);
    for (auto& [id, info] : lists) lists_[id] = std::move(info);
  }
  int64_t time_ms = feed_head_time_ms_;
  for (const FeedItem& item : page.items) {
    if (item.completes()) time_ms = item.record.time_ms;
  }
  const uint64_t complete = at.change == 0 ? at.record : at.record - 1;
  if (complete != feed_head_) PublishFeed(complete, time_ms);
  return Status::Ok();
}

}  // namespace store
