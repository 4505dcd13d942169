#include "client/audit_prove.h"

#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "base/merkle.h"
#include "base/number_parse.h"
#include "client/scan_sources.h"

namespace client {

namespace {

using nlohmann::json;

int Usage(const std::string& what) {
  std::fprintf(stderr, "hashscreen audit prove: %s\n", what.c_str());
  return 2;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "hashscreen audit prove: %s\n", what.c_str());
  return 1;
}

struct Item {
  std::string ref;
  bool has_ref = false;
  std::string image;
  bool fast = false;  // the image was scanned with --fast: hash it the same way
  std::vector<base::PdqHash> pdq;
  int quality = -1;
  std::optional<base::Md5Digest> md5;
  std::optional<base::Sha256Digest> sha256;
};

// The side-file line of `audit_id`, or NotFound.
base::Status FindProofLine(const std::string& path, const std::string& audit_id, json* out) {
  std::ifstream in(path);
  if (!in) return base::Status::NotFound("cannot open " + path);
  std::string line;
  while (std::getline(in, line)) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("audit_id") && j["audit_id"] == audit_id) {
      *out = std::move(j);
      return base::Status::Ok();
    }
  }
  return base::Status::NotFound(path + " has no batch with audit entry " + audit_id);
}

base::Status ParseLeaves(const json& line, std::vector<base::Sha256Digest>* leaves) {
  if (!line.contains("leaves") || !line["leaves"].is_array()) return base::Status::InvalidArgument("no leaves");
  for (const auto& h : line["leaves"]) {
    if (!h.is_string()) return base::Status::InvalidArgument("a leaf is not a string");
    base::Sha256Digest d;
    HS_RETURN_IF_ERROR(base::HexDecode(h.get<std::string>(), d));
    leaves->push_back(d);
  }
  return base::Status::Ok();
}

}  // namespace

int AuditProve(ApiClient& api, const std::vector<std::string>& args) {
  std::string id, proofs;
  bool as_json = false;
  Item item;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      as_json = true;
      continue;
    }
    if (a == "--fast") {
      item.fast = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      if (!id.empty()) return Usage("one AUDIT_ID only (got " + id + " and " + a + ")");
      id = a;
      continue;
    }
    if (i + 1 >= args.size()) return Usage(a + " needs a value");
    const std::string& v = args[++i];
    base::Status s;
    if (a == "--proofs") {
      proofs = v;
    } else if (a == "--ref") {
      item.ref = v;
      item.has_ref = true;
    } else if (a == "--image") {
      item.image = v;
    } else if (a == "--pdq") {
      for (size_t start = 0; s.ok() && start <= v.size();) {
        size_t comma = v.find(',', start);
        if (comma == std::string::npos) comma = v.size();
        base::PdqHash h;
        s = base::PdqHash::FromHex(v.substr(start, comma - start), &h);
        item.pdq.push_back(h);
        start = comma + 1;
      }
      if (s.ok() && item.pdq.size() > 8) s = base::Status::InvalidArgument("at most 8 hashes");
      s = s.WithContext("--pdq");
    } else if (a == "--quality") {
      uint64_t q = 0;
      s = base::ParseUint(v, "--quality", 0, 100, &q);
      item.quality = static_cast<int>(q);
    } else if (a == "--md5") {
      base::Md5Digest d;
      s = base::HexDecode(v, d).WithContext("--md5");
      item.md5 = d;
    } else if (a == "--sha256") {
      base::Sha256Digest d;
      s = base::HexDecode(v, d).WithContext("--sha256");
      item.sha256 = d;
    } else {
      return Usage("unknown option " + a + " (see hashscreen audit --help)");
    }
    if (!s.ok()) return Usage(s.message());
  }
  if (id.empty()) return Usage("give the AUDIT_ID of the batch entry");
  if (proofs.empty()) return Usage("give --proofs FILE.merkle.jsonl (written by hashscreen scan --out FILE)");
  const bool by_hashes = !item.pdq.empty() || item.md5 || item.sha256;
  if (item.image.empty() == !by_hashes) return Usage("give the item either as --image SOURCE or as --pdq/--md5/--sha256");

  // The item's leaf, recomputed here.
  base::BatchLeafItem leaf_item;
  SourceHashes hashes;
  if (!item.image.empty()) {
    Source src;
    std::vector<uint8_t> bytes;
    base::Status s = FindSource(item.image, &src);
    if (s.ok()) s = ReadSource(src, 256ull << 20, false, &bytes);
    if (s.ok()) s = HashSource(bytes, 256ull << 20, item.fast, &hashes);
    if (!s.ok()) return Fail(item.image + ": " + s.message());
    if (!item.has_ref) item.ref = ScanRef(item.image);
    leaf_item = LeafOf(item.ref, hashes);
  } else {
    leaf_item.ref = item.ref;
    leaf_item.pdq = item.pdq;
    leaf_item.quality = item.quality;
    leaf_item.md5 = item.md5;
    leaf_item.sha256 = item.sha256;
  }
  const base::Sha256Digest leaf = base::BatchLeafHash(leaf_item);

  // The server's entry: a batch, with its count and root.
  ApiAnswer a;
  if (base::Status s = api.Get("/v1/audit/" + UrlEncode(id), &a); !s.ok()) return Fail(s.message());
  if (a.status != 200) return Fail("audit entry " + id + ": " + a.ErrorMessage());
  json entry = json::parse(a.body, nullptr, false);
  if (!entry.is_object() || entry.value("kind", "") != "batch") {
    return Fail("audit entry " + id + " is not a batch entry (only no-match items of hash batches have proofs)");
  }
  const std::string root_hex = entry.value("merkle_root", "");
  const uint64_t count = entry.value("count", 0ull);

  // The side file's leaves must give the server's root, so they are the
  // leaves the server audited.
  json line;
  std::vector<base::Sha256Digest> leaves;
  if (base::Status s = FindProofLine(proofs, id, &line); !s.ok()) return Fail(s.message());
  if (base::Status s = ParseLeaves(line, &leaves); !s.ok()) return Fail(proofs + ": " + s.message());
  base::Sha256Digest leaves_root{};
  if (leaves.size() != count || !base::MerkleRoot(leaves, &leaves_root).ok() || base::HexEncode(leaves_root) != root_hex) {
    return Fail("the leaves kept in " + proofs + " for entry " + id + " do not give its Merkle root: not the batch the server audited");
  }
  size_t index = leaves.size();
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (leaves[i] == leaf) {
      index = i;
      break;
    }
  }
  if (index == leaves.size()) {
    return Fail("NOT PROVEN: the item (ref \"" + item.ref + "\" with these hashes) is not among the " +
                std::to_string(count) + " no-match items of audit entry " + id);
  }
  std::vector<base::Sha256Digest> path;
  base::Sha256Digest from_path{};
  if (!base::MerklePath(leaves, index, &path).ok() ||
      !base::MerkleRootFromPath(leaf, index, count, path, &from_path).ok() || base::HexEncode(from_path) != root_hex) {
    return Fail("NOT PROVEN: the inclusion path does not give the entry's root");
  }
  json proof{{"audit_id", id},
             {"ref", item.ref},
             {"leaf", base::HexEncode(leaf)},
             {"index", index},
             {"count", count},
             {"merkle_root", root_hex},
             {"path", json::array()}};
  for (const auto& p : path) proof["path"].push_back(base::HexEncode(p));
  if (as_json) {
    std::printf("%s\n", proof.dump().c_str());
  } else {
    std::printf("PROVEN: \"%s\" is no-match item %zu of %llu in audit entry %s (Merkle root %s, %zu-hash path)\n",
                item.ref.c_str(), index, static_cast<unsigned long long>(count), id.c_str(), root_hex.c_str(),
                path.size());
  }
  return 0;
}

}  // namespace client
