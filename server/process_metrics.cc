#include "server/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "base/number_parse.h"
#include "base/version.h"

namespace server {

namespace {

std::string ReadSmallFile(const char* path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The fields of /proc/self/stat after the command name (which may hold
// spaces and parentheses, so the split starts after the last ')'): field 3
// (state) is fields[0].
std::vector<std::string> StatFields() {
  const std::string stat = ReadSmallFile("/proc/self/stat");
  std::vector<std::string> fields;
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream rest(stat.substr(close + 1));
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;
}

bool ToU64(const std::string& text, uint64_t* out) { return base::ParseUint(text, "proc", 0, UINT64_MAX, out).ok(); }

// Seconds since the epoch when the system booted (/proc/stat btime).
bool BootTime(uint64_t* out) {
  std::istringstream in(ReadSmallFile("/proc/stat"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("btime ", 0) == 0) return ToU64(line.substr(6), out);
  }
  return false;
}

}  // namespace

std::string PrometheusLabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void AppendProcessGauges(std::vector<Metrics::Gauge>* gauges) {
  const base::BuildInfo& b = base::Build();
  gauges->push_back({"hashscreen_build_info", "The running build: version, commit, compiler (always 1).", 1.0,
                     "version=\"" + PrometheusLabelValue(b.version) + "\",commit=\"" + PrometheusLabelValue(b.commit) +
                         "\",compiler=\"" + PrometheusLabelValue(b.compiler) + "\""});
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const std::vector<std::string> f = StatFields();
  // Fields 14 (utime), 15 (stime), 22 (starttime) of proc(5), counted from 1.
  uint64_t utime = 0, stime = 0, start = 0, boot = 0;
  if (f.size() > 19 && ticks > 0 && ToU64(f[11], &utime) && ToU64(f[12], &stime)) {
    gauges->push_back({"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                       static_cast<double>(utime + stime) / ticks, "", "counter"});
  }
  if (f.size() > 19 && ticks > 0 && ToU64(f[19], &start) && BootTime(&boot)) {
    gauges->push_back({"process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                       static_cast<double>(boot) + static_cast<double>(start) / ticks});
  }
  std::istringstream statm(ReadSmallFile("/proc/self/statm"));
  std::string size, resident;
  uint64_t pages = 0;
  if (statm >> size >> resident && ToU64(resident, &pages)) {
    gauges->push_back({"process_resident_memory_bytes", "Resident memory size in bytes.",
                       static_cast<double>(pages) * static_cast<double>(sysconf(_SC_PAGESIZE))});
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    uint64_t n = 0;
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
    gauges->push_back({"process_open_fds", "Number of open file descriptors.", static_cast<double>(n ? n - 1 : 0)});  // minus the one opendir holds
  }
}

}  // namespace server
