#include "client/listing.h"

namespace client {

Status FetchListing(ApiClient& api, const std::vector<std::string>& args, const std::string& path, Listing* out) {
  for (const auto& a : args) {
    if (a != "--json") return Status::InvalidArgument("unknown option " + a + " (see --help)");
    out->as_json = true;
  }
  ApiAnswer answer;
  HS_RETURN_IF_ERROR(api.Get(path, &answer));
  if (answer.status != 200) return Status::Unavailable(answer.ErrorMessage());
  out->page = nlohmann::json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
  if (out->page.is_discarded()) return Status::Corruption("the server's answer to GET " + path + " is not JSON");
  return Status::Ok();
}

}  // namespace client
