// The tasim command line: `tasim <command> [options]`. Returns the process exit code:
// 0 success, 2 bad input (one line on stderr), 1 internal error.
#pragma once

namespace tasim {

// Calls a test build (tests/sim/faulty_tasim_main.cpp) makes into the command line; the shipped
// `tasim` passes none.
struct CliHooks {
  void (*before_run)() = nullptr;  // at the start of `tasim run`
};

int cli_main(int argc, char** argv, const CliHooks& hooks = {});

}  // namespace tasim
