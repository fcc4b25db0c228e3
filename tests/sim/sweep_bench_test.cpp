// scripts/bench-sweep: the sweep benchmark runs and prints its table; it fails when tasim fails.
// Wall-clock figures are never checked (machines are noisy).
#include <catch2/catch.hpp>
#include <string>

#include "cli_util.h"

using namespace tasim::testing;

TEST_CASE("scripts/bench-sweep --quick prints the overhead and sweep figures", "[sweep][bench]") {
  const auto r = run_command("'" + source_path("scripts/bench-sweep") + "' --quick --tasim '" +
                             build_path("tasim") + "' 2>&1");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const char* s :
       {"tasim sweep benchmark", "| figure", "tasim run alone, near-zero work, per run (10 runs)",
        "tasim sweep -j 1, same 10 points, wall per point", "< 50 ms", "of which the sweep's own",
        "Llama-3-8B decode sweep, 4 points, -j ", " ms |", " s |"}) {
    CHECK_THAT(r.output, Catch::Contains(s));
  }
}

TEST_CASE("scripts/bench-sweep refuses bad options and a missing tasim", "[sweep][bench]") {
  const std::string script = "'" + source_path("scripts/bench-sweep") + "'";
  const auto bad = run_command(script + " --frobnicate 2>&1");
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.output, Catch::Contains("unknown option '--frobnicate'"));
  const auto missing = run_command(script + " --tasim /nonexistent/tasim 2>&1");
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.output, Catch::Contains("no tasim executable at /nonexistent/tasim"));
  const auto help = run_command(script + " --help 2>&1");
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.output, Catch::Contains("Usage: scripts/bench-sweep"));
}
