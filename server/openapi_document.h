// The OpenAPI 3.1 description of the API: docs/openapi.json, compiled in
// when CMake configures the tree (server/CMakeLists.txt re-runs the
// configure step whenever the file changes), so the served document is the
// repository's and the two cannot drift. Served at GET /v1/openapi.json.
//
// Thread-safety: a constant; any thread.
#pragma once

#include <string_view>

namespace server {

std::string_view OpenApiDocument();

}  // namespace server
