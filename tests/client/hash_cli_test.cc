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

#include "base/pdq_hash.h"
#include "tests/hashing/hostile_inputs.h"
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

TEST_CASE("hash --fast scales large JPEGs only, says so in --json, and stays near the exact hash") {
  ts::TempDir tmp;
  // The bridge photo (1600x1004, not scaled: half of it would be under 512 rows) and a 3200x2008 copy.
  const hostile::Pixels small = hostile::Decode(hostile::ConformanceImage("bridge-mods/aaa-orig.jpg"));
  hostile::Pixels big{small.width * 2, small.height * 2, small.channels, {}};
  for (int y = 0; y < big.height; ++y) {
    for (int x = 0; x < big.width; ++x) {
      const uint8_t* s = small.at(x / 2, y / 2);
      big.data.insert(big.data.end(), s, s + small.channels);
    }
  }
  const auto big_path = tmp.path() / "big.jpg";
  const std::vector<uint8_t> jpeg = hostile::WriteJpeg(big, hostile::JpegKind::kBaseline);
  std::ofstream(big_path, std::ios::binary).write(reinterpret_cast<const char*>(jpeg.data()), static_cast<std::streamsize>(jpeg.size()));
  const std::string a = Img("bridge-mods/aaa-orig.jpg");
  Run exact = RunCli(a + " " + big_path.string());
  Run fast = RunCli("--fast " + a + " " + big_path.string());
  REQUIRE(exact.status == 0);
  REQUIRE(fast.status == 0);
  const size_t nl = exact.out.find('\n');
  CHECK(fast.out.substr(0, nl) == exact.out.substr(0, nl));  // the small JPEG: bit for bit
  base::PdqHash e, f;
  REQUIRE(base::PdqHash::FromHex(exact.out.substr(nl + 1, 64), &e).ok());
  REQUIRE(base::PdqHash::FromHex(fast.out.substr(nl + 1, 64), &f).ok());
  CHECK(base::Distance(e, f) <= 31);
  Run json = RunCli("--fast --json " + a + " " + big_path.string());
  CHECK(json.out.find("\"decode_scale\":2") != std::string::npos);  // 1600x1004: 1/4 would leave 502 rows
  CHECK(std::count(json.out.begin(), json.out.end(), '\n') == 2);
  CHECK(json.out.find("\"decode_scale\"") == json.out.rfind("\"decode_scale\""));  // the small one has none
  CHECK(json.out.find("\"width\":3200") != std::string::npos);
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
