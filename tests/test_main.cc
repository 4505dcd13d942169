// The shared doctest main. One addition to doctest's own: a run that was
// given a test-case filter but executed no test case fails, because CTest
// runs each case by name and a name that no longer matches (renamed, or cut
// in two by a ';', which CMake treats as a list separator) would otherwise
// "pass" without testing anything. Another: std::terminate (an exception
// leaving a thread or a destructor, a joinable thread destroyed) prints what
// it can before the abort, which doctest alone reports only as SIGABRT.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <execinfo.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <typeinfo>

namespace {

int g_cases_run = 0;

struct CountingListener : doctest::IReporter {
  explicit CountingListener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData&) override { ++g_cases_run; }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
DOCTEST_REGISTER_LISTENER("counting", 1, CountingListener);

// The exception in flight, if any, and the stack, to stderr; then abort.
[[noreturn]] void ReportTerminate() {
  std::fprintf(stderr, "std::terminate called");
  if (std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::fprintf(stderr, " with %s: %s", typeid(x).name(), x.what());
    } catch (...) {
      std::fprintf(stderr, " with an exception not derived from std::exception");
    }
  } else {
    std::fprintf(stderr, " with no exception in flight (a joinable std::thread destroyed?)");
  }
  std::fprintf(stderr, "\nstack:\n");
  void* frames[64];
  backtrace_symbols_fd(frames, backtrace(frames, 64), STDERR_FILENO);
  std::abort();
}

bool HasArg(int argc, char** argv, const char* prefix) {
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], prefix, std::strlen(prefix)) == 0) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::set_terminate(ReportTerminate);
  doctest::Context context(argc, argv);
  const int status = context.run();
  // Queries (--help, --version, --count, --list-test-cases, ...) run nothing by design.
  for (const char* query : {"-h", "-?", "--help", "-v", "--version", "-c", "--count", "-l", "--list"})
    if (HasArg(argc, argv, query)) return status;
  const bool filtered = HasArg(argc, argv, "--test-case=") || HasArg(argc, argv, "-tc=");
  if (status == 0 && filtered && g_cases_run == 0) {
    std::fprintf(stderr, "error: the test-case filter matched no test case (a ';' in a test name splits it for CTest)\n");
    return 1;
  }
  return status;
}
