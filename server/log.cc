#include "server/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <nlohmann/json.hpp>

#include "server/request_id.h"

namespace server {

namespace {
std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::atomic<LogFormat> g_format{LogFormat::kText};
std::mutex g_mu;

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

void AppendValue(std::string* out, std::string_view v) {
  bool plain = !v.empty();
  for (char c : v) plain &= c > ' ' && c != '"' && c != '=' && c != '\\' && static_cast<unsigned char>(c) < 0x7f;
  if (plain) {
    out->append(v);
    return;
  }
  out->push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out->append(buf);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}
}  // namespace

void SetLogLevel(LogLevel level) { g_level = level; }
void SetLogFormat(LogFormat format) { g_format = format; }

LogLevel ParseLogLevel(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "warn") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

std::string FormatLogLine(LogFormat format, std::string_view time, LogLevel level, std::string_view msg,
                          std::initializer_list<std::pair<std::string_view, std::string>> fields,
                          std::string_view request_id) {
  std::string line;
  if (format == LogFormat::kJson) {
    nlohmann::json j{{"time", time}, {"level", LevelName(level)}, {"message", msg}};
    nlohmann::json& f = j["fields"] = nlohmann::json::object();
    for (const auto& [k, v] : fields) f[std::string(k)] = v;
    if (!request_id.empty()) j["request_id"] = request_id;
    // dump() escapes control characters, so the object stays on one line.
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = "ts=";
    line += time;
    line += " level=";
    line += LevelName(level);
    line += " msg=";
    AppendValue(&line, msg);
    for (const auto& [k, v] : fields) {
      line.push_back(' ');
      line.append(k);
      line.push_back('=');
      AppendValue(&line, v);
    }
    if (!request_id.empty()) {
      line += " request_id=";
      AppendValue(&line, request_id);
    }
  }
  line.push_back('\n');
  return line;
}

void Log(LogLevel level, std::string_view msg, std::initializer_list<std::pair<std::string_view, std::string>> fields) {
  if (level < g_level.load()) return;
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  int ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[96];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  const std::string line = FormatLogLine(g_format.load(), ts, level, msg, fields, CurrentRequestId());
  std::lock_guard<std::mutex> lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace server
