// hashscreen scan against a real hashscreend, on real images: verdicts in
// input order (JSONL and CSV), non-images skipped and never sent, tar shards
// read in place (SHARD:MEMBER) with the same verdicts as the files, hostile
// tars reported per source, a scan interrupted with SIGINT and resumed
// giving each source exactly once with the uninterrupted run's verdicts,
// --upload, and audit prove on the no-match items.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "base/coding.h"
#include "tests/server/server_fixture.h"

extern char** environ;

using namespace testing_support;
using nlohmann::json;

namespace {

struct Cli {
  const ServerFixture& f;
  std::vector<std::string> Argv(const std::string& role, const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {HASHSCREEN_CLI};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--server", "https://127.0.0.1:" + std::to_string(f.server.port()), "--cacert",
                             f.server.cert().string(), "--key", f.keys.at(role)});
    return argv;
  }
  int Run(const std::string& role, const std::vector<std::string>& args, std::string* out, std::string* err = nullptr) {
    std::string e;
    return RunProgram(Argv(role, args), out, err ? err : &e);
  }
};

std::vector<json> JsonLines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A dataset folder: the bridge photo (listed), two turned copies of it, other
// photos, a licence text and a broken JPEG.
fs::path MakeDataset(const fs::path& dir) {
  fs::create_directories(dir / "b");
  fs::copy_file(BridgeImage(), dir / "a-bridge.jpg");
  for (const char* name : {"c.png", "small.jpg"}) fs::copy_file(ConformanceImages() / "misc-images" / name, dir / "b" / name);
  std::ofstream(dir / "LICENSE.txt") << "CC-BY 4.0, not an image\n";
  std::ofstream(dir / "broken.jpg", std::ios::binary) << std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF", 10) << "garbage";
  for (const char* name : {"bridge-2-rotate-90.jpg", "bridge-5-flipx.jpg"}) {
    fs::copy_file(ConformanceImages() / "reg-test-input" / "dih" / name, dir / (std::string("turned-") + name));
  }
  return dir;
}

// A ustar header block for `name` of `size` bytes (type '0'), checksum set.
std::string TarHeader(const std::string& name, uint64_t size, char type = '0', const std::string& size_field = "") {
  std::string h(512, '\0');
  std::memcpy(h.data(), name.data(), std::min<size_t>(name.size(), 100));
  std::memcpy(h.data() + 100, "0000644", 7);
  char sz[13];
  std::snprintf(sz, sizeof sz, "%011llo", static_cast<unsigned long long>(size));
  const std::string field = size_field.empty() ? std::string(sz, 11) : size_field;
  std::memcpy(h.data() + 124, field.data(), std::min<size_t>(field.size(), 12));
  std::memcpy(h.data() + 136, "00000000000", 11);
  h[156] = type;
  std::memcpy(h.data() + 257, "ustar\0" "00", 8);
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  char ck[8];
  std::snprintf(ck, sizeof ck, "%06o", sum);
  std::memcpy(h.data() + 148, ck, 7);
  return h;
}

std::string Padded(std::string data) {
  data.resize((data.size() + 511) / 512 * 512, '\0');
  return data;
}

void WriteFile(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

}  // namespace

TEST_CASE("scan: verdicts in input order, non-images skipped, decode errors reported, turned copies match") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  Cli cli{f};
  TempDir tmp;
  const fs::path data = MakeDataset(tmp.path() / "data");
  std::string out, err;
  CHECK(cli.Run("ingest", {"scan", data.string()}, &out, &err) == 3);
  std::vector<json> lines = JsonLines(out);
  // Sorted path order; LICENSE.txt skipped without a line.
  std::vector<std::string> expected;
  for (const auto& e : fs::recursive_directory_iterator(data)) {
    if (e.is_regular_file() && e.path().filename() != "LICENSE.txt") expected.push_back(e.path().string());
  }
  std::sort(expected.begin(), expected.end());
  REQUIRE(lines.size() == expected.size());
  for (size_t i = 0; i < lines.size(); ++i) CHECK(lines[i]["source"] == expected[i]);
  std::map<std::string, json> by_name;
  for (const auto& l : lines) by_name[fs::path(l["source"].get<std::string>()).filename().string()] = l;
  CHECK(by_name["a-bridge.jpg"]["match"] == true);
  CHECK(by_name["c.png"]["match"] == false);
  CHECK(by_name["broken.jpg"]["error"]["code"].is_string());
  for (const auto& [name, l] : by_name) {
    if (name.rfind("turned-", 0) == 0) CHECK_MESSAGE(l["match"] == true, name);
  }
  CHECK(err.find("1 skipped") != std::string::npos);
  // Nothing of the licence or the broken image reached the server.
  json audit = Json(f.server.Client()->Get("/v1/audit?limit=1000", Bearer(f.keys["reviewer"])));
  for (const auto& e : audit["entries"]) {
    CHECK(e.value("ref", "").find("LICENSE") == std::string::npos);
    CHECK(e.value("ref", "").find("broken") == std::string::npos);
  }

  // CSV: the same verdicts, with a header.
  CHECK(cli.Run("ingest", {"scan", "--format", "csv", data.string()}, &out, &err) == 3);
  CHECK(out.rfind("source,match,audit_id,error_code,error_message\n", 0) == 0);
  CHECK(out.find(expected[0] + ",true,") != std::string::npos);

  // CSV resumes too: a second run finds every source (quoted names and all) in the file.
  fs::copy_file(BridgeImage(), data / "b" / "with, comma \"quoted\".jpg");
  TempDir csv_dir;
  const std::string csv = (csv_dir.path() / "v.csv").string();
  CHECK(cli.Run("ingest", {"scan", "--format", "csv", "--out", csv, data.string()}, &out, &err) == 3);
  CHECK(cli.Run("ingest", {"scan", "--format", "csv", "--out", csv, data.string()}, &out, &err) == 3);
  // Only the licence (a skipped non-image has no line) is looked at again.
  CHECK(err.find("scanned 1 of 1 sources") != std::string::npos);
  CHECK(err.find("1 skipped") != std::string::npos);
  CHECK(cli.Run("ingest", {"scan", "--out", csv, data.string()}, &out, &err) == 1);  // not a JSONL file
  CHECK(err.find("line 1") != std::string::npos);

  // Usage errors name the problem.
  CHECK(cli.Run("ingest", {"scan", "--format", "xml", data.string()}, &out, &err) == 2);
  CHECK(err.find("xml") != std::string::npos);
  CHECK(cli.Run("ingest", {"scan", "--frobnicate", data.string()}, &out, &err) == 2);
  CHECK(err.find("--frobnicate") != std::string::npos);
  CHECK(cli.Run("ingest", {"scan", "--batch", "0", data.string()}, &out, &err) == 2);
  // Plain http:// only to this machine: the key travels in a header.
  for (const char* url : {"http://192.0.2.1:8080", "http://127.0.0.1.evil.example", "http://localhost@evil.example",
                          "http://127.1:8080", "http://[::2]:8080", "http://0x7f000001"}) {
    CHECK_MESSAGE(RunProgram({HASHSCREEN_CLI, "scan", "--server", url, "--key", "k", data.string()}, &out, &err) == 2, url);
    CHECK(err.find("loopback") != std::string::npos);
  }
  // A loopback one passes the rule (and then finds no server on port 1).
  CHECK(RunProgram({HASHSCREEN_CLI, "scan", "--server", "http://127.0.0.1:1", "--key", "k", data.string()}, &out, &err) == 1);
  CHECK(err.find("cannot reach") != std::string::npos);
  CHECK(RunProgram({HASHSCREEN_CLI, "scan", "--help"}, &out, &err) == 0);
  CHECK(out.find("SHARD:MEMBER") != std::string::npos);
}

TEST_CASE("scan reads tar shards in place, @LIST and stdin lists, with the verdicts of the files themselves") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  Cli cli{f};
  TempDir tmp;
  const fs::path data = MakeDataset(tmp.path() / "data");
  const fs::path shard = tmp.path() / "shard-000.tar";
  std::string out, err;
  REQUIRE(RunProgram({"/bin/tar", "-cf", shard.string(), "-C", data.string(), "."}, &out, &err) == 0);
  CHECK(cli.Run("ingest", {"scan", shard.string()}, &out, &err) == 3);
  std::vector<json> from_tar = JsonLines(out);
  CHECK(cli.Run("ingest", {"scan", data.string()}, &out, &err) == 3);
  std::vector<json> from_files = JsonLines(out);
  std::map<std::string, json> files;
  for (const auto& l : from_files) files[fs::relative(l["source"].get<std::string>(), data).string()] = l;
  REQUIRE(from_tar.size() == from_files.size());
  for (const auto& l : from_tar) {
    const std::string source = l["source"];
    REQUIRE(source.rfind(shard.string() + ":./", 0) == 0);
    const std::string member = source.substr(shard.string().size() + 3);
    REQUIRE(files.count(member));
    CHECK(l.contains("match") == files[member].contains("match"));
    if (l.contains("match")) CHECK(l["match"] == files[member]["match"]);
  }
  // A list file naming the shard and a file, and the same list on stdin.
  WriteFile(tmp.path() / "list.txt", shard.string() + "\n" + (data / "a-bridge.jpg").string() + "\n");
  CHECK(cli.Run("ingest", {"scan", std::string("@").append((tmp.path() / "list.txt").string())}, &out, &err) == 3);
  CHECK(JsonLines(out).size() == from_tar.size() + 1);
  std::vector<std::string> argv = cli.Argv("ingest", {"scan", "-"});
  std::string cmd = std::string("cat '").append((tmp.path() / "list.txt").string()).append("' |");
  for (const auto& a : argv) cmd.append(" '").append(a).append("'");
  CHECK(RunProgram({"/bin/sh", "-c", cmd}, &out, &err) == 3);
  CHECK(JsonLines(out).size() == from_tar.size() + 1);
}

TEST_CASE("hostile tars get a clear error for the shard, after the members before the damage, never a crash") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  Cli cli{f};
  TempDir tmp;
  const std::string img = FileBytes(ConformanceImages() / "misc-images" / "c.png");
  const std::string good = TarHeader("ok.png", img.size()) + Padded(img);
  const std::string end(1024, '\0');
  struct Case {
    const char* name;
    std::string bytes;
    const char* needle;
  };
  std::string bad_checksum = TarHeader("x.png", img.size());
  bad_checksum[0] ^= 1;
  std::string huge_base256 = TarHeader("x.png", 0, '0', std::string("\x80\x00\x00\x00\x7f\xff\xff\xff\xff\xff\xff\xff", 12));
  std::string pax = "99999999 path=x\n";
  const std::vector<Case> cases = {
      {"truncated-data", good + TarHeader("cut.png", img.size()) + img.substr(0, 100), "past the end"},
      {"truncated-header", good + TarHeader("h.png", 10).substr(0, 300), "truncated inside a header"},
      {"huge-octal", good + TarHeader("big.png", 0, '0', "77777777777") + end, "past the end"},
      {"huge-base256", good + huge_base256 + end, "size"},
      {"bad-checksum", good + bad_checksum + Padded(img) + end, "checksum"},
      {"bad-pax", good + TarHeader("pax", pax.size(), 'x') + Padded(pax) + TarHeader("y.png", 0) + end, "pax"},
      {"huge-longname", good + TarHeader("././@LongLink", 2u << 20, 'L') + std::string(2u << 20, 'a') + end, "1 MiB"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const fs::path shard = tmp.path() / std::string(c.name).append(".tar");
    WriteFile(shard, c.bytes);
    std::string out, err;
    CHECK(cli.Run("ingest", {"scan", shard.string()}, &out, &err) == 1);
    std::vector<json> lines = JsonLines(out);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]["source"] == shard.string() + ":ok.png");
    CHECK(lines[0]["match"] == false);
    CHECK(lines[1]["source"] == shard.string());
    CHECK(lines[1]["error"]["code"] == "corruption");
    CHECK_MESSAGE(lines[1]["error"]["message"].get<std::string>().find(c.needle) != std::string::npos,
                  lines[1]["error"]["message"]);
  }
  // Path tricks are names only: nothing is written, the members are screened.
  const fs::path tricks = tmp.path() / "tricks.tar";
  WriteFile(tricks, TarHeader("../../etc/evil.png", img.size()) + Padded(img) + TarHeader("/abs/x.png", img.size()) +
                        Padded(img) + end);
  std::string out, err;
  CHECK(cli.Run("ingest", {"scan", tricks.string()}, &out, &err) == 0);
  std::vector<json> lines = JsonLines(out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["source"] == tricks.string() + ":../../etc/evil.png");
  CHECK(lines[1]["source"] == tricks.string() + ":/abs/x.png");
  CHECK_FALSE(fs::exists(tmp.path() / ".." / "etc" / "evil.png"));
}

TEST_CASE("scan interrupted by SIGINT and resumed: each source exactly once, verdicts equal an uninterrupted run") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  const fs::path photos = ImagesDir() / "photos-2mp";
  if (!RequireData(photos, "./setup.sh test fetches the image corpus")) return;
  ServerFixture f({"--rate-per-key", "0"});
  Cli cli{f};
  TempDir tmp;
  const fs::path data = tmp.path() / "data";
  fs::create_directories(data);
  fs::copy_file(BridgeImage(), data / "000-bridge.jpg");
  for (const auto& e : fs::recursive_directory_iterator(photos)) {
    if (e.is_regular_file()) fs::create_symlink(e.path(), data / e.path().filename());
  }
  const fs::path reference = tmp.path() / "reference.jsonl", resumed = tmp.path() / "resumed.jsonl";
  std::string out, err;
  CHECK(cli.Run("ingest", {"scan", "--out", reference.string(), data.string()}, &out, &err) == 3);
  const std::vector<json> want = JsonLines(ReadText(reference));
  REQUIRE(want.size() > 20);

  // Interrupted twice with SIGINT once it has written some lines.
  int interrupted = 0;
  for (int round = 0; round < 2; ++round) {
    const size_t before = JsonLines(fs::exists(resumed) ? ReadText(resumed) : "").size();
    std::vector<std::string> argv = cli.Argv("ingest", {"scan", "--jobs", "1", "--batch", "2", "--out", resumed.string(), data.string()});
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    REQUIRE(posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    for (int i = 0; i < 3000; ++i) {
      if (fs::exists(resumed) && JsonLines(ReadText(resumed)).size() >= before + 3) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid, SIGINT);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 130) ++interrupted;
    // Only whole lines: every line parses.
    const std::string text = ReadText(resumed);
    const bool whole = text.empty() || text.back() == '\n';
    CHECK(whole);
    JsonLines(text);
  }
  CHECK(interrupted == 2);
  // A crash tearing the last line: the torn line is cut and its source scanned again.
  { std::ofstream(resumed, std::ios::app) << R"({"audit_id":"1","match":fal)"; }
  CHECK(cli.Run("ingest", {"scan", "--out", resumed.string(), data.string()}, &out, &err) == 3);
  CHECK(err.find("already in") != std::string::npos);
  // And a run with nothing left does nothing, with the whole file's status.
  CHECK(cli.Run("ingest", {"scan", "--out", resumed.string(), data.string()}, &out, &err) == 3);
  CHECK(err.find("scanned 0 of 0 sources") != std::string::npos);
  const std::vector<json> got = JsonLines(ReadText(resumed));
  std::map<std::string, int> seen;
  std::map<std::string, bool> verdict;
  for (const auto& l : got) {
    ++seen[l["source"]];
    verdict[l["source"]] = l["match"].get<bool>();
  }
  CHECK(got.size() == want.size());
  for (const auto& l : want) {
    CHECK_MESSAGE(seen[l["source"]] == 1, l["source"]);
    CHECK(verdict[l["source"]] == l["match"].get<bool>());
  }
}

TEST_CASE("a long run of sidecars ahead of the images never waits for the group timer") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  Cli cli{f};
  TempDir tmp;
  // --jobs 1 --batch 5: the ring holds 10 sources. 200 sidecars (20 rings)
  // sort before the images; each ring of them used to wait the 5-second
  // timer for hashed items that could not come, 100 s in all.
  const fs::path data = tmp.path() / "shard";
  fs::create_directories(data);
  for (int i = 0; i < 200; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "a%03d.json", i);
    WriteFile(data / name, "{\"caption\": \"not an image\"}\n");
  }
  fs::copy_file(BridgeImage(), data / "z-bridge.jpg");
  const fs::path out_file = tmp.path() / "v.jsonl";
  std::string out, err;
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(cli.Run("ingest", {"scan", "--jobs", "1", "--batch", "5", "--out", out_file.string(), data.string()}, &out, &err) == 3);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // A liveness bound, not a speed target: 20 timer waits would take 100 s.
  CHECK(seconds < 40);
  std::vector<json> lines = JsonLines(ReadText(out_file));
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["match"] == true);
  CHECK(err.find("200 skipped") != std::string::npos);
}

TEST_CASE("scan --upload gives the verdicts of hash scanning, and audit prove proves a no-match item of a batch") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f;
  Cli cli{f};
  TempDir tmp;
  const fs::path data = MakeDataset(tmp.path() / "data");
  const fs::path hashed = tmp.path() / "hashed.jsonl", uploaded = tmp.path() / "uploaded.jsonl";
  std::string out, err;
  CHECK(cli.Run("ingest", {"scan", "--out", hashed.string(), data.string()}, &out, &err) == 3);
  CHECK(cli.Run("ingest", {"scan", "--upload", "--out", uploaded.string(), data.string()}, &out, &err) == 3);
  std::vector<json> a = JsonLines(ReadText(hashed)), b = JsonLines(ReadText(uploaded));
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i]["source"] == b[i]["source"]);
    CHECK(a[i].contains("match") == b[i].contains("match"));
    if (a[i].contains("match")) CHECK(a[i]["match"] == b[i]["match"]);
  }
  // --fast hashes here and so cannot go with --upload; on these images (none large) it gives the same verdicts.
  CHECK(cli.Run("ingest", {"scan", "--fast", "--upload", data.string()}, &out, &err) == 2);
  CHECK(err.find("--fast") != std::string::npos);
  const fs::path fast = tmp.path() / "fast.jsonl";
  CHECK(cli.Run("ingest", {"scan", "--fast", "--out", fast.string(), data.string()}, &out, &err) == 3);
  std::vector<json> c = JsonLines(ReadText(fast));
  REQUIRE(c.size() == a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i]["source"] == c[i]["source"]);
    if (a[i].contains("match")) CHECK(a[i]["match"] == c[i]["match"]);
  }
  const bool upload_proofs = fs::exists(uploaded.string() + ".merkle.jsonl") && !ReadText(uploaded.string() + ".merkle.jsonl").empty();
  CHECK_FALSE(upload_proofs);

  // audit prove: a no-match image is proven in its batch entry, the match is not in it.
  const std::string side = hashed.string() + ".merkle.jsonl";
  std::string c_png, id;
  for (const auto& l : a) {
    if (l["source"].get<std::string>().find("c.png") != std::string::npos) {
      c_png = l["source"];
      id = l["audit_id"];
    }
  }
  REQUIRE_FALSE(id.empty());
  CHECK(cli.Run("reviewer", {"audit", "prove", id, "--proofs", side, "--image", c_png}, &out, &err) == 0);
  CHECK(out.find("PROVEN") == 0);
  CHECK(cli.Run("reviewer", {"audit", "prove", id, "--proofs", side, "--image", (data / "a-bridge.jpg").string()}, &out,
                &err) == 1);
  CHECK(err.find("NOT PROVEN") != std::string::npos);
  // The same image under another ref is another item.
  CHECK(cli.Run("reviewer", {"audit", "prove", id, "--proofs", side, "--image", c_png, "--ref", "elsewhere"}, &out, &err) == 1);
  // A side file whose leaves were altered no longer gives the server's root.
  std::string text = ReadText(side);
  const size_t at = text.find("\"leaves\":[\"") + 11;
  text[at] = text[at] == '0' ? '1' : '0';
  WriteFile(tmp.path() / "bent.jsonl", text);
  CHECK(cli.Run("reviewer", {"audit", "prove", id, "--proofs", (tmp.path() / "bent.jsonl").string(), "--image", c_png}, &out,
                &err) == 1);
  CHECK(err.find("do not give its Merkle root") != std::string::npos);
}
