#include "arch/run_stats.h"

#include <cmath>

namespace tasim {

const char* stall_reason_name(StallReason r) {
  switch (r) {
    case StallReason::semaphore: return "semaphore";
    case StallReason::barrier: return "barrier";
    case StallReason::sram_port: return "sram_port";
    case StallReason::hbm: return "hbm";
    case StallReason::starved: return "starved";
    case StallReason::noc: return "noc";
    case StallReason::power: return "power";
    case StallReason::host: return "host";
  }
  return "?";
}

UnitCounters& UnitCounters::operator+=(const UnitCounters& o) {
  instructions += o.instructions;
  busy_cycles += o.busy_cycles;
  for (int r = 0; r < kNumStallReasons; ++r) stall_cycles[r] += o.stall_cycles[r];
  ideal_compute_cycles += o.ideal_compute_cycles;
  return *this;
}

UnitCounters UnitCounters::since(const UnitCounters& earlier) const {
  UnitCounters d;
  d.instructions = instructions - earlier.instructions;
  d.busy_cycles = busy_cycles - earlier.busy_cycles;
  for (int r = 0; r < kNumStallReasons; ++r) d.stall_cycles[r] = stall_cycles[r] - earlier.stall_cycles[r];
  d.ideal_compute_cycles = ideal_compute_cycles - earlier.ideal_compute_cycles;
  return d;
}

UnitCounters UnitCounters::times(std::uint64_t k) const {
  UnitCounters m;
  m.instructions = instructions * k;
  m.busy_cycles = busy_cycles * k;
  for (int r = 0; r < kNumStallReasons; ++r) m.stall_cycles[r] = stall_cycles[r] * k;
  m.ideal_compute_cycles = ideal_compute_cycles * static_cast<double>(k);
  return m;
}

void hold_host_issue(const ChipConfig& chip, RunStats& stats, std::uint64_t kernels) {
  const auto issued = static_cast<std::uint64_t>(
      std::ceil(static_cast<double>(kernels) * chip.software.host_issue_ns * chip.clock_ghz));
  if (issued <= stats.cycles) return;
  const std::uint64_t wait = issued - stats.cycles;
  stats.cycles = issued;
  for (UnitStats& u : stats.units) u.stall_cycles[static_cast<int>(StallReason::host)] += wait;
}

}  // namespace tasim
