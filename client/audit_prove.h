// hashscreen audit prove: shows that one item of a hash batch was screened
// and audited as no-match, by its leaf's inclusion in the Merkle root that
// the batch's audit entry (kind "batch") holds (base/merkle.h).
//
// The server keeps only the root and the count; the leaves come from the
// side file a scan wrote (FILE.merkle.jsonl, client/scan_output.h). The
// proof checks the side file's leaves against the server's root, then the
// item's own leaf, recomputed here from the image (--image) or from its
// hashes as given, against them.
#pragma once

#include <string>
#include <vector>

#include "client/api_client.h"

namespace client {

// `args` follow "audit prove". Exit 0 proven, 1 not proven (or failed), 2 usage.
int AuditProve(ApiClient& api, const std::vector<std::string>& args);

}  // namespace client
