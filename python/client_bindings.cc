// hashscreen.Client: screens hashes in batches (POST /v1/screen/hashes/batch)
// through client::ApiClient, the CLI's connection: TLS verified against
// cacert, one keep-alive connection with TCP_NODELAY, plain http:// only to
// loopback, 429/503 waited out as the CLI does. One Client may be shared by
// threads: requests take turns on its connection (a mutex), with the GIL
// released while waiting and talking to the server. For parallel requests,
// one Client per thread.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pybind11/stl.h>

#include "base/hex.h"
#include "base/merkle.h"
#include "client/api_client.h"
#include "client/scan_sources.h"
#include "python/bindings.h"
#include "python/status_error.h"

namespace py = pybind11;
using nlohmann::json;

namespace pyhs {

namespace {

constexpr size_t kMaxBatch = 10000;  // the server's cap (limits.max_hash_batch_items)

class Client {
 public:
  Client(const std::optional<std::string>& server, const std::optional<std::string>& key,
         const std::optional<std::string>& cacert) {
    // The CLI's own option handling: the environment as fallback, the URL
    // checks and the loopback-only http:// rule.
    std::vector<std::string> args;
    if (server) args.insert(args.end(), {"--server", *server});
    if (key) args.insert(args.end(), {"--key", *key});
    if (cacert) args.insert(args.end(), {"--cacert", *cacert});
    ThrowIfError(client::TakeServerOptions(&args, &options_));
    if (options_.key.empty()) {
      throw StatusError(base::Status::InvalidArgument("no API key (pass key= or set HASHSCREEN_KEY)"));
    }
    api_ = std::make_unique<client::ApiClient>(options_);
  }

  const std::string& server() const { return options_.url; }

  py::list ScreenHashes(const py::iterable& items, size_t batch) {
    if (batch < 1 || batch > kMaxBatch) {
      throw StatusError(base::Status::InvalidArgument("batch must be 1.." + std::to_string(kMaxBatch)));
    }
    py::list results;
    std::vector<py::object> refs;
    json body_items = json::array();
    for (py::handle item : items) {
      if (!py::isinstance<py::dict>(item)) {
        throw StatusError(base::Status::InvalidArgument("items[" + std::to_string(py::len(results) + refs.size()) +
                                                        "]: a dict (a hash_bytes result with a 'ref') expected"));
      }
      body_items.push_back(ToItem(py::reinterpret_borrow<py::dict>(item), py::len(results) + refs.size()));
      refs.push_back(py::reinterpret_borrow<py::dict>(item)["ref"]);
      if (refs.size() == batch) Flush(&body_items, &refs, &results);
    }
    if (!refs.empty()) Flush(&body_items, &refs, &results);
    return results;
  }

 private:
  // One request item from a dict: "ref" (str, required), the PDQ hashes
  // ("aligned", as hash_bytes returns them, else "pdq": one hex string or a
  // list), "quality", "md5", "sha256" when present. Other keys (format,
  // width, ...) are not sent. The server validates the values.
  static json ToItem(const py::dict& d, size_t index) {
    const std::string where = "items[" + std::to_string(index) + "]";
    auto bad = [&](const std::string& what) { return StatusError(base::Status::InvalidArgument(where + ": " + what)); };
    if (!d.contains("ref") || !py::isinstance<py::str>(d["ref"])) throw bad("'ref' (str) is required");
    json item{{"ref", client::ScanRef(d["ref"].cast<std::string>())}};
    py::object pdq = d.contains("aligned") ? py::object(d["aligned"]) : d.contains("pdq") ? py::object(d["pdq"]) : py::object(py::none());
    if (py::isinstance<py::str>(pdq)) {
      item["pdq"] = json::array({pdq.cast<std::string>()});
    } else if (py::isinstance<py::list>(pdq) || py::isinstance<py::tuple>(pdq)) {
      json list = json::array();
      for (py::handle h : pdq) {
        if (!py::isinstance<py::str>(h)) throw bad("pdq hashes are hex strings");
        list.push_back(h.cast<std::string>());
      }
      item["pdq"] = std::move(list);
    } else if (!pdq.is_none()) {
      throw bad("'pdq'/'aligned' is a hex string or a list of them");
    }
    if (d.contains("quality") && !d["quality"].is_none()) {
      if (!py::isinstance<py::int_>(d["quality"])) throw bad("'quality' is an int");
      item["quality"] = d["quality"].cast<int64_t>();
    }
    for (const char* digest : {"md5", "sha256"}) {
      if (!d.contains(digest) || d[digest].is_none()) continue;
      if (!py::isinstance<py::str>(d[digest])) throw bad(std::string("'") + digest + "' is a hex string");
      item[digest] = d[digest].cast<std::string>();
    }
    return item;
  }

  // Checks the server's pooled no-match entry as `hashscreen scan` does: the
  // Merkle root over the no-match items' leaves (base/merkle.h), computed
  // from what was sent, must be the one the server audited. Corruption when
  // not (a server, or something between, that did not audit these items).
  static void CheckMerkleRoot(const json& sent, const json& answer) {
    if (!answer.contains("no_match_audit") || !answer["no_match_audit"].is_object()) return;
    const json& pooled = answer["no_match_audit"];
    const std::string id = pooled.value("audit_id", "");
    std::vector<base::Sha256Digest> leaves;
    const json& results = answer["results"];
    for (size_t i = 0; i < results.size(); ++i) {
      const json& r = results[i];
      if (!r.contains("match") || r["match"].get<bool>() || r["audit_id"].get<std::string>() != id) continue;
      const json& item = sent[i];
      const std::string ref = item["ref"].get<std::string>();
      std::vector<base::PdqHash> pdq;
      base::BatchLeafItem leaf;
      leaf.ref = ref;
      if (item.contains("pdq")) {
        for (const auto& h : item["pdq"]) {
          pdq.emplace_back();
          ThrowIfError(base::PdqHash::FromHex(h.get<std::string>(), &pdq.back()));
        }
      }
      leaf.pdq = pdq;
      leaf.quality = item.contains("quality") ? item["quality"].get<int>() : -1;
      if (item.contains("md5")) {
        leaf.md5.emplace();
        ThrowIfError(base::HexDecode(item["md5"].get<std::string>(), *leaf.md5));
      }
      if (item.contains("sha256")) {
        leaf.sha256.emplace();
        ThrowIfError(base::HexDecode(item["sha256"].get<std::string>(), *leaf.sha256));
      }
      leaves.push_back(base::BatchLeafHash(leaf));
    }
    if (leaves.empty()) return;
    base::Sha256Digest root{};
    ThrowIfError(base::MerkleRoot(leaves, &root));
    if (pooled.value("merkle_root", "") != base::HexEncode(root) || pooled.value("count", 0ull) != leaves.size()) {
      throw StatusError(base::Status::Corruption("the server's Merkle root for audit entry " + id +
                                                 " is not the one of the items sent"));
    }
  }

  void Flush(json* body_items, std::vector<py::object>* refs, py::list* results) {
    const json sent = std::move(*body_items);
    *body_items = json::array();
    const std::string body = json{{"items", sent}}.dump(-1, ' ', false, json::error_handler_t::replace);
    client::ApiAnswer a;
    base::Status s;
    {
      py::gil_scoped_release unlocked;
      std::lock_guard<std::mutex> lock(mu_);
      s = api_->PostRetrying("/v1/screen/hashes/batch", body, "application/json", &a);
    }
    ThrowIfError(s);
    json j = json::parse(a.body, nullptr, false);
    if (a.status != 200) {
      std::string code = "http_" + std::to_string(a.status);
      if (j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("code") &&
          j["error"]["code"].is_string()) {
        code = j["error"]["code"].get<std::string>();
      }
      throw StatusError(code, a.ErrorMessage() + " (HTTP " + std::to_string(a.status) + ")", a.status);
    }
    if (!j.is_object() || !j.contains("results") || !j["results"].is_array() || j["results"].size() != refs->size()) {
      throw StatusError(base::Status::Unavailable("unexpected answer from the server to a batch"));
    }
    py::list answered;
    for (size_t i = 0; i < refs->size(); ++i) {
      const json& r = j["results"][i];
      py::dict out;
      out["ref"] = (*refs)[i];  // the caller's ref, not the one cut to the server's rule
      if (r.is_object() && r.contains("error") && r["error"].is_object()) {
        py::dict error;
        error["code"] = r["error"].value("code", "error");
        error["message"] = r["error"].value("message", "");
        out["error"] = error;
      } else if (r.is_object() && r.contains("match") && r["match"].is_boolean() && r.contains("audit_id") &&
                 r["audit_id"].is_string()) {
        out["match"] = r["match"].get<bool>();
        out["audit_id"] = r["audit_id"].get<std::string>();
      } else {
        throw StatusError(base::Status::Unavailable("unexpected answer from the server to a batch"));
      }
      answered.append(out);
    }
    CheckMerkleRoot(sent, j);  // no verdict of the batch is given unless it holds
    for (py::handle out : answered) results->append(out);
    refs->clear();
  }

  client::ServerOptions options_;
  std::mutex mu_;
  std::unique_ptr<client::ApiClient> api_;
};

}  // namespace

void RegisterClient(py::module_& m) {
  py::class_<Client>(m, "Client", R"(A connection to a hashscreend for screening hashes.

Client(server=None, key=None, cacert=None): server defaults to $HASHSCREEN_SERVER,
else https://127.0.0.1:8443 (plain http:// only to loopback); key to
$HASHSCREEN_KEY (an ingest key with hash queries); cacert to $HASHSCREEN_CACERT
(the CA that signed the server's certificate; default: the system's).
One keep-alive TLS connection; safe to share between threads (requests take
turns), or make one per thread for parallel requests.)")
      .def(py::init<const std::optional<std::string>&, const std::optional<std::string>&,
                    const std::optional<std::string>&>(),
           py::arg("server") = py::none(), py::arg("key") = py::none(), py::arg("cacert") = py::none())
      .def_property_readonly("server", &Client::server)
      .def("screen_hashes", &Client::ScreenHashes, py::arg("items"), py::kw_only(), py::arg("batch") = kMaxBatch,
           R"(Screens hashed images against the server's lists, `batch` (1..10000) per request.

items: any iterable of dicts with a "ref" (str: what the answer names; sent cut to
256 bytes, control characters as '?') and hashes: a hash_bytes/hash_file result
(its "aligned" PDQ list, "quality", "md5", "sha256"), or "pdq" (hex or a list),
"md5", "sha256" given directly.
Returns a list in item order: {"ref", "match": bool, "audit_id": str} or
{"ref", "error": {"code", "message"}} (e.g. "probing_suspected").
Each batch's pooled no-match audit entry is checked as `hashscreen scan` does
(the Merkle root over the no-match items must be the one of the items sent):
Corruption when not. Raises PermissionDenied (key refused or without hash queries), InvalidArgument
(a malformed item: the server checks each), Unavailable (unreachable, overloaded
after retries): results of earlier batches are then lost to the caller, so
screen a unit of work (a shard) per call. Releases the GIL while waiting.)");
}

}  // namespace pyhs
