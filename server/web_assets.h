// WebAssets: the review console's files (web/), compiled into the binary by
// server/CMakeLists.txt (generated/web_assets.cc), so a deployed hashscreend
// serves its console without an asset path and nothing can be swapped on
// disk. Only .html, .css, .js and .svg files are embedded (others fail the
// configure step).
//
// Thread-safety: immutable static data.
#pragma once

#include <string_view>
#include <vector>

namespace server {

struct WebAsset {
  const char* path;          // the URL path, "/ui/NAME"
  const char* content_type;  // with charset for text
  std::string_view bytes;
};

// Every embedded file, in name order.
const std::vector<WebAsset>& WebAssets();
// The asset served at `path`, or nullptr. "/ui/" is index.html.
const WebAsset* FindWebAsset(std::string_view path);

}  // namespace server
