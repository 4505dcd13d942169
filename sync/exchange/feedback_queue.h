// FeedbackQueue: reviewers' verdicts on matches that came from an exchange's
// list, kept durably (the meta family) until the partner has them. One item
// per (review, hit of the reviewed screen whose list an exchange of a
// feedback kind feeds): ncmec, stopncii, threatexchange. url and file
// exchanges have nobody to tell; tcap's feedback call is not known.
//
// Verdicts: confirmed and reported are positive (a true positive),
// false_positive negative; escalated sends nothing (no decision yet: the
// later review that settles it is queued then). Every review is its own
// item, so a changed mind reaches the partner as a second vote.
//
// Nothing is lost: Enqueue writes a review's items in ONE synced write just
// after the review; a crash between the review's own write and that one is
// covered by Recover, which the server runs at start before serving: it
// re-derives the items of every review newer than the stored watermark
// (the review's audit seq and hit index name an item, so an item already
// queued is left as it is) and then moves the watermark to the log's end.
// The first start with feedback only sets the watermark: reviews made
// before feedback existed (an upgrade) are not replayed to the partners.
//
// Keys (meta family): exchange_feedback/t/TARGET/REVIEW/HIT -> the item
// (JSON); exchange_feedback/p/EXCHANGE/REVIEW/HIT and .../f/... index the
// pending and failed items; exchange_feedback/w the watermark. Numbers are
// zero-padded decimals so keys sort by them.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "store/audit_log.h"
#include "store/database.h"
#include "sync/exchange/exchange_config.h"

namespace hsync {

enum class FeedbackState { kPending, kDelivered, kFailed };
const char* FeedbackStateName(FeedbackState s);  // "pending", "delivered", "failed"

struct FeedbackItem {
  std::string exchange;
  uint64_t target_seq = 0;  // the screen entry reviewed
  uint64_t review_seq = 0;  // the review: with `hit`, the item's identity
  uint32_t hit = 0;         // index of the hit in the screen entry
  uint64_t list_id = 0;
  std::string signal, hash_hex;  // the list's hash that was hit ("pdq", "md5", "sha256")
  std::string partner_ref;       // the entry's id at the partner (the signal's ref)
  // ThreatExchange: the descriptor ids to react on (from the hit's tags,
  // sync/exchange/partner_update.h); empty for the other kinds.
  std::vector<std::string> descriptors;
  std::string disposition;       // the review's
  bool positive = true;          // the partner verdict: true positive / false positive
  int64_t created_ms = 0;
  int64_t attempts = 0;
  int64_t next_attempt_ms = 0;
  int64_t delivered_ms = 0;  // 0 = not delivered
  FeedbackState state = FeedbackState::kPending;
  std::string last_error;
};

// The verdict a disposition sends; false for one that sends nothing (escalated).
bool FeedbackVerdict(const std::string& disposition, bool* positive);

class FeedbackQueue {
 public:
  // `exchanges`: the names of the configured exchanges that take feedback.
  FeedbackQueue(store::Database* db, std::vector<std::string> exchanges);
  FeedbackQueue(const FeedbackQueue&) = delete;
  FeedbackQueue& operator=(const FeedbackQueue&) = delete;

  // Queues the items of `review` (a review entry) about `target` (its screen
  // entry) in one synced write; items already queued stay as they are.
  // *queued: how many were new.
  Status Enqueue(const store::AuditEntry& review, const store::AuditEntry& target, size_t* queued);
  // Queues what reviews newer than the watermark should have queued, then
  // moves the watermark to the end of the log (see above; the first call
  // only sets it). Run before serving.
  Status Recover(const store::AuditLog& audit, size_t* queued);
  // The pending items due at now_ms (at most `limit`), and when the next
  // pending one not due yet is (INT64_MAX: none).
  Status Due(int64_t now_ms, size_t limit, std::vector<FeedbackItem>* out, int64_t* next_due_ms) const;
  // Stores `item` (a delivery's outcome) with its indexes, atomically.
  Status Update(const FeedbackItem& item);
  // Pending and failed items of `exchange` now.
  Status Counts(const std::string& exchange, uint64_t* pending, uint64_t* failed) const;
  // The items about screen entry `target_seq`, in review order (any database:
  // the audit route reads them with or without configured exchanges).
  static Status OfTarget(const store::Database& db, uint64_t target_seq, std::vector<FeedbackItem>* out);

 private:
  Status Put(const FeedbackItem& item, const FeedbackItem* before, rocksdb::WriteBatch* batch) const;

  store::Database* db_;
  std::vector<std::string> exchanges_;
  mutable std::mutex mu_;  // an item's read-modify-write
};

}  // namespace hsync
