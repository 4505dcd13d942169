// AuditIndex: the keys of the `audit_index` column family, by which every
// filter of an audit query (store/audit_log.h, AuditQuery) is answered
// without walking the log.
//
// Each index key is  tag | filter values | time_ms(8) | seq(8)  with an empty
// value, so one filter's entries lie together in (time, seq) order: a time
// window is a seek, either order is a forward or backward walk, and the seq
// at the end of a key is the cursor. Strings are length-prefixed (u32), so a
// value's prefix never runs into another's. The time is the entry's time in
// this log (for a forwarded entry, when the primary stored it); times never
// decrease with seq in a log written since the index exists (AuditLog keeps
// them monotone), so (time, seq) order is seq order.
//
// Keys per entry (the effective entry: a forwarded entry's origin, with its
// instance): all; verdict; per distinct list hit: list, list+verdict; per
// distinct partner: partner, partner+verdict; instance, instance+verdict;
// per list and partner hit: list+partner; per list: list+instance; per
// partner: partner+instance.
// A screen with a current disposition (a review's, or `unreviewed` for a
// match never reviewed) also has disposition, list+disposition,
// partner+disposition and instance+disposition keys; a review rewrites them
// (index keys are not in the hash chain). The current disposition itself is
// kept under `c | seq` -> review seq(8) + disposition.
//
// A query uses the most selective index for its filters (disposition, then
// a pair of list, partner, instance, then one of them, verdict; a second
// filter joins the first where a combined key exists) and checks the
// remaining filters on each entry read.
//
// Pure functions over bytes: thread-safe, no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace store {

struct AuditEntry;

namespace audit_index {

// The marker written once the index holds every entry of the log; its value
// is the index version. An index of another version is rebuilt at open
// (version 2 added the list+partner, list+instance and partner+instance keys).
inline constexpr std::string_view kCompleteKey = std::string_view("\0complete", 9);
inline constexpr std::string_view kIndexVersion = "2";

// What a query filters on, as the index sees it ("" / nullopt = any).
struct Filter {
  std::string verdict;      // match|no_match|error|review|event|batch
  std::optional<uint64_t> list_id;
  std::string partner;
  std::string disposition;  // unreviewed|confirmed|false_positive|escalated|reported
  std::string instance;     // 32-hex instance id
};

// The verdict class of an effective entry: its verdict for a screen, else its kind's name.
std::string VerdictClass(const AuditEntry& effective);

// The keys an entry has for life. `entry` is as stored (forwarded or not);
// `own_instance` names the log's own instance.
std::vector<std::string> EntryKeys(const AuditEntry& entry, const std::string& own_instance);
// The keys that place `entry` (a screen) under `disposition`; none for "".
std::vector<std::string> DispositionKeys(const AuditEntry& entry, const std::string& own_instance,
                                         const std::string& disposition);
// The disposition a screen has before any review: `unreviewed` for a match, else "".
std::string InitialDisposition(const AuditEntry& entry);

// The prefix of the index that answers `f` (everything up to the time).
std::string IndexPrefix(const Filter& f);
// prefix | time | seq.
std::string PositionKey(const std::string& prefix, int64_t time_ms, uint64_t seq);
// Reads the time and seq at the end of an index key.
bool DecodePosition(std::string_view key, int64_t* time_ms, uint64_t* seq);

// The current-disposition record of screen `seq`.
std::string CurrentKey(uint64_t seq);
std::string EncodeCurrent(uint64_t review_seq, const std::string& disposition);
bool DecodeCurrent(std::string_view value, uint64_t* review_seq, std::string* disposition);

}  // namespace audit_index
}  // namespace store
