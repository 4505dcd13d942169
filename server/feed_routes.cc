// GET /v1/feed: the primary's feed for followers (store/feed.h, docs/api.md).
//   after=CURSOR  (default 0: from the start), opaque "R" or "R.C"
//   limit=N       entries per page (list records + changes): JSON 1..10,000
//                 (default 1,000), binary 1..1,000,000 (default 100,000)
//   max_bytes=B   approximate page bytes, 1 KiB..64 MiB (default 4 MiB)
//   wait_s=S      0..60: with nothing after the cursor, wait up to S seconds
//                 for a commit (answered within milliseconds of it)
// `Accept: application/x-hashscreen-feed` gets the binary encoding
// (sync/feed_codec.h); anything else JSON.
#include <chrono>

#include "base/hex.h"
#include "base/number_parse.h"
#include "server/routes.h"
#include "store/feed.h"
#include "sync/feed_codec.h"

namespace server {

namespace {

std::string Hex(const std::string& raw) {
  return base::HexEncode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));
}

json PageJson(const store::FeedPage& page, const std::string& instance) {
  json items = json::array();
  for (const auto& item : page.items) {
    const store::FeedRecord& r = item.record;
    if (r.kind == store::FeedKind::kListPut) {
      items.push_back({{"record", r.seq}, {"kind", "list_put"}, {"time_ms", r.time_ms}, {"list", ListJson(r.list)}});
      continue;
    }
    json changes = json::array();
    for (const auto& c : item.changes) {
      json change = {{"seq", c.seq},
                     {"op", c.add ? "add" : "remove"},
                     {"type", base::SignalTypeName(c.type)},
                     {"hash", Hex(c.hash)},
                     {"ref", c.ref},
                     {"time_ms", c.time_ms}};
      if (!c.meta.empty()) {
        change["tags"] = c.meta.tags;
        change["first_seen_ms"] = c.meta.first_seen_ms;
      }
      changes.push_back(std::move(change));
    }
    items.push_back({{"record", r.seq},
                     {"kind", "batch"},
                     {"time_ms", r.time_ms},
                     {"list_id", r.list_id},
                     {"first_change", r.first_change},
                     {"last_change", r.last_change},
                     {"changes", std::move(changes)}});
  }
  return json{{"items", std::move(items)},
              {"next", store::FormatFeedCursor(page.next)},
              {"head", store::FormatFeedCursor(page.head)},
              {"head_time_ms", page.head_time_ms},
              {"instance", instance}};
}

}  // namespace

void HandleFeed(Service& service, const ApiRequest& request, ApiResponse* response) {
  const bool binary = request.accept.find(hsync::kFeedMediaType) != std::string::npos;
  store::FeedCursor after;
  uint64_t limit = binary ? 100'000 : 1'000, max_bytes = 4 << 20, wait_s = 0;
  const uint64_t max_limit = binary ? 1'000'000 : 10'000;
  Status s;
  if (request.HasParam("after")) s = store::ParseFeedCursor(request.Param("after"), "after", &after);
  if (s.ok() && request.HasParam("limit")) s = base::ParseUint(request.Param("limit"), "limit", 1, max_limit, &limit);
  if (s.ok() && request.HasParam("max_bytes")) {
    s = base::ParseUint(request.Param("max_bytes"), "max_bytes", 1024, 64 << 20, &max_bytes);
  }
  if (s.ok() && request.HasParam("wait_s")) s = base::ParseUint(request.Param("wait_s"), "wait_s", 0, 60, &wait_s);
  store::FeedPage page;
  if (s.ok()) s = service.lists()->ReadFeed(after, limit, max_bytes, &page);
  if (s.ok() && page.items.empty() && wait_s > 0 && !service.draining()) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
    if (service.lists()->WaitForFeed(after, deadline)) s = service.lists()->ReadFeed(after, limit, max_bytes, &page);
  }
  if (!s.ok()) return response->FromStatus(s);
  if (!binary) return response->Json(200, PageJson(page, service.db()->instance_id()));
  response->status = 200;
  response->content_type = hsync::kFeedMediaType;
  hsync::EncodeFeedPage(page, service.db()->instance_id(), &response->body);
}

}  // namespace server
