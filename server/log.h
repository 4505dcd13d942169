// Structured one-line logs on stderr, in one of two formats:
//   text (default): `ts=... level=... msg="..." k=v ... request_id=...`
//   json: `{"time":"...","level":"...","message":"...","fields":{"k":"v"},"request_id":"..."}`
// A line written while a request is handled carries its id
// (server/request_id.h; request_id is left out when there is none).
// Callers pass only what may be logged: key ids, never key secrets; sizes,
// never image bytes. Values are quoted and escaped (text) or JSON-escaped
// with invalid UTF-8 replaced (json), so one event is one line.
//
// Thread-safety: Log may be called from any thread; lines never interleave.
// SetLogLevel/SetLogFormat are meant for start-up, before other threads log.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace server {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

void SetLogLevel(LogLevel level);
void SetLogFormat(LogFormat format);
LogLevel ParseLogLevel(std::string_view name);  // unknown names mean info
void Log(LogLevel level, std::string_view msg,
         std::initializer_list<std::pair<std::string_view, std::string>> fields = {});

// The line Log writes (with its '\n'), for tests; `time` is the timestamp text.
std::string FormatLogLine(LogFormat format, std::string_view time, LogLevel level, std::string_view msg,
                          std::initializer_list<std::pair<std::string_view, std::string>> fields,
                          std::string_view request_id);

}  // namespace server
