// What a run of the chip model measured. Filled by models/, reported by sim/.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "isa/isa.h"
#include "arch/activity.h"
#include "arch/arch_config.h"

namespace tasim {

enum class StallReason : int {
  semaphore,  // sem.wait blocked: a producer had not finished
  barrier,    // waiting for the other units at a barrier
  sram_port,  // SRAM port contention beyond the unloaded access time
  hbm,        // HBM channel contention beyond the unloaded transfer time
  starved,    // queue empty while the sequencer had not finished the program
  noc,        // on-chip network contention (a copy into another core's SRAM) beyond the unloaded time
  power,      // the chip holding its power limit (cost.power_limit_w) after a kernel or at the end
  host,       // the run outpacing the host's kernel issue (software.host_issue_ns), at its end
};
constexpr int kNumStallReasons = 8;
const char* stall_reason_name(StallReason r);

// What a unit did that adds up over a run (UnitStats is this plus the unit's identity).
struct UnitCounters {
  std::uint64_t instructions = 0;
  std::uint64_t busy_cycles = 0;  // executing matmul/vector/DMA work (memory stalls inside included)
  std::array<std::uint64_t, kNumStallReasons> stall_cycles{};
  // Matrix units: cycles the unit would need at peak MACs for the work it did (sum over matmuls
  // of MACs / peak MACs per cycle for the dtype). Divided by run cycles it is MAC utilization.
  double ideal_compute_cycles = 0.0;

  UnitCounters& operator+=(const UnitCounters& o);
  // This minus an earlier reading of the same unit (every counter only grows).
  UnitCounters since(const UnitCounters& earlier) const;
  UnitCounters times(std::uint64_t k) const;
};

struct UnitStats : UnitCounters {
  std::string name;  // "core0.mxu1"
  isa::UnitKind kind = isa::UnitKind::mxu;
  int core = 0;
  int index = 0;
};

// What the instructions of one model layer did (layer accounting: the programs' op tags named
// "layerN."). Layer reuse (sim/driver/layer_reuse.h) repeats the last simulated layer's work.
struct LayerWork {
  bool seen = false;
  std::uint64_t end_cycle = 0;     // the latest end of one of its instructions
  std::uint64_t instructions = 0;
  Activity activity;               // link_bytes: its collectives' bytes x hops
  // Per unit, in RunStats::units order: its counters while running this layer's instructions,
  // the waits before each of them included.
  std::vector<UnitCounters> units;
};

struct RunStats {
  int chips = 1;             // chips simulated (a multi-chip run adds up its chips' figures)
  std::uint64_t cycles = 0;
  double clock_ghz = 1.0;
  std::uint64_t instructions = 0;
  std::uint64_t flops = 0;
  std::uint64_t hbm_bytes_read = 0;
  std::uint64_t hbm_bytes_written = 0;
  double hbm_peak_bytes_per_cycle = 0.0;  // all simulated chips
  std::uint64_t sram_bytes_accessed = 0;
  std::vector<std::uint64_t> sram_peak_bytes;  // per core
  std::uint64_t sram_capacity_bytes = 0;        // per core
  std::vector<UnitStats> units;
  Activity activity;  // all chips; link_bytes from the interconnect (bytes x hops)
  std::vector<LayerWork> layers;  // by layer index, when the run accounted layers (else empty)

  double seconds() const { return static_cast<double>(cycles) / (clock_ghz * 1e9); }
  std::uint64_t hbm_bytes() const { return hbm_bytes_read + hbm_bytes_written; }
};

// A run of `kernels` kernels lasts at least kernels x software.host_issue_ns (the host issues no
// faster): raises stats.cycles to that and books the wait to every unit as host stalls. Idempotent.
void hold_host_issue(const ChipConfig& chip, RunStats& stats, std::uint64_t kernels);

}  // namespace tasim
