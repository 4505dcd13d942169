#include "index/match_index.h"

#include <algorithm>
#include <cstring>

namespace idx {

namespace {

// Size-tiered merging keeps a list at O(log n) segments; this caps it for
// lists fed by many tiny batches of alternating sizes.
constexpr size_t kMaxSegments = 12;

std::string TombstoneKey(SignalType type, const uint8_t* hash) {
  std::string k(1, static_cast<char>(type));
  k.append(reinterpret_cast<const char*>(hash), SignalHashBytes(type));
  return k;
}

const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

}  // namespace

MatchIndex::MatchIndex(Options options) : options_(options) {
  snapshot_.store(std::make_shared<const Snapshot>(), std::memory_order_release);
  merger_ = std::thread([this] { MergerLoop(); });
}

MatchIndex::~MatchIndex() {
  {
    std::lock_guard l(merge_mu_);
    stop_ = true;
  }
  merge_cv_.notify_all();
  merger_.join();
}

const std::shared_ptr<const MatchIndex::ListState>& MatchIndex::FindListShared(const Snapshot& s, uint64_t id) {
  static const std::shared_ptr<const ListState> kNone;
  auto it = std::lower_bound(s.lists.begin(), s.lists.end(), id,
                             [](const std::shared_ptr<const ListState>& l, uint64_t v) { return l->spec.id < v; });
  return it != s.lists.end() && (*it)->spec.id == id ? *it : kNone;
}

const MatchIndex::ListState* MatchIndex::FindList(const Snapshot& s, uint64_t id) { return FindListShared(s, id).get(); }

bool MatchIndex::Visible(const ListState& list, const IndexSegment& seg, SignalType type, const uint8_t* hash) {
  if (!list.tombstones) return true;
  auto it = list.tombstones->find(TombstoneKey(type, hash));
  return it == list.tombstones->end() || it->second < seg.generation();
}

void MatchIndex::Publish(std::shared_ptr<const ListState> list) {
  auto next = std::make_shared<Snapshot>(*snapshot());
  auto it = std::lower_bound(next->lists.begin(), next->lists.end(), list->spec.id,
                             [](const std::shared_ptr<const ListState>& l, uint64_t v) { return l->spec.id < v; });
  if (it != next->lists.end() && (*it)->spec.id == list->spec.id) {
    *it = std::move(list);
  } else {
    next->lists.insert(it, std::move(list));
  }
  snapshot_.store(std::move(next), std::memory_order_release);
}

void MatchIndex::PutList(const ListIndexSpec& spec) {
  std::lock_guard l(publish_mu_);
  auto snap = snapshot();
  const ListState* cur = FindList(*snap, spec.id);
  auto next = cur ? std::make_shared<ListState>(*cur) : std::make_shared<ListState>();
  next->spec = spec;
  Publish(std::move(next));
}

void MatchIndex::Load(uint64_t list_id, SignalSet signals) {
  std::shared_ptr<IndexSegment> seg;
  if (signals.size() > 0) {
    // Generation 1: Load replaces the list's state with one segment.
    seg = std::make_shared<IndexSegment>(1, std::move(signals), options_.strategy, options_.kernels);
  }
  std::lock_guard l(publish_mu_);
  auto snap = snapshot();
  const ListState* cur = FindList(*snap, list_id);
  if (!cur) return;
  auto next = std::make_shared<ListState>();
  next->spec = cur->spec;
  next->next_generation = 2;
  if (seg) {
    next->signals = seg->size();
    next->pdq_signals = seg->pdq_count();
    next->segments.push_back(std::move(seg));
  }
  Publish(std::move(next));
}

std::shared_ptr<const IndexSegment> MatchIndex::Merge(const ListState& list, size_t first, size_t last,
                                                      uint64_t generation) const {
  if (!list.tombstones && last == first + 1) {
    // Nothing hidden: concatenate (and reuse the multi-indexes' sort order).
    return std::make_shared<IndexSegment>(generation, *list.segments[first], *list.segments[last], options_.strategy,
                                          options_.kernels);
  }
  SignalSet set;
  for (size_t s = first; s <= last; ++s) {
    const IndexSegment& seg = *list.segments[s];
    for (size_t i = 0; i < seg.pdq_count(); ++i) {
      const uint8_t* h = seg.pdq()[i].bytes.data();
      if (Visible(list, seg, SignalType::kPdq, h)) set.pdq.push_back(seg.pdq()[i]);
    }
    for (const auto& h : seg.md5()) {
      if (Visible(list, seg, SignalType::kMd5, h.data())) set.md5.push_back(h);
    }
    for (const auto& h : seg.sha256()) {
      if (Visible(list, seg, SignalType::kSha256, h.data())) set.sha256.push_back(h);
    }
  }
  return std::make_shared<IndexSegment>(generation, std::move(set), options_.strategy, options_.kernels);
}

void MatchIndex::Apply(uint64_t list_id, const std::vector<SignalRef>& added, const std::vector<SignalRef>& removed) {
  Commit(Prepare(list_id, added, removed));
}

std::unique_ptr<MatchIndex::Prepared> MatchIndex::Prepare(uint64_t list_id, const std::vector<SignalRef>& added,
                                                          const std::vector<SignalRef>& removed) const {
  if (added.empty() && removed.empty()) return nullptr;
  auto snap = snapshot();
  const ListState* cur = FindList(*snap, list_id);
  if (!cur) return nullptr;
  auto prepared = std::make_unique<Prepared>();
  prepared->list_id = list_id;
  // Writers are serialised and the merger never changes next_generation, so
  // this is still the list's next generation at Commit.
  prepared->generation = cur->next_generation;
  if (!added.empty()) {
    SignalSet set;
    for (const SignalRef& a : added) set.Add(a.type, a.hash);
    prepared->segment =
        std::make_shared<IndexSegment>(prepared->generation, std::move(set), options_.strategy, options_.kernels);
  }
  prepared->tombstones.reserve(removed.size());
  for (const SignalRef& r : removed) prepared->tombstones.push_back(TombstoneKey(r.type, Bytes(r.hash)));
  prepared->added = added.size();
  prepared->removed = removed.size();
  for (const SignalRef& a : added) prepared->pdq_added += a.type == SignalType::kPdq;
  for (const SignalRef& r : removed) prepared->pdq_removed += r.type == SignalType::kPdq;
  return prepared;
}

void MatchIndex::Commit(std::unique_ptr<Prepared> prepared) {
  if (!prepared) return;
  {
    std::lock_guard l(publish_mu_);
    auto snap = snapshot();
    const ListState* cur = FindList(*snap, prepared->list_id);
    if (!cur) return;
    auto next = std::make_shared<ListState>(*cur);
    const uint64_t gen = prepared->generation;
    next->next_generation = gen + 1;
    if (prepared->segment) next->segments.push_back(std::move(prepared->segment));
    if (!prepared->tombstones.empty()) {
      // Hides every copy up to this batch's generation, including one this
      // batch just added (adds apply before removes).
      auto tomb = next->tombstones ? std::make_shared<Tombstones>(*next->tombstones) : std::make_shared<Tombstones>();
      for (std::string& k : prepared->tombstones) (*tomb)[std::move(k)] = gen;
      next->tombstones = std::move(tomb);
    }
    next->signals = next->signals + prepared->added - prepared->removed;
    next->pdq_signals = next->pdq_signals + prepared->pdq_added - prepared->pdq_removed;
    Publish(std::move(next));
  }
  ScheduleMerge(prepared->list_id);
}

void MatchIndex::ScheduleMerge(uint64_t list_id) {
  {
    std::lock_guard l(merge_mu_);
    merge_pending_.insert(list_id);
  }
  merge_cv_.notify_all();
}

void MatchIndex::WaitForMerges() {
  std::unique_lock l(merge_mu_);
  merge_cv_.wait(l, [&] { return merge_pending_.empty() && !merging_; });
}

void MatchIndex::MergerLoop() {
  std::unique_lock l(merge_mu_);
  for (;;) {
    merge_cv_.wait(l, [&] { return stop_ || !merge_pending_.empty(); });
    if (stop_) return;
    const uint64_t id = *merge_pending_.begin();
    merge_pending_.erase(merge_pending_.begin());
    merging_ = true;
    l.unlock();
    while (MergeOnce(id)) {
      std::lock_guard s(merge_mu_);
      if (stop_) break;
    }
    l.lock();
    merging_ = false;
    merge_cv_.notify_all();  // WaitForMerges
  }
}

bool MatchIndex::MergeOnce(uint64_t list_id) {
  // Plan from the current state; build without any lock; then swap the
  // merged segments for the result unless the state moved under us.
  std::shared_ptr<const ListState> plan = FindListShared(*snapshot(), list_id);
  if (!plan) return false;
  const auto& segs = plan->segments;
  size_t first, last;
  const bool full = plan->tombstones && plan->tombstones->size() > std::max<size_t>(1024, plan->signals / 8);
  if (full) {
    // A full merge drops every hidden copy, so no tombstone is needed after it.
    first = 0;
    last = segs.empty() ? 0 : segs.size() - 1;
  } else if (segs.size() >= 2 && (segs.size() > kMaxSegments || segs[segs.size() - 1]->size() * 2 >= segs[segs.size() - 2]->size())) {
    first = segs.size() - 2;
    last = segs.size() - 1;
  } else {
    return false;
  }
  std::shared_ptr<const IndexSegment> merged;
  if (!segs.empty()) merged = Merge(*plan, first, last, segs[last]->generation());

  std::lock_guard l(publish_mu_);
  auto snap = snapshot();
  const ListState* cur = FindList(*snap, list_id);
  if (!cur) return false;
  // Writers only append segments and the merger is the only one removing
  // them, so the planned range is still in place; check it all the same.
  if (cur->segments.size() < segs.size() ||
      !std::equal(segs.begin(), segs.end(), cur->segments.begin())) {
    return true;  // plan again
  }
  auto next = std::make_shared<ListState>(*cur);
  auto& out = next->segments;
  if (!segs.empty()) {
    out.erase(out.begin() + static_cast<ptrdiff_t>(first), out.begin() + static_cast<ptrdiff_t>(last) + 1);
    if (merged->size() > 0) out.insert(out.begin() + static_cast<ptrdiff_t>(first), std::move(merged));
  }
  // A tombstone added while merging (a remove committed meanwhile) is newer
  // than every merged copy and must stay; only an untouched set can go.
  if (full && cur->tombstones == plan->tombstones) next->tombstones.reset();
  Publish(std::move(next));
  return true;
}

bool MatchIndex::Contains(uint64_t list_id, SignalType type, std::string_view hash) const {
  auto snap = snapshot();
  const ListState* list = FindList(*snap, list_id);
  if (!list || hash.size() != SignalHashBytes(type)) return false;
  for (const auto& seg : list->segments) {
    if (seg->Contains(type, Bytes(hash)) && Visible(*list, *seg, type, Bytes(hash))) return true;
  }
  return false;
}

void MatchIndex::ContainsMany(uint64_t list_id, const std::vector<SignalRef>& q,
                              std::vector<uint8_t>* present) const {
  present->assign(q.size(), 0);
  auto snap = snapshot();
  const ListState* list = FindList(*snap, list_id);
  if (!list || list->segments.empty()) return;
  for (SignalType type : {SignalType::kPdq, SignalType::kMd5, SignalType::kSha256}) {
    std::vector<const uint8_t*> hashes;
    std::vector<size_t> where;
    for (size_t i = 0; i < q.size(); ++i) {
      if (q[i].type == type && q[i].hash.size() == SignalHashBytes(type)) {
        hashes.push_back(Bytes(q[i].hash));
        where.push_back(i);
      }
    }
    if (hashes.empty()) continue;
    std::vector<uint8_t> found(hashes.size(), 0), in_seg;
    for (const auto& seg : list->segments) {
      in_seg = found;
      seg->ContainsMany(type, hashes.data(), hashes.size(), in_seg.data());
      for (size_t j = 0; j < hashes.size(); ++j) {
        if (in_seg[j] && !found[j] && Visible(*list, *seg, type, hashes[j])) found[j] = 1;
      }
    }
    for (size_t j = 0; j < hashes.size(); ++j) (*present)[where[j]] = found[j];
  }
}

ScreenResult MatchIndex::Screen(const ScreenQuery& query) const {
  ScreenResult result;
  auto snap = snapshot();
  thread_local std::vector<PdqMatch> matches;
  const int num_pdq = query.use_pdq ? std::clamp(query.num_pdq, 0, kMaxQueryPdq) : 0;
  for (const auto& lp : snap->lists) {
    const ListState& list = *lp;
    if (!list.spec.enabled) continue;
    const HitFilter* filter = list.spec.kind == ListKind::kBlock ? query.held : nullptr;
    auto held = [&](SignalType type, const uint8_t* h) {
      return filter && filter->Held(list.spec.id, type, std::string_view(reinterpret_cast<const char*>(h), SignalHashBytes(type)));
    };
    Hit hit, held_hit;
    bool have = false, have_held = false;
    auto exact = [&](SignalType type, const uint8_t* h) {
      for (const auto& seg : list.segments) {
        if (seg->Contains(type, h) && Visible(list, *seg, type, h)) {
          Hit found{list.spec.id, type, std::string(reinterpret_cast<const char*>(h), SignalHashBytes(type)), 0, 0};
          if (held(type, h)) {
            if (!have_held) held_hit = std::move(found), have_held = true;
            return false;
          }
          hit = std::move(found);
          return true;
        }
      }
      return false;
    };
    if (query.md5) have = exact(SignalType::kMd5, query.md5->data());
    if (!have && query.sha256) have = exact(SignalType::kSha256, query.sha256->data());
    if (!have && num_pdq > 0) {
      // Best = smallest (distance, variant, hash bytes): the same answer from
      // every strategy, whichever order it finds pairs in. Held signals
      // compete only among themselves.
      struct Best {
        int d = 1 << 20, v = 0;
        base::PdqHash h;
        bool Beats(const PdqMatch& m, const base::PdqHash& mh) const {
          if (m.distance != d) return m.distance < d;
          if (m.needle != v) return m.needle < v;
          return std::memcmp(mh.bytes.data(), h.bytes.data(), 32) < 0;
        }
      } best, best_held;
      for (const auto& seg : list.segments) {
        matches.clear();
        seg->SearchPdq(query.pdq.data(), num_pdq, list.spec.pdq_threshold, &matches);
        for (const PdqMatch& m : matches) {
          const base::PdqHash& h = seg->pdq()[m.index];
          if (!best.Beats(m, h)) continue;
          if (!Visible(list, *seg, SignalType::kPdq, h.bytes.data())) continue;
          Best& into = held(SignalType::kPdq, h.bytes.data()) ? best_held : best;
          if (&into == &best_held && !best_held.Beats(m, h)) continue;
          into.d = m.distance;
          into.v = m.needle;
          into.h = h;
        }
      }
      if (best.d <= list.spec.pdq_threshold) {
        have = true;
        hit = Hit{list.spec.id, SignalType::kPdq, std::string(reinterpret_cast<const char*>(best.h.bytes.data()), 32),
                  best.d, query.labels[best.v]};
      } else if (!have_held && best_held.d <= list.spec.pdq_threshold) {
        have_held = true;
        held_hit = Hit{list.spec.id, SignalType::kPdq,
                       std::string(reinterpret_cast<const char*>(best_held.h.bytes.data()), 32), best_held.d,
                       query.labels[best_held.v]};
      }
    }
    if (have) {
      (list.spec.kind == ListKind::kAllow ? result.allow_hits : result.block_hits).push_back(std::move(hit));
    } else if (have_held) {
      result.held_hits.push_back(std::move(held_hit));
    }
  }
  return result;
}

size_t MatchIndex::pdq_hashes() const {
  auto snap = snapshot();
  size_t n = 0;
  for (const auto& l : snap->lists) n += l->pdq_signals;
  return n;
}

size_t MatchIndex::MemoryBytes() const {
  auto snap = snapshot();
  size_t n = 0;
  for (const auto& l : snap->lists) {
    for (const auto& seg : l->segments) n += seg->MemoryBytes();
    if (l->tombstones) n += l->tombstones->size() * 80;
  }
  return n;
}

size_t MatchIndex::SegmentCount(uint64_t list_id) const {
  auto snap = snapshot();
  const ListState* l = FindList(*snap, list_id);
  return l ? l->segments.size() : 0;
}


}  // namespace idx
