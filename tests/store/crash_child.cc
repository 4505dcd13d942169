// Child process of crash_test.cc: imports a file of PDQ hashes (one per line)
// into the list "crash" of the database in DIR, creating the list if needed,
// so the parent can SIGKILL it at any point and check what survived.
// Usage: store_crash_child DIR FILE BATCH_SIZE [ingest]
// With "ingest", every batch is committed by SST ingestion instead of a
// WriteBatch (HashLists::Options::ingest_from_changes = 1).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "store/database.h"
#include "store/hash_lists.h"
#include "store/list_import.h"

int main(int argc, char** argv) {
  if (argc != 4 && !(argc == 5 && std::string(argv[4]) == "ingest")) {
    std::fprintf(stderr, "usage: %s DIR FILE BATCH_SIZE [ingest]\n", argv[0]);
    return 2;
  }
  store::HashLists::Options options;
  if (argc == 5) options.ingest_from_changes = 1;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::HashLists> lists;
  auto fail = [](const base::Status& s) {
    std::fprintf(stderr, "crash child: %s\n", s.ToString().c_str());
    return 1;
  };
  base::Status s = store::Database::Open(argv[1], {}, &db);
  if (!s.ok()) return fail(s);
  s = store::HashLists::Open(db.get(), options, &lists);
  if (!s.ok()) return fail(s);
  uint64_t id = 0;
  for (const auto& l : lists->Lists()) {
    if (l.name == "crash") id = l.id;
  }
  if (id == 0) {
    store::ListInfo info;
    s = lists->CreateList({"crash", "test", base::ListKind::kBlock, 31}, &info);
    if (!s.ok()) return fail(s);
    id = info.id;
  }
  store::ImportOptions import;
  import.codec.format = codec::ListFormat::kPlain;
  import.codec.type = base::SignalType::kPdq;
  import.batch_size = std::strtoul(argv[3], nullptr, 10);
  store::ImportResult result;
  s = store::ImportFile(lists.get(), id, argv[2], import, nullptr, &result);
  if (!s.ok()) return fail(s);
  return 0;
}
