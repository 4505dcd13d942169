// FetchListing: the shared half of the `hashscreen X list [--json]`
// commands (keys, exchanges): the one option they take, the GET of the
// collection, and its answer parsed. Each command then prints its own table,
// or the answer as it came with --json.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/api_client.h"

namespace client {

struct Listing {
  bool as_json = false;  // --json was given
  nlohmann::json page;   // the server's answer
};

// Errors (the caller prints the message and exits 1): InvalidArgument for
// an argument other than --json, naming it; the transport's Status; for an
// HTTP error answer, Unavailable carrying the server's message (the code
// adds nothing: callers only print it); Corruption for an answer that is
// not JSON.
Status FetchListing(ApiClient& api, const std::vector<std::string>& args, const std::string& path, Listing* out);

}  // namespace client
