#include "store/audit_checkpoint.h"

#include <vector>

#include "base/coding.h"
#include "base/crypto.h"
#include "base/hex.h"
#include "base/number_parse.h"

namespace store {

namespace {
constexpr std::string_view kPrefix = "audit-checkpoint";
constexpr std::string_view kVersion = "v1";
constexpr std::string_view kMacDomain = "hashscreen audit checkpoint v1";
constexpr size_t kMaxText = 512;

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}
}  // namespace

std::string AuditCheckpoint::MacFor(std::string_view key, std::string_view instance_id, uint64_t seq,
                                    const std::array<uint8_t, 32>& hash) {
  std::string message(kMacDomain);
  base::PutLengthPrefixed(&message, instance_id);
  base::PutU64(&message, seq);
  message.append(base::AsBytes(hash));
  return std::string(base::AsBytes(base::HmacSha256(key, message)));
}

std::string AuditCheckpoint::ToString() const {
  return std::string(kPrefix) + ":" + std::string(kVersion) + ":" + instance_id + ":" + std::to_string(seq) + ":" +
         base::HexEncode(hash) + ":" + (mac.empty() ? std::string("none") : base::HexEncode(std::string_view(mac)));
}

base::Status AuditCheckpoint::Parse(std::string_view text, AuditCheckpoint* out) {
  using base::Status;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n')) text.remove_prefix(1);
  if (text.size() > kMaxText) return Status::InvalidArgument("checkpoint: longer than " + std::to_string(kMaxText) + " characters");
  const std::vector<std::string_view> f = Split(text, ':');
  if (f.size() != 6 || f[0] != kPrefix) {
    return Status::InvalidArgument("checkpoint: expected audit-checkpoint:v1:INSTANCE:SEQ:HASH:MAC");
  }
  if (f[1] != kVersion) return Status::InvalidArgument("checkpoint: unknown version '" + std::string(f[1]) + "'");
  AuditCheckpoint cp;
  std::array<uint8_t, 16> instance{};
  if (!base::HexDecode(f[2], instance).ok() || base::HexEncode(instance) != f[2]) {
    return Status::InvalidArgument("checkpoint: the instance id must be 32 lowercase hex characters");
  }
  cp.instance_id = std::string(f[2]);
  HS_RETURN_IF_ERROR(base::ParseUint(f[3], "checkpoint seq", 0, UINT64_MAX, &cp.seq));
  HS_RETURN_IF_ERROR(base::HexDecode(f[4], cp.hash).WithContext("checkpoint hash"));
  if (f[5] != "none") {
    std::array<uint8_t, 32> mac{};
    HS_RETURN_IF_ERROR(base::HexDecode(f[5], mac).WithContext("checkpoint MAC"));
    cp.mac = std::string(base::AsBytes(mac));
  }
  if (cp.seq == 0 && cp.hash != std::array<uint8_t, 32>{}) {
    return Status::InvalidArgument("checkpoint: seq 0 (the empty log) has an all-zero hash");
  }
  *out = std::move(cp);
  return Status::Ok();
}

}  // namespace store
