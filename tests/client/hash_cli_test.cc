// `hashscreen hash` as operators use it: a real process, its stdout, stderr
// and exit status (DESIGN.md section 6).
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/test_support.h"

namespace ts = testing_support;

namespace {

struct Run {
  int status;
  std::string out, err;
};

Run RunCli(const std::string& args, const std::string& env = "") {
  ts::TempDir tmp;
  const auto out = tmp.path() / "out", err = tmp.path() / "err";
  const std::string cmd = env + " " + HASHSCREEN_CLI + " hash " + args + " >" + out.string() + " 2>" + err.string();
  const int rc = std::system(cmd.c_str());
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(out), slurp(err)};
}

std::string Img(const char* rel) { return (ts::PdqDataDir() / "images" / rel).string(); }

}  // namespace

TEST_CASE("hash prints pdq-photo-hasher lines in input order") {
  if (!ts::RequireData(ts::PdqDataDir(), "tests/data/pdq is part of the repository")) return;
  const std::string a = Img("bridge-mods/aaa-orig.jpg"), b = Img("misc-images/small.jpg");
  Run r = RunCli(a + " " + b + " " + a);
  CHECK(r.status == 0);
  CHECK(r.out == "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,100," + a + "\n" +
                     "0007001f003f003f007f00ff00ff00ff01ff01ff01ff03ff03ff03ff03ff03ff,0," + b + "\n" +
                     "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,100," + a + "\n");
  CHECK(r.err.empty());
}

TEST_CASE("hash --dihedral --mode cli512 and --json") {
  const std::string a = Img("bridge-mods/aaa-orig.jpg");
  Run r = RunCli("--mode cli512 --dihedral " + a);
  CHECK(r.status == 0);
  CHECK(r.out.rfind("d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22,f0a10efd51c83d42", 0) == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), ',') == 9);
  r = RunCli("--json " + a);
  CHECK(r.status == 0);
  CHECK(r.out.find("\"pdq\":\"f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22\"") != std::string::npos);
  CHECK(r.out.find("\"format\":\"jpeg\"") != std::string::npos);
  CHECK(r.out.find("\"width\":1600") != std::string::npos);
  CHECK(r.out.find("\"md5\":\"") != std::string::npos);
}

TEST_CASE("a bad file is reported on stderr, the others still hash, exit 1") {
  ts::TempDir tmp;
  const auto bad = tmp.path() / "not-an-image.jpg";
  std::ofstream(bad) << "plain text";
  const std::string a = Img("bridge-mods/aaa-orig.jpg");
  Run r = RunCli(bad.string() + " " + a + " /nonexistent/file.png");
  CHECK(r.status == 1);
  CHECK(r.out.find(a) != std::string::npos);
  CHECK(r.err.find(bad.string() + ": not an image format") != std::string::npos);
  CHECK(r.err.find("/nonexistent/file.png: ") != std::string::npos);
}

TEST_CASE("usage errors exit 2 with a message and --help teaches and exits 0") {
  CHECK(RunCli("--help").status == 0);
  CHECK(RunCli("--help").out.find("PDQ_HEX,QUALITY,FILE") != std::string::npos);
  Run r = RunCli("--mode bogus x.jpg");
  CHECK(r.status == 2);
  CHECK(r.err.find("--mode") != std::string::npos);
  CHECK(RunCli("").status == 2);
  CHECK(RunCli("--jobs 0 x.jpg").status == 2);
  r = RunCli(Img("bridge-mods/aaa-orig.jpg"), "HASHSCREEN_SIMD=sse9");
  CHECK(r.status == 2);
  CHECK(r.err.find("HASHSCREEN_SIMD") != std::string::npos);
}

TEST_CASE("HASHSCREEN_SIMD forces a path and every path prints the same") {
  const std::string a = Img("reg-test-input/dih/bridge-2-rotate-90.jpg");
  const std::string want = RunCli("--dihedral " + a, "HASHSCREEN_SIMD=scalar").out;
  CHECK(!want.empty());
  for (const char* level : {"avx2", "avx512"}) {
    Run r = RunCli("--dihedral " + a, std::string("HASHSCREEN_SIMD=") + level);
    if (r.status == 2) {
      MESSAGE("SKIP: this CPU lacks " << level);
      continue;
    }
    CHECK(r.out == want);
  }
}
