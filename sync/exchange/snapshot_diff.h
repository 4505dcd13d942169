// DiffSnapshot: what turns a list into a full snapshot of it (the url and
// file kinds fetch whole lists). Entries are keyed by (type, hash): a
// snapshot entry the list lacks is an add, a list entry the snapshot lacks
// is a remove (a withdrawal). A hash listed twice in the snapshot is added
// once (its first reference); an entry present in both keeps the reference
// it has (a reference is the partner's id of the hash, not its identity).
//
// Thread-safety: touches only its arguments.
#pragma once

#include <vector>

#include "base/signal.h"

namespace hsync {

void DiffSnapshot(const std::vector<base::SignalEntry>& current, const std::vector<base::SignalEntry>& snapshot,
                  std::vector<base::SignalEntry>* add, std::vector<base::SignalEntry>* remove);

}  // namespace hsync
