// A real hashscreend screening re-uploads of the listed bridge photo that
// PDQ alone misses: bordered, letterboxed, bordered and turned
// (screening.trim_borders, default on), and phone uploads with an EXIF
// orientation (the dihedral set covers the picture as displayed); what
// reviewers see of them (the audit hit's variant names the query hash that
// matched); and what ingest clients see (only {match, audit_id}).
#include "bench/robustness/transforms.h"
#include "tests/server/server_fixture.h"

using namespace testing_support;
using nlohmann::json;
namespace rb = robustness;

namespace {

// Through the benchmark's catalogue, so the test screens exactly what
// bench/robustness measures.
std::string Transformed(const rb::Image& image, const char* name) {
  const rb::Transform* t = rb::FindTransform(name);
  REQUIRE(t != nullptr);
  std::vector<uint8_t> bytes;
  REQUIRE(t->apply(image, 1, &bytes).ok());
  return std::string(bytes.begin(), bytes.end());
}

// The ingest answer: exactly {match, audit_id}, nothing of the variant.
void CheckIngestAnswer(const json& answer) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : answer.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"audit_id", "match"});
}

std::string Upload(const rb::Image& image) {
  std::vector<uint8_t> png;
  REQUIRE(rb::EncodePng(image, &png).ok());
  return std::string(png.begin(), png.end());
}

rb::Image Bridge() {
  const auto bytes = ReadFile(BridgeImage());
  rb::Image image;
  REQUIRE(rb::DecodeToRgb(bytes, &image).ok());
  return image;
}

// The audit entry of a screen, as a reviewer reads it.
json AuditOf(ServerFixture& f, const httplib::Result& screen) {
  auto c = f.server.Client();
  auto r = c->Get(("/v1/audit/" + Json(screen)["audit_id"].get<std::string>()).c_str(), Bearer(f.keys["reviewer"]));
  REQUIRE(r);
  REQUIRE(r->status == 200);
  return Json(r);
}

}  // namespace

TEST_CASE("bordered and letterboxed copies match with trim_borders (default), and the audit names the trimmed variant") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  const rb::Image bridge = Bridge();
  ServerFixture f;
  struct Case {
    std::string name, variant;
    rb::Image image;
  };
  const std::vector<Case> cases = {
      {"black border", "trimmed", rb::AddBorder(bridge, 160, 100, 160, 100, {0, 0, 0})},
      {"letterbox", "trimmed", rb::AddBorder(bridge, 0, 167, 0, 167, {0, 0, 0})},
      {"white pillarbox", "trimmed", rb::AddBorder(bridge, 267, 0, 267, 0, {255, 255, 255})},
      {"caption bar below", "trimmed", rb::AddCaptionBar(bridge, 0.10, false)},
      {"caption bar above", "trimmed", rb::AddCaptionBar(bridge, 0.10, true)},
      {"border then rotated", "trimmed+rot90",
       rb::ApplyOrientation(rb::AddBorder(bridge, 120, 120, 120, 120, {30, 110, 200}), 6)},
      {"rotated, no border", "rot90", rb::ApplyOrientation(bridge, 6)},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    auto r = f.Screen(Upload(c.image), "ingest", "image/png");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    CheckIngestAnswer(Json(r));
    CHECK(Json(r)["match"] == true);
    const json e = AuditOf(f, r);
    REQUIRE(e["hits"].size() == 1);
    CHECK(e["hits"][0]["variant_name"] == c.variant);
    CHECK(e["hits"][0]["distance"].get<int>() <= 31);
    CHECK(e["query"]["pdq_used"] == true);
  }
}

TEST_CASE("EXIF-oriented phone uploads match through the dihedral set, and the audit names the turn") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  const rb::Image bridge = Bridge();
  ServerFixture f;
  // "exif-N": the listed pixels, tagged N (shown turned; hashes follow the
  // stored pixels, as the reference's do). "exif-N-upright": the pixels a
  // phone stores so that tag N shows the listed picture upright; the
  // displayed picture is the listed one, the stored one a dihedral turn of
  // it, so the dihedral set matches without decoding the tag.
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"exif-6", "orig"},           {"exif-3", "orig"},          {"exif-6-upright", "rot270"},
      {"exif-8-upright", "rot90"},  {"exif-3-upright", "rot180"}, {"exif-2-upright", "flipy"},
      {"exif-5-upright", "flipplus1"},
  };
  for (const auto& [name, variant] : cases) {
    const std::string transform = name;
    CAPTURE(transform);
    auto r = f.Screen(Transformed(bridge, name), "ingest", "image/jpeg");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    CheckIngestAnswer(Json(r));
    CHECK(Json(r)["match"] == true);
    const json e = AuditOf(f, r);
    REQUIRE(e["hits"].size() == 1);
    CHECK(e["hits"][0]["variant_name"] == variant);
  }
}

TEST_CASE("with trim_captions=false a captioned copy does not match, a letterboxed one still does") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  const rb::Image bridge = Bridge();
  ServerFixture f({"--trim-captions=false"});
  auto captioned = f.Screen(Upload(rb::AddCaptionBar(bridge, 0.10, false)), "ingest", "image/png");
  REQUIRE(captioned);
  REQUIRE(captioned->status == 200);
  CheckIngestAnswer(Json(captioned));
  CHECK(Json(captioned)["match"] == false);
  CHECK(AuditOf(f, captioned)["hits"].empty());
  auto letterboxed = f.Screen(Upload(rb::AddBorder(bridge, 0, 167, 0, 167, {0, 0, 0})), "ingest", "image/png");
  REQUIRE(letterboxed);
  REQUIRE(letterboxed->status == 200);
  CHECK(Json(letterboxed)["match"] == true);
  CHECK(AuditOf(f, letterboxed)["hits"][0]["variant_name"] == "trimmed");
}

TEST_CASE("with trim_borders=false a bordered copy does not match, a turned one still does") {
  if (!RequireData(BridgeImage(), "tests/data/pdq is part of the repository")) return;
  const rb::Image bridge = Bridge();
  ServerFixture f({"--trim-borders=false"});
  auto bordered = f.Screen(Upload(rb::AddBorder(bridge, 160, 100, 160, 100, {0, 0, 0})), "ingest", "image/png");
  REQUIRE(bordered);
  REQUIRE(bordered->status == 200);
  CheckIngestAnswer(Json(bordered));
  CHECK(Json(bordered)["match"] == false);
  CHECK(AuditOf(f, bordered)["hits"].empty());
  auto turned = f.Screen(Upload(rb::ApplyOrientation(bridge, 3)), "ingest", "image/png");
  REQUIRE(turned);
  REQUIRE(turned->status == 200);
  CHECK(Json(turned)["match"] == true);
  CHECK(AuditOf(f, turned)["hits"][0]["variant_name"] == "rot180");
}
