// Structured one-line logs on stderr: `ts=... level=... msg="..." k=v ...`.
// Callers pass only what may be logged: key ids, never key secrets; sizes,
// never image bytes. Values are quoted and escaped so one event is one line.
//
// Thread-safety: Log may be called from any thread; lines never interleave.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace server {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

void SetLogLevel(LogLevel level);
LogLevel ParseLogLevel(std::string_view name);  // unknown names mean info
void Log(LogLevel level, std::string_view msg,
         std::initializer_list<std::pair<std::string_view, std::string>> fields = {});

}  // namespace server
