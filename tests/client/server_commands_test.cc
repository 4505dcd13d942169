// The hashscreen client's server commands against a real hashscreend:
// screen (exit codes, --json, directories), lists create/push (resumable by
// batch id)/info, audit list/show/review/verify/checkpoint.
#include <signal.h>

#include <fstream>

#include "store/audit_log.h"
#include "store/database.h"
#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;

namespace {

struct Cli {
  const ServerFixture& f;
  int Run(const std::string& role, std::vector<std::string> args, std::string* out, std::string* err = nullptr) {
    std::vector<std::string> argv = {HASHSCREEN_CLI};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--server", "https://127.0.0.1:" + std::to_string(f.server.port()), "--cacert",
                             f.server.cert().string(), "--key", f.keys.at(role)});
    std::string e;
    int rc = RunProgram(argv, out, err ? err : &e);
    return rc;
  }
};

}  // namespace

TEST_CASE("hashscreen screen: exit 3 on a match, 0 on none, 1 on errors, --json per file") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  Cli cli{f};
  std::string out, err;
  CHECK(cli.Run("ingest", {"screen", (ConformanceImages() / "reg-test-input" / "dih").string()}, &out, &err) == 3);
  CHECK(std::count(out.begin(), out.end(), '\n') == 8);
  CHECK(out.rfind("MATCH ", 0) == 0);
  CHECK(err.find("screened 8 files") != std::string::npos);

  CHECK(cli.Run("ingest", {"screen", "--json", (ConformanceImages() / "misc-images" / "c.png").string()}, &out) == 0);
  json j = json::parse(out);
  CHECK(j["match"] == false);
  CHECK(j["audit_id"].is_string());

  TempDir junk;
  std::ofstream(junk.path() / "notes.txt") << "not an image";
  CHECK(cli.Run("ingest", {"screen", junk.path().string()}, &out, &err) == 1);
  CHECK(err.find("notes.txt: ") != std::string::npos);
  CHECK(cli.Run("ingest", {"screen", "/no/such/path"}, &out, &err) == 1);
  CHECK(cli.Run("reviewer", {"screen", BridgeImage().string()}, &out, &err) == 1);  // wrong role: an error per file
  CHECK(err.find("may not call") != std::string::npos);
}

TEST_CASE("hashscreen lists create, push (resumable) and info, audit list, show, review, verify") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f({}, /*with_list=*/false);
  Cli cli{f};
  std::string out, err;
  REQUIRE(cli.Run("partner", {"lists", "create", "--name", "pushed", "--kind", "block"}, &out, &err) == 0);
  std::string id = out.substr(0, out.find('\n'));
  TempDir tmp;
  fs::path file = tmp.path() / "hashes.csv";
  {
    std::ofstream o(file);
    o << "type,hash,ref\n# a comment\n";
    o << "pdq," << PdqHexOf(BridgeImage()) << ",bridge\n";
    for (int i = 0; i < 25; ++i) o << "md5," << std::string(30, '0') << (i < 10 ? "0" : "") << i << ",r" << i << "\n";
  }
  REQUIRE(cli.Run("partner", {"lists", "push", id, file.string(), "--batch-size", "10"}, &out, &err) == 0);
  CHECK(out.find("in 3 batches (0 already applied): 26 added") != std::string::npos);
  // A second run of the same file is recognised batch by batch and adds nothing.
  REQUIRE(cli.Run("partner", {"lists", "push", id, file.string(), "--batch-size", "10"}, &out, &err) == 0);
  CHECK(out.find("(3 already applied): 26 added") != std::string::npos);  // the first results, replayed
  REQUIRE(cli.Run("partner", {"lists", "info", id}, &out) == 0);
  CHECK(json::parse(out)["signal_count"] == 26);
  CHECK(cli.Run("partner2", {"lists", "info", id}, &out, &err) == 1);

  CHECK(cli.Run("ingest", {"screen", BridgeImage().string()}, &out) == 3);
  REQUIRE(cli.Run("reviewer", {"audit", "list", "--verdict", "match"}, &out) == 0);
  CHECK(out.find("acme/bridge pdq d=0") != std::string::npos);
  REQUIRE(cli.Run("reviewer", {"audit", "review", "1", "--disposition", "escalated", "--note", "check"}, &out) == 0);
  REQUIRE(cli.Run("reviewer", {"audit", "show", "1"}, &out) == 0);
  CHECK(json::parse(out)["reviews"][0]["disposition"] == "escalated");
  REQUIRE(cli.Run("admin", {"audit", "verify"}, &out) == 0);
  CHECK(out.rfind("ok: 2 entries", 0) == 0);
  CHECK(cli.Run("ingest", {"audit", "verify"}, &out, &err) == 1);
}

TEST_CASE("hashscreen lists push takes what hashscreen hash writes (plain and --json) and names a bad line") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f({}, /*with_list=*/false);
  Cli cli{f};
  std::string out, err;
  REQUIRE(cli.Run("partner", {"lists", "create", "--name", "hashed"}, &out, &err) == 0);
  const std::string id = out.substr(0, out.find('\n'));
  TempDir tmp;
  const fs::path plain = tmp.path() / "hashes.txt", jsonl = tmp.path() / "hashes.jsonl";
  // `hashscreen hash` output, exactly as a user would redirect it.
  const std::string dir = (ConformanceImages() / "bridge-mods").string();
  REQUIRE(RunProgram({"/bin/sh", "-c", std::string(HASHSCREEN_CLI) + " hash " + dir + "/aaa-orig.jpg " + dir +
                                           "/blur-a-lot.jpg > " + plain.string()},
                     &out) == 0);
  REQUIRE(RunProgram({"/bin/sh", "-c", std::string(HASHSCREEN_CLI) + " hash --json " + dir + "/aaa-orig.jpg > " +
                                           jsonl.string()},
                     &out) == 0);
  REQUIRE(cli.Run("partner", {"lists", "push", id, plain.string()}, &out, &err) == 0);
  CHECK(out.find("2 added") != std::string::npos);
  REQUIRE(cli.Run("partner", {"lists", "push", id, jsonl.string()}, &out, &err) == 0);
  CHECK(out.find("2 added, 1 already present") != std::string::npos);  // its MD5 and SHA-256 are new
  REQUIRE(cli.Run("partner", {"lists", "info", id}, &out) == 0);
  CHECK(json::parse(out)["signal_count"] == 4);
  CHECK(cli.Run("ingest", {"screen", (ConformanceImages() / "bridge-mods" / "aaa-orig.jpg").string()}, &out) == 3);

  // A line that is not a hash list line stops the push, naming file and line.
  const fs::path bad = tmp.path() / "bad.csv";
  std::ofstream(bad) << "pdq," << PdqHexOf(BridgeImage()) << ",ok\nthis is not a list line\n";
  CHECK(cli.Run("partner", {"lists", "push", id, bad.string()}, &out, &err) == 1);
  CHECK(err.find("bad.csv:2") != std::string::npos);
  CHECK(cli.Run("partner", {"lists", "push", id, plain.string(), "--frmat", "csv"}, &out, &err) != 0);
  CHECK(err.find("--frmat") != std::string::npos);
  CHECK(cli.Run("partner", {"lists", "push", id, plain.string(), "--batch-size", "0"}, &out, &err) == 1);
  CHECK(cli.Run("partner", {"lists", "create", "--name", "x", "--threshold", "-1"}, &out, &err) == 1);
  CHECK(err.find("--threshold") != std::string::npos);
}

TEST_CASE("lists push: a file changed in place (same name, size and mtime) is pushed, not taken for a replay") {
  ServerFixture f({}, /*with_list=*/false);
  Cli cli{f};
  std::string out, err;
  REQUIRE(cli.Run("partner", {"lists", "create", "--name", "edited"}, &out, &err) == 0);
  const std::string id = out.substr(0, out.find('\n'));
  TempDir tmp;
  // A name longer than a batch id may be (128 bytes) still pushes.
  const fs::path file = tmp.path() / (std::string(150, 'n') + ".csv");
  auto write = [&](char digit) {
    std::ofstream o(file, std::ios::trunc);
    for (int i = 0; i < 4; ++i) o << "md5," << std::string(31, digit) << i << ",r" << i << "\n";
  };
  write('1');
  const auto mtime = fs::last_write_time(file);
  REQUIRE_MESSAGE(cli.Run("partner", {"lists", "push", id, file.string(), "--batch-size", "2"}, &out, &err) == 0, err);
  CHECK(out.find("4 added") != std::string::npos);
  REQUIRE(cli.Run("partner", {"lists", "push", id, file.string(), "--batch-size", "2"}, &out, &err) == 0);
  CHECK(out.find("(2 already applied)") != std::string::npos);
  // The same bytes count, the same time: other hashes.
  write('2');
  fs::last_write_time(file, mtime);
  REQUIRE(cli.Run("partner", {"lists", "push", id, file.string(), "--batch-size", "2"}, &out, &err) == 0);
  CHECK(out.find("(0 already applied): 4 added") != std::string::npos);
  // Another batch size over the same file: other batches, nothing lost.
  REQUIRE(cli.Run("partner", {"lists", "push", id, file.string(), "--batch-size", "3"}, &out, &err) == 0);
  CHECK(out.find("0 added, 4 already present") != std::string::npos);
  REQUIRE(cli.Run("partner", {"lists", "info", id}, &out) == 0);
  CHECK(json::parse(out)["signal_count"] == 8);
}

TEST_CASE("hashscreen audit checkpoint, and verify --checkpoint: ok while held, exit 1 once the tail is cut, exit 4 without the key") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  TempDir keys;
  const fs::path key_file = keys.path() / "audit.key";
  std::ofstream(key_file) << "0123456789abcdef0123456789abcdef\n";
  ServerFixture f({"--hmac-key-file", key_file.string()}, /*with_list=*/false);
  Cli cli{f};
  std::string out, err;
  for (int i = 0; i < 5; ++i) REQUIRE(f.Screen(FileBytes(BridgeImage()))->status == 200);
  REQUIRE(cli.Run("admin", {"audit", "checkpoint"}, &out, &err) == 0);
  CHECK(out.rfind("audit-checkpoint:v1:", 0) == 0);
  CHECK(err.find("MAC by the server's audit HMAC key") != std::string::npos);
  const std::string line = out.substr(0, out.find('\n'));
  CHECK(line.find(":5:") != std::string::npos);
  const fs::path saved = keys.path() / "checkpoint.txt";
  std::ofstream(saved) << "# taken before the upgrade\n" << line << "\n";
  REQUIRE(cli.Run("admin", {"audit", "checkpoint", "--json"}, &out) == 0);
  CHECK(json::parse(out)["checkpoint"] == line);
  CHECK(cli.Run("reviewer", {"audit", "checkpoint"}, &out, &err) == 1);

  for (int i = 0; i < 3; ++i) REQUIRE(f.Screen(FileBytes(BridgeImage()))->status == 200);
  REQUIRE(cli.Run("admin", {"audit", "verify", "--checkpoint", saved.string()}, &out, &err) == 0);
  CHECK(out.find("head authenticated") != std::string::npos);
  CHECK(out.find("holds the checkpoint of entry 5") != std::string::npos);
  REQUIRE(cli.Run("admin", {"audit", "verify", "--checkpoint", line}, &out, &err) == 0);
  // The same line with its MAC replaced by `none`: the entry is held, but a
  // keyed server cannot authenticate it, so it is not verified (exit 4).
  const std::string macless = line.substr(0, line.rfind(':') + 1) + "none";
  CHECK(cli.Run("admin", {"audit", "verify", "--checkpoint", macless}, &out, &err) == 4);
  CHECK_MESSAGE(out.find("NOT VERIFIED (checkpoint_unauthenticated)") != std::string::npos, out);
  // Bad checkpoint arguments are errors naming the problem.
  CHECK(cli.Run("admin", {"audit", "verify", "--checkpoint", keys.path().string()}, &out, &err) == 1);
  CHECK(err.find("not a regular file") != std::string::npos);
  CHECK(cli.Run("admin", {"audit", "verify", "--checkpoint", "audit-checkpoint:v1:junk"}, &out, &err) == 1);
  CHECK(err.find("checkpoint") != std::string::npos);
  CHECK(cli.Run("admin", {"audit", "verify", "--checkpoint"}, &out, &err) == 1);
  CHECK(cli.Run("admin", {"audit", "verify", "--full"}, &out, &err) == 1);
  CHECK(err.find("--full") != std::string::npos);

  // The newest four entries deleted and the head pointed at entry 4, as an
  // attacker with the disk but without the key would.
  REQUIRE(f.server.Stop(SIGTERM) == 0);
  {
    std::unique_ptr<store::Database> db;
    REQUIRE(store::Database::Open(f.server.data_dir().string(), {}, &db).ok());
    rocksdb::WriteBatch b;
    for (uint64_t seq = 5; seq <= 8; ++seq) b.Delete(db->family(store::Database::kAudit), store::AuditKey(seq));
    std::string v4;
    REQUIRE(db->Get(store::Database::kAudit, store::AuditKey(4), &v4).ok());
    b.Put(db->family(store::Database::kMeta), "audit_head", store::AuditKey(4) + v4.substr(v4.size() - 33 - 32, 32));
    REQUIRE(db->Write(&b, true).ok());
  }
  std::string error;
  CHECK_FALSE(f.server.Start({"--hmac-key-file", key_file.string()}, &error));
  CHECK_MESSAGE(error.find("no MAC") != std::string::npos, error);
  REQUIRE_MESSAGE(f.server.Start({}, &error), error);
  CHECK(cli.Run("admin", {"audit", "verify"}, &out, &err) == 4);
  CHECK(out.find("NOT VERIFIED (hmac_unchecked)") != std::string::npos);
  CHECK(cli.Run("admin", {"audit", "verify", "--checkpoint", saved.string()}, &out, &err) == 1);
  CHECK(out.find("FAILED at entry 5") != std::string::npos);
  CHECK(out.find("removed from the tail") != std::string::npos);
  REQUIRE(cli.Run("admin", {"audit", "checkpoint"}, &out, &err) == 0);
  CHECK(out.find(":none") != std::string::npos);
  CHECK(err.find("no audit HMAC key") != std::string::npos);
  // The keyless server appends (an entry without HMAC, a head without MAC):
  // the cut now sits under an unkeyed head. A start with the key does not
  // extend that chain, which fails verification with the key.
  REQUIRE(f.Screen(FileBytes(BridgeImage()))->status == 200);
  REQUIRE(f.server.Stop(SIGTERM) == 0);
  CHECK_FALSE(f.server.Start({"--hmac-key-file", key_file.string()}, &error));
  CHECK_MESSAGE(error.find("carries no HMAC") != std::string::npos, error);
}
