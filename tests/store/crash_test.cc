#include <doctest/doctest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "base/hex.h"
#include "store/hash_lists.h"
#include "store/key_encoding.h"
#include "tests/index/pdq_test_data.h"
#include "tests/test_support.h"

extern char** environ;

namespace {

constexpr size_t kLines = 20000;
constexpr size_t kBatch = 250;
constexpr size_t kLineBytes = 65;  // 64 hex digits and a newline

// Checks the invariant after a crash: the set of signals is exactly the union
// of the batches recorded in `batches`, and the list record and change feed
// agree with it. Returns the number of batches applied.
size_t CheckConsistent(const std::string& dir, const std::unordered_map<std::string, size_t>& line_of) {
  std::unique_ptr<store::Database> db;
  REQUIRE(store::Database::Open(dir, {}, &db).ok());
  std::unique_ptr<store::HashLists> lists;
  REQUIRE(store::HashLists::Open(db.get(), &lists).ok());
  auto all = lists->Lists();
  if (all.empty()) return 0;
  REQUIRE(all.size() == 1);
  const store::ListInfo& info = all[0];

  std::set<size_t> batches;  // first line of each applied batch
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db->db()->NewIterator(rocksdb::ReadOptions(), db->family(store::Database::kBatches)));
    for (it->Seek(store::keys::ListPrefix(info.id)); it->Valid(); it->Next()) {
      std::string id = it->key().ToString().substr(8);
      size_t offset = std::stoull(id.substr(id.rfind(':') + 1));
      REQUIRE(offset % (kBatch * kLineBytes) == 0);
      batches.insert(offset / kLineBytes);
    }
  }
  size_t expected = 0;
  for (size_t first : batches) expected += std::min(kBatch, kLines - first);

  size_t present = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db->db()->NewIterator(rocksdb::ReadOptions(), db->family(store::Database::kSignals)));
    for (it->Seek(store::keys::ListPrefix(info.id)); it->Valid(); it->Next()) {
      auto line = line_of.find(it->key().ToString().substr(9));
      REQUIRE(line != line_of.end());
      CHECK_MESSAGE(batches.count(line->second / kBatch * kBatch), "signal of line " << line->second
                                                                                      << " without its batch record");
      ++present;
    }
  }
  CHECK(present == expected);
  CHECK(info.signal_count == expected);
  CHECK(info.last_seq == expected);
  std::vector<store::Change> changes;
  uint64_t next;
  REQUIRE(lists->Changes(info.id, 0, kLines + 1, &changes, &next).ok());
  CHECK(changes.size() == expected);
  CHECK(next == expected);
  CHECK(lists->IndexedPdqHashes() == expected);
  // Open cleared the staging files of an ingestion the kill interrupted.
  CHECK(std::filesystem::is_empty(dir + "/ingest-staging"));
  return batches.size();
}

}  // namespace

TEST_CASE("a child killed with SIGKILL mid-import leaves every batch fully present or absent, both commit paths") {
  testing_support::TempDir tmp;
  const std::string file = (tmp.path() / "hashes.txt").string();
  std::unordered_map<std::string, size_t> line_of;
  {
    std::mt19937_64 rng(11);
    std::ofstream out(file);
    for (size_t i = 0; i < kLines; ++i) {
      base::PdqHash h = store_test::RandomPdq(rng);
      out << h.ToHex() << "\n";
      line_of[std::string(reinterpret_cast<const char*>(h.bytes.data()), 32)] = i;
    }
  }
  std::mt19937_64 rng(std::random_device{}());
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::seconds(6);
  // On a loaded machine the child may need longer to get going: keep going
  // (up to a hard limit) until a kill landed mid-import on each path.
  const auto hard_deadline = start + std::chrono::seconds(45);
  // Path 0 commits batches as WriteBatches, path 1 by ingesting SST files;
  // rounds alternate between them, each path with its own database.
  struct Path {
    std::string name;
    int rounds = 0, completed = 0, killed_mid_import = 0, run = 0;
    // Kill delays are drawn from [0, window); the window adapts so that kills
    // land before, during and after the import on fast and slow machines alike.
    double window_ms = 300;
    std::string dir;
  };
  Path paths[2];
  paths[0].name = "writebatch";
  paths[1].name = "ingest";
  for (Path& path : paths) path.dir = (tmp.path() / (path.name + "0")).string();
  auto mid_import_on_both = [&] { return paths[0].killed_mid_import > 0 && paths[1].killed_mid_import > 0; };
  for (int round = 0; std::chrono::steady_clock::now() < deadline ||
                      (!mid_import_on_both() && std::chrono::steady_clock::now() < hard_deadline);
       ++round) {
    Path& path = paths[round % 2];
    const std::string batch = std::to_string(kBatch);
    const char* argv[] = {STORE_CRASH_CHILD, path.dir.c_str(), file.c_str(), batch.c_str(),
                          round % 2 ? "ingest" : nullptr, nullptr};
    pid_t pid;
    REQUIRE(posix_spawn(&pid, STORE_CRASH_CHILD, nullptr, nullptr, const_cast<char**>(argv), environ) == 0);
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % static_cast<uint64_t>(path.window_ms * 1000 + 1)));
    kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    const bool finished = WIFEXITED(status);
    if (finished) REQUIRE(WEXITSTATUS(status) == 0);
    CAPTURE(path.name);
    size_t applied = CheckConsistent(path.dir, line_of);
    ++path.rounds;
    if (!finished && applied > 0 && applied < (kLines + kBatch - 1) / kBatch) ++path.killed_mid_import;
    if (!finished && applied == 0) path.window_ms *= 1.5;
    if (finished) path.window_ms *= 0.7;
    if (finished) {
      CHECK(applied == (kLines + kBatch - 1) / kBatch);
      ++path.completed;
      path.dir = (tmp.path() / (path.name + std::to_string(++path.run))).string();  // start over
    }
  }
  for (const Path& path : paths) {
    MESSAGE(path.name << ": crash rounds " << path.rounds << ", killed mid-import " << path.killed_mid_import
                      << ", imports completed " << path.completed);
    CHECK(path.rounds >= 3);
    CHECK(path.killed_mid_import >= 1);
  }
}
