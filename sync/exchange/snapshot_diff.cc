#include "sync/exchange/snapshot_diff.h"

#include <string>
#include <unordered_set>

namespace hsync {

namespace {
std::string Key(const base::SignalEntry& e) {
  std::string k(1, static_cast<char>(e.type));
  k += e.hash;
  return k;
}
}  // namespace

void DiffSnapshot(const std::vector<base::SignalEntry>& current, const std::vector<base::SignalEntry>& snapshot,
                  std::vector<base::SignalEntry>* add, std::vector<base::SignalEntry>* remove) {
  add->clear();
  remove->clear();
  std::unordered_set<std::string> have, want;
  have.reserve(current.size());
  want.reserve(snapshot.size());
  for (const auto& e : current) have.insert(Key(e));
  for (const auto& e : snapshot) {
    std::string k = Key(e);
    if (!want.insert(k).second) continue;
    if (!have.count(k)) add->push_back(e);
  }
  for (const auto& e : current) {
    if (!want.count(Key(e))) remove->push_back(e);
  }
}

}  // namespace hsync
