// hashscreen audit list/review/export against a real hashscreend: list pages
// by itself (all pages, or --limit N in all), takes every filter and ISO-8601
// UTC times, refuses unknown flags naming them (exit 2); review with
// --report-id; export to a file that is never overwritten.
#include <algorithm>
#include <fstream>

#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;

namespace {

struct Cli {
  const ServerFixture& f;
  int Run(const std::string& role, std::vector<std::string> args, std::string* out, std::string* err) {
    std::vector<std::string> argv = {HASHSCREEN_CLI};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--server", "https://127.0.0.1:" + std::to_string(f.server.port()), "--cacert",
                             f.server.cert().string(), "--key", f.keys.at(role)});
    return RunProgram(argv, out, err);
  }
};

size_t Lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("hashscreen audit list pages by itself with every filter, reviews and exports, and unknown flags exit 2") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  ServerFixture f({"--rate-per-key", "0"});
  Cli cli{f};
  const std::string bridge = FileBytes(BridgeImage());
  for (int i = 0; i < 5; ++i) REQUIRE(f.Screen(bridge)->status == 200);
  std::string out, err;
  // More entries than one page of --limit's page size: every page is fetched.
  for (int i = 0; i < 1003; ++i) {
    auto r = f.server.Client()->Post("/v1/screen/hashes", Bearer(f.keys["ingest"]),
                                     R"({"md5":"00000000000000000000000000000000"})", "application/json");
    REQUIRE(r->status == 200);
  }
  REQUIRE(cli.Run("reviewer", {"audit", "list"}, &out, &err) == 0);
  CHECK(Lines(out) == 1008);
  REQUIRE(cli.Run("reviewer", {"audit", "list", "--limit", "7", "--order", "newest"}, &out, &err) == 0);
  CHECK(Lines(out) == 7);
  REQUIRE(cli.Run("reviewer", {"audit", "list", "--verdict", "match", "--disposition", "unreviewed", "--partner", "acme",
                               "--list", std::to_string(f.list_id), "--since", "2020-01-01T00:00:00Z", "--until",
                               "2999-12-31", "--json"}, &out, &err) == 0);
  REQUIRE(Lines(out) == 5);
  const json first = json::parse(out.substr(0, out.find('\n')));
  const std::string id = first["id"];
  CHECK(first["instance"].is_string());
  REQUIRE(cli.Run("reviewer", {"audit", "list", "--instance", first["instance"].get<std::string>().substr(0, 8), "--verdict",
                               "match", "--since", std::to_string(first["time_ms"].get<int64_t>())}, &out, &err) == 0);
  CHECK(Lines(out) == 5);
  CHECK(cli.Run("reviewer", {"audit", "list", "--until", "2019-12-31T23:59:59.999Z"}, &out, &err) == 0);
  CHECK(out.empty());

  // Unknown flags and bad values: exit 2, naming them.
  CHECK(cli.Run("reviewer", {"audit", "list", "--dispositon", "unreviewed"}, &out, &err) == 2);
  CHECK(err.find("--dispositon") != std::string::npos);
  CHECK(cli.Run("reviewer", {"audit", "list", "--since", "2026-02-31"}, &out, &err) == 2);
  CHECK(cli.Run("reviewer", {"audit", "list", "--since", "2026-01-01T00:00:00+02:00"}, &out, &err) == 2);
  CHECK(cli.Run("reviewer", {"audit", "list", "--disposition", "maybe"}, &out, &err) == 2);
  CHECK(cli.Run("reviewer", {"audit", "list", "--limit"}, &out, &err) == 2);
  CHECK(cli.Run("reviewer", {"audit", "review", id, "--disposition", "reported", "--reportid", "x"}, &out, &err) == 2);
  CHECK(err.find("--reportid") != std::string::npos);
  CHECK(cli.Run("reviewer", {"audit", "export", "--fromat", "csv"}, &out, &err) == 2);

  // Review with a report id; a second one needs a note.
  REQUIRE(cli.Run("reviewer", {"audit", "review", id, "--disposition", "reported", "--report-id", "CT-42"}, &out, &err) == 0);
  CHECK(cli.Run("reviewer", {"audit", "review", id, "--disposition", "confirmed"}, &out, &err) == 1);
  CHECK(err.find("note") != std::string::npos);
  REQUIRE(cli.Run("reviewer", {"audit", "list", "--disposition", "reported", "--json"}, &out, &err) == 0);
  REQUIRE(Lines(out) == 1);
  CHECK(json::parse(out)["review"]["report_id"] == "CT-42");

  // Export to a file; an existing file is not overwritten.
  TempDir dir;
  const std::string csv = (dir.path() / "matches.csv").string();
  REQUIRE(cli.Run("reviewer", {"audit", "export", "--since", "2020-01-01", "--until", "2999-01-01", "--out", csv}, &out, &err) == 0);
  std::ifstream in(csv);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.rfind("audit_id,time_utc,", 0) == 0);
  CHECK(Lines(text) == 6);
  CHECK(text.find(",reported,CT-42,") != std::string::npos);
  CHECK(cli.Run("reviewer", {"audit", "export", "--out", csv}, &out, &err) == 1);
  REQUIRE(cli.Run("reviewer", {"audit", "export", "--format", "json", "--disposition", "reported"}, &out, &err) == 0);
  const json j = json::parse(out);
  REQUIRE(j["matches"].size() == 1);
  CHECK(j["matches"][0]["report_id"] == "CT-42");
}
