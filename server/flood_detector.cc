#include "server/flood_detector.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/coding.h"
#include "base/crypto.h"
#include "base/text.h"

namespace server {

namespace {

// Past this level a kept id would weigh more than any threshold could need;
// the sample then stops growing its level (and counts nothing new).
constexpr uint8_t kMaxLevel = 24;

}  // namespace

FloodDetector::FloodDetector(const Options& options)
    : options_(options),
      sample_ids_(static_cast<size_t>(std::clamp<int64_t>(options.min_hits, kMinSampleIds, kMaxSampleIds))),
      content_key_(32, '\0') {
  base::RandomBytes(std::span<uint8_t>(reinterpret_cast<uint8_t*>(content_key_.data()), content_key_.size()));
}

FloodDetector::ContentId FloodDetector::Content(std::string_view content) const {
  const base::Sha256Digest mac = base::HmacSha256(content_key_, content);
  ContentId id;
  std::memcpy(&id, mac.data(), sizeof id);
  return id;
}

bool FloodDetector::Sample::Keeps(ContentId id) const {
  return level == 0 || (id & ((ContentId{1} << level) - 1)) == 0;
}

bool FloodDetector::Sample::Contains(ContentId id) const {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

uint64_t FloodDetector::Sample::Add(ContentId id, size_t most) {
  if (!Keeps(id) || Contains(id)) return 0;
  const uint64_t weight = uint64_t{1} << level;
  ids.push_back(id);
  while (ids.size() > most && level < kMaxLevel) {
    ++level;
    std::erase_if(ids, [&](ContentId kept) { return !Keeps(kept); });
  }
  if (ids.size() > most) {
    ids.pop_back();
    return 0;
  }
  return weight;
}

base::Status FloodDetector::ParseExemptLists(std::string_view text, std::vector<std::string>* out) {
  out->clear();
  if (base::TrimBlanks(text).empty()) return base::Status::Ok();
  for (std::string_view name : base::SplitTrimmed(text, ',')) {
    if (name.empty() || name.size() > 256) {
      return base::Status::InvalidArgument("quarantine.exempt_lists: list names, separated by commas, each 1..256 bytes");
    }
    out->emplace_back(name);
  }
  return base::Status::Ok();
}

bool FloodDetector::ListExempt(std::string_view list_name) const {
  return std::find(options_.exempt_lists.begin(), options_.exempt_lists.end(), list_name) != options_.exempt_lists.end();
}

int64_t FloodDetector::BucketMs() const { return std::max<int64_t>(1, options_.window_ms / kBuckets); }

std::string FloodDetector::Key(uint64_t list_id, base::SignalType type, std::string_view hash) {
  std::string k;
  base::PutU64(&k, list_id);
  k.push_back(static_cast<char>(type));
  k.append(hash);
  return k;
}

void FloodDetector::Advance(Track* t, int64_t index) const {
  if (index <= t->newest) return;
  const double alpha = 1.0 / (static_cast<double>(std::max<int64_t>(1, options_.history_windows)) * kBuckets);
  const int64_t steps = index - t->newest;
  // Each bucket leaving the window feeds the usual rate; steps beyond a
  // whole window are empty buckets, folded in at once.
  const int64_t leaving = std::min<int64_t>(steps, kBuckets);
  for (int64_t i = 1; i <= leaving; ++i) {
    uint32_t& b = t->buckets[static_cast<size_t>((t->newest + i) % kBuckets)];
    t->usual = t->usual * (1 - alpha) + b * alpha;
    b = 0;
  }
  if (steps > kBuckets) t->usual *= std::pow(1 - alpha, static_cast<double>(steps - kBuckets));
  t->newest = index;
}

uint64_t FloodDetector::NewContent(Track* t, ContentId content, int64_t generation) const {
  if (generation > t->generation) {
    if (generation == t->generation + 1) {
      t->previous = std::move(t->current);
    } else {
      t->previous = Sample();
    }
    t->current = Sample();
    t->generation = generation;
  }
  if (t->previous.Contains(content)) {
    // Seen last window and back again: carried forward, not counted.
    t->current.Add(content, sample_ids_);
    return 0;
  }
  return t->current.Add(content, sample_ids_);
}

uint64_t FloodDetector::InWindow(const Track& t) {
  uint64_t n = 0;
  for (uint32_t b : t.buckets) n += b;
  return n;
}

FloodDetector::Track* FloodDetector::Find(const std::string& key, int64_t index) {
  auto it = tracks_.find(key);
  if (it != tracks_.end()) return &it->second;
  if (tracks_.size() >= options_.max_tracked && last_prune_ != index) {
    last_prune_ = index;
    std::erase_if(tracks_, [&](const auto& kv) { return index - kv.second.newest >= kBuckets; });
  }
  if (tracks_.size() >= options_.max_tracked) return nullptr;
  Track& t = tracks_[key];
  t.newest = index;
  t.generation = index / kBuckets;
  return &t;
}

FloodDetector::Observation FloodDetector::Observe(uint64_t list_id, base::SignalType type, std::string_view hash,
                                                  ContentId content, int64_t now_ms) {
  Observation o;
  if (!options_.enabled) return o;
  const int64_t index = now_ms / BucketMs();
  std::lock_guard<std::mutex> lock(mu_);
  Track* t = Find(Key(list_id, type, hash), index);
  if (!t) {
    ++untracked_;
    return o;
  }
  Advance(t, index);
  const uint64_t weight = NewContent(t, content, index / kBuckets);
  uint32_t& b = t->buckets[static_cast<size_t>(index % kBuckets)];
  b = static_cast<uint32_t>(std::min<uint64_t>(UINT32_MAX, b + weight));
  o.in_window = InWindow(*t);
  o.usual = t->usual * kBuckets;
  // Only a new content can make a flood: a repeat never trips it.
  o.flood = weight > 0 && o.in_window >= static_cast<uint64_t>(options_.min_hits) &&
            static_cast<double>(o.in_window) > options_.factor * o.usual;
  return o;
}

size_t FloodDetector::tracked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tracks_.size();
}

uint64_t FloodDetector::untracked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return untracked_;
}

}  // namespace server
