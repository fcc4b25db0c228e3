// One sweep point as its own process (SystemC elaborates once per process): the sweep's own
// executable run as `tasim run ... --json -`, its stdout (the JSON report) and stderr captured.
#pragma once

#include <string>
#include <vector>

namespace tasim::sweep {

struct ChildResult {
  int exit_status = -1;    // when it exited
  int signal = 0;          // when a signal killed it
  bool timed_out = false;  // killed by us after the timeout
  bool stopped = false;    // killed by us because the sweep was interrupted (no result)
  std::string out;         // stdout
  std::string err;         // stderr
};

// Runs `exe args...` with `env` (NAME=value strings, the whole environment) in its own process
// group, stdin from /dev/null. Kills it (and its group) after `timeout_s` seconds (0 = never) or
// as soon as sweep_stop_requested(). The child dies with the sweep even if the sweep is killed.
ChildResult run_child(const std::string& exe, const std::vector<std::string>& args,
                      const std::vector<std::string>& env, double timeout_s);

// The `error` cell of a finished child: "" when it exited 0; its `tasim: error: ...` line (or the
// last line of its stderr, or "exit status N") when it failed; "killed by signal 11
// (Segmentation fault)"; "timed out after S s".
std::string child_error(const ChildResult& r, double timeout_s);

// SIGINT, SIGTERM and SIGHUP stop the sweep instead of killing it: running children are killed,
// finished rows stay on disk. Returns the signal received so far (0 = none).
void install_stop_handlers();
int sweep_stop_requested();

// This executable, for spawning points (/proc/self/exe).
std::string self_executable();

}  // namespace tasim::sweep
