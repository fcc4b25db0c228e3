// scripts/bench: the speed benchmark runs, prints its table, writes CSV, cleans up its traces and
// fails when tasim fails. Wall-clock figures are never checked (machines are noisy).
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <cmath>

#include <array>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli_util.h"

using namespace tasim::testing;
namespace fs = std::filesystem;

namespace {

CommandResult run_shell(const std::string& cmd) { return run_command(cmd + " 2>&1"); }

bool have_python3() { return run_shell("command -v python3 >/dev/null").exit_code == 0; }

// A fresh, empty directory for the script's temporary files (TMPDIR), so the test can check that
// nothing is left behind.
std::string fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(TASIM_BINARY_DIR) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string bench(const std::string& tmpdir, const std::string& args) {
  return "TMPDIR='" + tmpdir + "' python3 '" + source_path("scripts/bench") + "' " + args;
}

}  // namespace

TEST_CASE("scripts/bench --quick prints the table, writes CSV and deletes its traces", "[bench]") {
  // With --exact-check: each case again with --exact, and layer reuse's error beside it.
  if (!have_python3()) {
    WARN("python3 is not installed: scripts/bench not tested");
    return;
  }
  const std::string tmp = fresh_dir("bench_quick_tmp");
  const std::string csv = build_path("bench_quick.csv");
  fs::remove(csv);
  const auto r = run_shell(bench(tmp, "--quick --exact-check --tasim '" + build_path("tasim") + "' --out '" + csv + "'"));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const char* s : {"| case", "layers simulated", "step instructions", "wall s", "instructions / wall s",
                        "peak MiB", "simulated step time", "trace size", "--exact wall s", "reuse error", "same counts",
                        "goal", "<=1 GiB", "reuse error <=1%", "llama-3-8b decode", "llama-3-8b prefill"}) {
    CHECK_THAT(r.output, Catch::Contains(s));
  }
  CHECK(fs::is_empty(tmp));  // the traces and reports went to TMPDIR and were deleted

  const auto rows = lines_of(read_file(csv));
  REQUIRE(rows.size() == 3);  // header + the two quick cases
  CHECK(rows[0].rfind("case,layers,instructions,wall_s,instructions_per_wall_s,peak_mib,step_seconds,cycles,trace_bytes,"
                      "exact_wall_s,exact_peak_mib,reuse_error,counts_equal,goal,goal_met,command",
                      0) == 0);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    // case,instructions,...: a positive instruction count and a non-empty trace.
    std::vector<std::string> cells;
    std::string cell;
    bool quoted = false;
    for (char ch : rows[i]) {
      if (ch == '"') {
        quoted = !quoted;
      } else if (ch == ',' && !quoted) {
        cells.push_back(cell);
        cell.clear();
      } else if (ch != '\r') {
        cell += ch;
      }
    }
    cells.push_back(cell);
    REQUIRE(cells.size() == 16);
    CHECK(cells[1] == "4/32");         // layers simulated
    CHECK(std::stoull(cells[2]) > 0);  // instructions
    CHECK(std::stod(cells[6]) > 0);    // simulated step seconds
    CHECK(std::stoull(cells[8]) > 0);  // trace bytes
    CHECK(std::abs(std::stod(cells[11])) <= 0.01);  // reuse error against --exact
    CHECK(cells[12] == "yes");                      // the same instructions, FLOPs and HBM bytes
  }
}

TEST_CASE("scripts/bench fails when tasim fails and leaves nothing behind", "[bench]") {
  if (!have_python3()) {
    WARN("python3 is not installed: scripts/bench not tested");
    return;
  }
  const std::string tmp = fresh_dir("bench_fail_tmp");
  const auto r = run_shell(bench(tmp, "--quick --tasim /bin/false"));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("tasim failed"));
  CHECK(fs::is_empty(tmp));

  const auto bad = run_shell(bench(tmp, "--repeat 0"));
  CHECK(bad.exit_code == 2);
}
