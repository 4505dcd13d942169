#include "server/hash_query.h"

#include "base/hex.h"
#include "index/screening.h"
#include "server/screener.h"

namespace server {

namespace {

Status ParsePdq(const json& value, std::vector<base::PdqHash>* out) {
  std::vector<const json*> hexes;
  if (value.is_string()) {
    hexes.push_back(&value);
  } else if (value.is_array()) {
    if (value.empty() || value.size() > kMaxPdqVariants) {
      return Status::InvalidArgument("pdq must hold 1 to " + std::to_string(kMaxPdqVariants) + " hashes");
    }
    for (const json& v : value) hexes.push_back(&v);
  } else {
    return Status::InvalidArgument("pdq must be a hex string or an array of them");
  }
  for (size_t i = 0; i < hexes.size(); ++i) {
    if (!hexes[i]->is_string()) return Status::InvalidArgument("pdq[" + std::to_string(i) + "] must be a string");
    base::PdqHash h;
    HS_RETURN_IF_ERROR(base::PdqHash::FromHex(hexes[i]->get_ref<const std::string&>(), &h)
                           .WithContext(value.is_array() ? "pdq[" + std::to_string(i) + "]" : "pdq"));
    out->push_back(h);
  }
  return Status::Ok();
}

template <size_t N>
Status ParseDigest(const json& j, const char* field, std::optional<std::array<uint8_t, N>>* out) {
  std::string hex;
  HS_RETURN_IF_ERROR(JsonString(j, field, false, &hex));
  if (hex.empty()) return Status::Ok();
  std::array<uint8_t, N> d{};
  HS_RETURN_IF_ERROR(base::HexDecode(hex, d).WithContext(field));
  *out = d;
  return Status::Ok();
}

Status Parse(const json& j, HashQuery* out) {
  if (!j.is_object()) return Status::InvalidArgument("must be a JSON object");
  HS_RETURN_IF_ERROR(RefuseUnknownFields(j, {"ref", "pdq", "quality", "md5", "sha256"}));
  HS_RETURN_IF_ERROR(JsonString(j, "ref", false, &out->ref));
  HS_RETURN_IF_ERROR(ValidateCallerRef(out->ref));
  if (auto it = j.find("pdq"); it != j.end() && !it->is_null() && !(it->is_string() && it->get_ref<const std::string&>().empty())) {
    HS_RETURN_IF_ERROR(ParsePdq(*it, &out->pdq));
  }
  int64_t quality = -1;
  HS_RETURN_IF_ERROR(JsonInt(j, "quality", false, &quality));
  if (j.contains("quality") && !j["quality"].is_null() && (quality < 0 || quality > 100)) {
    return Status::InvalidArgument("quality must be 0..100");
  }
  out->quality = static_cast<int>(quality);
  HS_RETURN_IF_ERROR(ParseDigest(j, "md5", &out->md5));
  HS_RETURN_IF_ERROR(ParseDigest(j, "sha256", &out->sha256));
  if (out->pdq.empty() && !out->md5 && !out->sha256) return Status::InvalidArgument("give at least one of pdq, md5, sha256");
  return Status::Ok();
}

}  // namespace

Status ParseHashQuery(const json& j, const std::string& where, HashQuery* out) {
  *out = HashQuery();
  Status s = Parse(j, out);
  if (!s.ok() && !where.empty()) return Status::InvalidArgument(where + s.message());
  return s;
}

base::BatchLeafItem HashQuery::Leaf() const {
  base::BatchLeafItem leaf;
  leaf.ref = ref;
  leaf.pdq = pdq;
  leaf.quality = quality;
  leaf.md5 = md5;
  leaf.sha256 = sha256;
  return leaf;
}

void HashQuery::ToScreenQuery(const ServerConfig& config, idx::ScreenQuery* q) const {
  const bool pdq_usable = quality < 0 || quality >= config.min_quality;
  const size_t n = !pdq_usable ? 0 : config.dihedral ? pdq.size() : std::min<size_t>(pdq.size(), 1);
  q->num_pdq = 0;
  for (size_t i = 0; i < n; ++i) {
    q->pdq[q->num_pdq] = pdq[i];
    q->labels[q->num_pdq++] = static_cast<uint8_t>(i);
  }
  q->use_pdq = q->num_pdq > 0;
  q->md5 = md5;
  q->sha256 = sha256;
}

}  // namespace server
