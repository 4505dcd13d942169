// Request ids: one per HTTP request, so an operator can follow a request
// through the log, the caller's error body and the audit entry. A caller's
// `X-Request-Id` is kept when it is a token (RFC 9110 tchar: letters,
// digits and !#$%&'*+-.^_`|~) of 1..64 bytes; anything else is never
// reflected, not even escaped: a fresh id replaces it. Fresh ids are 128
// random bits in 32 lowercase hex digits (base/crypto.h).
//
// The current id is thread-local: the HTTP layer sets it with
// ScopedRequestId around everything it does for one request on one thread
// (deciding on the head, running the handler), and Log and
// ApiResponse::Error read it. Work a handler hands to other threads does not
// carry it.
//
// Thread-safety: every function may be called from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace server {

inline constexpr size_t kMaxRequestIdBytes = 64;

bool ValidRequestId(std::string_view id);
std::string NewRequestId();
// `offered` when valid, else a new id.
std::string AcceptRequestId(std::string_view offered);
// The id of a request with these header fields (names lower-cased): its
// X-Request-Id when there is exactly one and it is valid, else a new id (two
// of them: which one is meant is unclear, so neither).
std::string RequestIdOf(const std::vector<std::pair<std::string, std::string>>& headers);

// The id of the request this thread is working on, "" when none.
std::string_view CurrentRequestId();

// Makes `id` the current request id of this thread until destroyed (then
// the previous one is current again).
class ScopedRequestId {
 public:
  explicit ScopedRequestId(std::string_view id);
  ~ScopedRequestId();
  ScopedRequestId(const ScopedRequestId&) = delete;
  ScopedRequestId& operator=(const ScopedRequestId&) = delete;

 private:
  std::string previous_;
};

}  // namespace server
