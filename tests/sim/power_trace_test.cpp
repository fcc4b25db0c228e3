// The trace's Power counters and the report's energy_j price the same activity: on a program that
// uses every opcode of the ISA (tests/data/every_opcode.tasm, 2 chips of 2 cores, with a copy into
// the other core's SRAM and chip-to-chip traffic), the counters integrate to energy_j within
// 0.1%, with the memories timed and with ideal memory.
#include <catch2/catch.hpp>

#include "arch/cost_model.h"
#include "cli_util.h"
#include "power_trace.h"
#include "sim/config/arch_loader.h"
#include "sim/driver/simulate.h"

using namespace tasim;
using namespace tasim::testing;

namespace {

void check_power_matches_energy(bool ideal_memory, const std::string& trace_name) {
  const ChipConfig chip = load_arch("tpu-v4-like", {"system.chips=2"});
  const std::string text = read_file(source_path("tests/data/every_opcode.tasm"));
  // Chip 1 runs the same program with its peer, chip 0.
  std::string mirrored = text;
  for (std::size_t at = 0; (at = mirrored.find("chip=1 ", at)) != std::string::npos;) mirrored.replace(at, 7, "chip=0 ");
  const std::vector<isa::Program> programs = {isa::assemble(text, "every_opcode.tasm"),
                                              isa::assemble(mirrored, "every_opcode_chip1.tasm")};
  SimOptions options;
  options.ideal_memory = ideal_memory;
  options.trace_path = build_path(trace_name);
  const RunStats stats = simulate(chip, programs, options);
  const double energy_j = run_energy(chip, stats.activity, stats.seconds(), stats.chips).total_j();

  // The copy into core 1's SRAM crosses the on-chip network on each chip, timed or not.
  CHECK(stats.activity.noc_bytes == 2 * 32 * 128);
  CHECK(stats.activity.link_bytes > 0);
  const PowerTrace power = integrate_power(options.trace_path);
  CHECK(power.tracks == 2);
  CHECK(power.ends_at_zero);
  CHECK(power.joules == Approx(energy_j).epsilon(0.001));
}

}  // namespace

TEST_CASE("power counters integrate to energy_j on every opcode with memories timed", "[cost][trace][isa]") {
  check_power_matches_energy(false, "power_every_opcode.pftrace");
}

TEST_CASE("power counters integrate to energy_j on every opcode with ideal memory", "[cost][trace][isa]") {
  check_power_matches_energy(true, "power_every_opcode_ideal.pftrace");
}
