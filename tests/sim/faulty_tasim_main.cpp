// tasim_faulty: the tasim command line with a fault the sweep tests inject, built only with the
// tests (the shipped tasim has no such hook). When TASIM_SWEEP_TEST_CRASH_POINT equals the
// TASIM_SWEEP_POINT a sweep sets for each point it runs, that point's `run` kills itself with
// SIGSEGV (leaving no core file), so tests can check that a crashing point is recorded and the
// sweep goes on. A sweep run by tasim_faulty runs its points with tasim_faulty too.
#include <sys/resource.h>

#include <csignal>
#include <cstdlib>
#include <cstring>

#include "sim/cli.h"

namespace {
void crash_if_test_point() {
  const char* crash = std::getenv("TASIM_SWEEP_TEST_CRASH_POINT");
  const char* point = std::getenv("TASIM_SWEEP_POINT");
  if (!crash || !point || std::strcmp(crash, point) != 0) return;
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  std::signal(SIGSEGV, SIG_DFL);
  std::raise(SIGSEGV);
}
}  // namespace

int main(int argc, char** argv) {
  tasim::CliHooks hooks;
  hooks.before_run = crash_if_test_point;
  return tasim::cli_main(argc, argv, hooks);
}

// libsystemc's own main() refers to sc_main; ours takes over, so this one is never called.
extern "C" int sc_main(int, char**) { return 0; }
