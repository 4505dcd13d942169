// sync/feed_codec.h: round trip, and every truncation, corruption and lying
// count of a real page is refused with InvalidArgument (never a crash, a
// hang or an allocation the bytes do not justify).
#include <doctest/doctest.h>

#include <random>

#include "sync/feed_client.h"
#include "sync/feed_codec.h"

using base::SignalType;
using base::Status;
using store::FeedKind;
using store::FeedPage;

namespace {

FeedPage SamplePage() {
  FeedPage p;
  store::FeedItem put;
  put.record.seq = 7;
  put.record.kind = FeedKind::kListPut;
  put.record.time_ms = 1000;
  put.record.list_id = 3;
  put.record.list.id = 3;
  put.record.list.name = "known";
  put.record.list.owner = "acme";
  put.record.list.pdq_threshold = 17;
  put.record.list.enabled = false;
  put.record.list.created_ms = 999;
  p.items.push_back(put);
  store::FeedItem batch;
  batch.record.seq = 8;
  batch.record.kind = FeedKind::kBatch;
  batch.record.time_ms = 2000;
  batch.record.list_id = 3;
  batch.record.first_change = 1;
  batch.record.last_change = 10;
  std::mt19937_64 rng(1);
  for (uint64_t s = 1; s <= 4; ++s) {
    store::Change c;
    c.seq = s;
    c.add = s != 3;
    c.type = s == 2 ? SignalType::kMd5 : SignalType::kPdq;
    c.hash.resize(base::SignalHashBytes(c.type));
    for (auto& ch : c.hash) ch = static_cast<char>(rng());
    c.ref = s == 1 ? "" : "ref-" + std::to_string(s);
    c.time_ms = s == 4 ? 1234 : 2000;  // one change with its own time (a backfilled history)
    if (s == 4) c.meta = store::SignalMeta{{"A1", std::string(store::kMaxSignalTagBytes, 't')}, 1700000000123};
    batch.changes.push_back(c);
  }
  p.items.push_back(batch);
  p.next = {8, 4};
  p.head = {9, 0};
  p.head_time_ms = 3000;
  p.entries = 5;
  return p;
}

}  // namespace

TEST_CASE("feed codec: a page round-trips") {
  const FeedPage p = SamplePage();
  std::string bytes;
  hsync::EncodeFeedPage(p, "instance-1", &bytes);
  FeedPage q;
  std::string id;
  REQUIRE(hsync::DecodeFeedPage(bytes, &q, &id).ok());
  CHECK(id == "instance-1");
  CHECK(q.next == p.next);
  CHECK(q.head == p.head);
  CHECK(q.head_time_ms == 3000);
  CHECK(q.entries == 5);
  REQUIRE(q.items.size() == 2);
  CHECK(q.items[0].record.list.name == "known");
  CHECK(q.items[0].record.list.owner == "acme");
  CHECK(q.items[0].record.list.pdq_threshold == 17);
  CHECK_FALSE(q.items[0].record.list.enabled);
  CHECK(q.items[0].record.list.created_ms == 999);
  REQUIRE(q.items[1].changes.size() == 4);
  for (size_t i = 0; i < 4; ++i) {
    const auto &a = p.items[1].changes[i], &b = q.items[1].changes[i];
    CHECK(a.seq == b.seq);
    CHECK(a.add == b.add);
    CHECK(a.type == b.type);
    CHECK(a.hash == b.hash);
    CHECK(a.ref == b.ref);
    CHECK(a.time_ms == b.time_ms);
    CHECK(a.meta.tags == b.meta.tags);
    CHECK(a.meta.first_seen_ms == b.meta.first_seen_ms);
  }
  CHECK(q.items[1].changes[3].meta.tags.size() == 2);
  CHECK_FALSE(q.items[1].completes());
}

TEST_CASE("feed codec: every truncation and every flipped byte is handled") {
  std::string bytes;
  hsync::EncodeFeedPage(SamplePage(), "instance-1", &bytes);
  FeedPage q;
  std::string id;
  for (size_t n = 0; n < bytes.size(); ++n) {
    CAPTURE(n);
    CHECK(hsync::DecodeFeedPage(std::string_view(bytes).substr(0, n), &q, &id).code() ==
          Status::Code::kInvalidArgument);
  }
  CHECK(hsync::DecodeFeedPage(bytes + "x", &q, &id).code() == Status::Code::kInvalidArgument);
  // Flipped bytes either decode to something well-formed or are refused.
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t x : {0x01, 0x80, 0xff}) {
      std::string b = bytes;
      b[i] = static_cast<char>(b[i] ^ x);
      Status s = hsync::DecodeFeedPage(b, &q, &id);
      CHECK((s.ok() || s.code() == Status::Code::kInvalidArgument));
    }
  }
}

TEST_CASE("feed codec: counts the bytes cannot hold are refused before allocating") {
  std::string bytes;
  hsync::EncodeFeedPage(SamplePage(), "i", &bytes);
  FeedPage q;
  std::string id;
  // The item count sits after magic(4) + 4 x u64 + u16 + "i".
  std::string b = bytes;
  const size_t items_at = 4 + 32 + 2 + 1;
  b[items_at] = b[items_at + 1] = b[items_at + 2] = b[items_at + 3] = static_cast<char>(0xff);
  CHECK(hsync::DecodeFeedPage(b, &q, &id).code() == Status::Code::kInvalidArgument);
  // A batch claiming 2^32-1 changes.
  store::FeedPage one;
  store::FeedItem item = SamplePage().items[1];
  item.changes.resize(1);
  one.items.push_back(item);
  one.next = {8, 1};
  hsync::EncodeFeedPage(one, "i", &b);
  // The change count is the u32 right before the single change (op 1, type pdq).
  const size_t count_at = b.size() - (1 + 1 + 32 + 2 + item.changes[0].ref.size()) - 4;
  for (int k = 0; k < 4; ++k) b[count_at + k] = static_cast<char>(0xff);
  CHECK(hsync::DecodeFeedPage(b, &q, &id).code() == Status::Code::kInvalidArgument);
}

TEST_CASE("feed codec: a batch whose changes start after its record's last change is refused") {
  // The first change's seq is the u64 before the change count; put it past
  // last_change (an unsigned subtraction that wraps would let it through).
  store::FeedPage one;
  store::FeedItem item = SamplePage().items[1];
  item.changes.resize(1);
  one.items.push_back(item);
  one.next = {8, 1};
  std::string b;
  hsync::EncodeFeedPage(one, "i", &b);
  const size_t count_at = b.size() - (1 + 1 + 32 + 2 + item.changes[0].ref.size()) - 4;
  const size_t from_at = count_at - 8;
  for (uint64_t from : {item.record.last_change + 1, item.record.last_change + 1000, ~uint64_t{0}}) {
    CAPTURE(from);
    for (int k = 0; k < 8; ++k) b[from_at + k] = static_cast<char>(from >> (56 - 8 * k));
    FeedPage q;
    std::string id;
    CHECK(hsync::DecodeFeedPage(b, &q, &id).code() == Status::Code::kInvalidArgument);
  }
}

TEST_CASE("feed codec: primary URLs") {
  CHECK(hsync::CheckPrimaryUrl("https://primary.example:8443").ok());
  CHECK(hsync::CheckPrimaryUrl("https://primary.example/").ok());
  CHECK(hsync::CheckPrimaryUrl("http://127.0.0.1:8443").ok());
  CHECK(hsync::CheckPrimaryUrl("http://[::1]:8443").ok());
  CHECK(hsync::CheckPrimaryUrl("http://localhost:8443").ok());
  for (const char* bad : {"http://10.0.0.5:8443", "http://primary.example", "ftp://x", "primary:8443", "https://",
                          "https://user:pw@host", "https://host/path", "https://host?x=1", "http://[::1"}) {
    CAPTURE(bad);
    CHECK(hsync::CheckPrimaryUrl(bad).code() == Status::Code::kInvalidArgument);
  }
}
