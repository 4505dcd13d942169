// FloodDetector: notices a block-list signal that suddenly matches far more
// DIFFERENT contents than its own history (the hash of a meme, a logo, a
// blank image on a partner's list), so the screener can quarantine it
// (store/signal_holds.h) before it floods reviewers and blocks ordinary
// uploads.
//
// What is counted is distinct contents, not matches: an ingest caller who
// holds one listed file and uploads it again and again must not be able to
// trip the quarantine and so switch the signal off (docs/exchanges.md "Flood
// quarantine"). The caller names each match's content (the upload's SHA-256,
// or the queried hash of a hash query); a content counts at most once per
// signal while it keeps being re-sent at least once a window. Contents are
// remembered per signal as 32-bit ids keyed with a per-process random key
// (so they cannot be chosen to collide or to pass the sampling below), in an
// adaptive distinct sample (Gibbons' distinct sampling) of at most
// SampleIds() ids for the current window and as many for the previous one.
// SampleIds() is min_hits clamped to kMinSampleIds..kMaxSampleIds, so up to
// the floor a signal's contents are counted exactly; beyond it only ids
// whose low `level` bits are zero are kept and each new one counts 2^level,
// an unbiased estimate (relative error about 1/sqrt(SampleIds())). A content
// that is not kept is never counted, however often it comes back, so
// repeats never add up.
//
// Each signal that matched is tracked with its distinct contents in the last
// window (kBuckets sub-buckets of window_ms / kBuckets, so the window
// slides) and its usual rate: an exponentially weighted mean of its counts
// per sub-bucket over about history_windows windows, fed by each sub-bucket
// as it leaves the window. A new content makes the signal a flood when the
// window holds at least min_hits and more than factor x its usual count per
// window. A signal with no history (new, or tracked only since this process
// started) is judged by min_hits alone, which is why the floor is high.
//
// Memory is bounded: only signals that matched are tracked, at most
// max_tracked; a track's ids grow only with distinct matching contents (at
// most two 4-byte ids per content matched in the last two windows) and
// never past 2 x SampleIds(). When the table is full,
// signals idle for a whole window are dropped (at most once per sub-bucket);
// if it is still full, new signals are not tracked (untracked() counts their
// hits).
//
// Thread-safety: every method may be called from any number of threads.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/signal.h"
#include "base/status.h"

namespace server {

class FloodDetector {
 public:
  static constexpr int kBuckets = 12;
  static constexpr size_t kMinSampleIds = 64;
  static constexpr size_t kMaxSampleIds = 1024;
  struct Options {
    bool enabled = true;
    int64_t window_ms = 3600'000;
    int64_t min_hits = 500;  // distinct contents
    double factor = 20;
    int64_t history_windows = 24;
    size_t max_tracked = 100'000;
    // Names of lists whose signals are never quarantined (entries verified
    // by experts, e.g. NCMEC's); a name matches that list of every owner.
    std::vector<std::string> exempt_lists;
  };
  // The [quarantine] exempt_lists setting: list names separated by commas
  // (spaces around a name are ignored). InvalidArgument naming the setting
  // for an empty name or one longer than 256 bytes.
  static base::Status ParseExemptLists(std::string_view text, std::vector<std::string>* out);
  struct Observation {
    bool flood = false;      // quarantine the signal now
    uint64_t in_window = 0;  // its distinct contents in the window (estimated beyond kSampleIds)
    double usual = 0;        // its usual distinct contents per window
  };
  // A content as the detector remembers it (ContentId).
  using ContentId = uint32_t;

  explicit FloodDetector(const Options& options);
  FloodDetector(const FloodDetector&) = delete;
  FloodDetector& operator=(const FloodDetector&) = delete;

  // The id of a content (any bytes naming it: a SHA-256, a queried hash),
  // keyed with this process's random key.
  ContentId Content(std::string_view content) const;

  // Counts a match of `content` on the signal at monotonic time now_ms; a
  // content the signal has seen within the last window or two counts
  // nothing. `flood` is set when this content makes it a flood: the caller
  // holds the signal, so it stops matching.
  Observation Observe(uint64_t list_id, base::SignalType type, std::string_view hash, ContentId content,
                      int64_t now_ms);

  const Options& options() const { return options_; }
  size_t SampleIds() const { return sample_ids_; }
  bool ListExempt(std::string_view list_name) const;
  size_t tracked() const;
  uint64_t untracked() const;

 private:
  // Adaptive distinct sample of one window's content ids.
  struct Sample {
    std::vector<ContentId> ids;
    uint8_t level = 0;  // ids kept: those whose low `level` bits are 0
    bool Keeps(ContentId id) const;
    bool Contains(ContentId id) const;
    // Adds a kept id not yet present, keeping at most `most` ids; returns
    // its weight (2^level), or 0.
    uint64_t Add(ContentId id, size_t most);
  };
  struct Track {
    std::array<uint32_t, kBuckets> buckets{};
    int64_t newest = 0;       // absolute sub-bucket index of the newest bucket
    double usual = 0;         // distinct contents per sub-bucket
    int64_t generation = 0;   // absolute window index of `current`
    Sample current, previous;
  };
  int64_t BucketMs() const;
  void Advance(Track* t, int64_t index) const;
  // The weight `content` adds to the signal's count (0 for a content seen
  // in this or the previous window, or not kept by the sample).
  uint64_t NewContent(Track* t, ContentId content, int64_t generation) const;
  static uint64_t InWindow(const Track& t);
  static std::string Key(uint64_t list_id, base::SignalType type, std::string_view hash);
  // Caller holds mu_. The track of `key`, created if room; null when full.
  Track* Find(const std::string& key, int64_t index);

  const Options options_;
  const size_t sample_ids_;
  std::string content_key_;  // random, per process
  mutable std::mutex mu_;
  std::unordered_map<std::string, Track> tracks_;  // guarded by mu_
  int64_t last_prune_ = -1;                        // guarded by mu_
  uint64_t untracked_ = 0;                         // guarded by mu_
};

}  // namespace server
