// Programs with collectives run on every chip of a multi-chip system.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include "cli_util.h"

using namespace tasim::testing;

namespace {

const char* kAllReduceProgram = R"(dma.load engine=0 hbm_addr=0 sram_addr=0 rows=1 row_bytes=1048576
coll.allreduce engine=0 sram_addr=0 bytes=1048576 tag=1
dma.store engine=0 sram_addr=0 hbm_addr=0x200000 rows=1 row_bytes=1048576
halt
)";

}  // namespace

TEST_CASE("a program with a collective runs on every chip and waits for the links", "[multichip]") {
  const std::string prog = build_path("mc_allreduce.tasm");
  write_text(prog, kAllReduceProgram);
  const auto run = run_tasim("run --arch sohu-like-8x --program " + prog + " --json -", true);
  REQUIRE(run.exit_code == 0);
  const YAML::Node j = YAML::Load(run.output);
  CHECK(j["chips"].as<int>() == 8);
  CHECK(j["hbm_bytes"].as<std::uint64_t>() == 8ull * 2 * 1048576);  // each chip loads and stores 1 MiB
  // The same all-reduce alone, as `tasim collective` times it on the same links.
  const auto coll = run_tasim("collective --arch sohu-like-8x --op allreduce --bytes 1M --chips 8 --topology switch --json -", true);
  REQUIRE(coll.exit_code == 0);
  const double collective_s = YAML::Load(coll.output)["seconds"].as<double>();
  CHECK(j["seconds"].as<double>() > collective_s);
  // Less than the collective plus generous time for a 1 MiB load and store per chip.
  CHECK(j["seconds"].as<double>() < collective_s + 5e-6);
}

TEST_CASE("a collective on a single chip is rejected before simulation", "[multichip][errors]") {
  const std::string prog = build_path("mc_single.tasm");
  write_text(prog, kAllReduceProgram);
  const auto r = run_tasim("run --arch sohu-like --program " + prog);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("mc_single.tasm:2"));
  CHECK_THAT(r.output, Catch::Contains("multi-chip"));
}

TEST_CASE("one program run on every chip is checked as each chip's", "[system][errors]") {
  // c2c_exchange.tasm is chip 0's half of an exchange: on chip 1 its dma.send names chip 1 itself.
  // validate and run agree on it (validate checked only as chip 0 and called it valid).
  const std::string example = source_path("isa/examples/c2c_exchange.tasm");
  for (const std::string command : {"run --arch sohu-like-8x --program ", "validate --arch sohu-like-8x "}) {
    INFO(command);
    const auto r = run_tasim(command + example);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Catch::Contains("on chip 1, which runs the same program: "));
    CHECK_THAT(r.output, Catch::Contains("c2c_exchange.tasm:16: dma.send peer chip 1 is the program's own chip"));
    CHECK_THAT(r.output, !Catch::Contains("valid on"));
    if (command.rfind("run", 0) == 0) CHECK(lines_of(r.output).size() == 1);
  }
}
