// Command: one `hashscreen` subcommand. main.cc holds the table; each command
// lives in its own file and gets argv after the subcommand name.
// Exit codes are the command's contract (DESIGN.md section 6).
#pragma once

#include <string>
#include <vector>

namespace client {

struct Command {
  const char* name;
  const char* summary;  // one line for `hashscreen --help`
  int (*run)(const std::vector<std::string>& args);
};

// Defined in the command's own file.
int RunHash(const std::vector<std::string>& args);
int RunScreen(const std::vector<std::string>& args);
int RunScan(const std::vector<std::string>& args);
int RunLists(const std::vector<std::string>& args);
int RunAudit(const std::vector<std::string>& args);
int RunKeys(const std::vector<std::string>& args);
int RunExchanges(const std::vector<std::string>& args);
int RunHolds(const std::vector<std::string>& args);

}  // namespace client
