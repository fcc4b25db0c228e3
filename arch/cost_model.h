// Area and energy of a chip from the per-component coefficients of its architecture
// (CostConfig). Area is a function of the architecture alone; energy of the activity a run
// counted (arch/activity.h) plus static power over the run's time. docs/cost.md has the
// formulas and the coefficients' sources.
#pragma once

#include <array>
#include <utility>

#include "arch/activity.h"
#include "arch/arch_config.h"
#include "arch/run_stats.h"

namespace tasim {

struct AreaBreakdown {
  double matrix_mm2 = 0.0;    // PEs of every matrix array
  double vector_mm2 = 0.0;    // vector lanes
  double sram_mm2 = 0.0;      // every core's SRAM
  double hbm_phy_mm2 = 0.0;   // HBM PHYs and controllers
  double link_phy_mm2 = 0.0;  // chip-to-chip ports (multi-chip systems only)
  double other_mm2 = 0.0;     // control, host interface, clocking
  // The blocks by the names reports use (JSON keys, text labels): the one list of them.
  std::array<std::pair<const char*, double>, 6> parts() const {
    return {{{"matrix", matrix_mm2},
             {"vector", vector_mm2},
             {"sram", sram_mm2},
             {"hbm_phy", hbm_phy_mm2},
             {"link_phy", link_phy_mm2},
             {"other", other_mm2}}};
  }
  double total_mm2() const {
    double sum = 0.0;
    for (const auto& [name, mm2] : parts()) sum += mm2;
    return sum;
  }
};

// One PE's area: its datapath must do macs_per_pe_per_cycle MACs of every dtype, so it is the
// largest over dtypes of that count x the dtype's MAC area.
double pe_area_um2(const ChipConfig& chip);
// One chip's die area.
AreaBreakdown chip_area(const ChipConfig& chip);

struct EnergyBreakdown {
  double matrix_j = 0.0;
  double vector_j = 0.0;
  double sram_j = 0.0;
  double hbm_j = 0.0;
  double noc_j = 0.0;
  double link_j = 0.0;
  double static_j = 0.0;
  // The parts by the names reports use (JSON keys, text labels): the one list of them.
  std::array<std::pair<const char*, double>, 7> parts() const {
    return {{{"matrix", matrix_j},
             {"vector", vector_j},
             {"sram", sram_j},
             {"hbm", hbm_j},
             {"noc", noc_j},
             {"link", link_j},
             {"static", static_j}}};
  }
  double total_j() const {
    double sum = 0.0;
    for (const auto& [name, j] : parts()) sum += j;
    return sum;
  }
  double dynamic_j() const { return total_j() - static_j; }
};

// Dynamic energy of `activity` (static_j = 0).
EnergyBreakdown dynamic_energy(const CostConfig& cost, const Activity& activity);
// Static power of one chip: static_w_per_mm2 x its area.
double static_power_w(const ChipConfig& chip);
// Energy of a run: `activity` over all `chips` chips, which each burn static power for `seconds`.
EnergyBreakdown run_energy(const ChipConfig& chip, const Activity& activity, double seconds, int chips);

// How long a stretch of one chip's work (a kernel, or a whole run) takes when the chip holds
// cost.power_limit_w (a GPU's power limit, held by lowering the clock). Energy per operation
// does not depend on the clock here (no voltage scaling), so the stretch burns `dynamic_j` at
// any clock; when the limit binds the chip burns exactly the limit on average, so the stretch
// takes dynamic_j / (limit - static power), whatever its mix of compute and memory: an energy
// roofline. `seconds` (the stretch at clock_ghz) when that is longer, or when no limit is set.
double power_limited_seconds(const ChipConfig& chip, double dynamic_j, double seconds);

// A run without kernel boundaries is one stretch for the power limit: raises stats.cycles to its
// power_limited_seconds, booking the wait as power stalls (for a step whose layers were
// extrapolated after the chip model held the limit over the simulated ones). Idempotent.
void hold_run_power_limit(const ChipConfig& chip, RunStats& stats);

}  // namespace tasim
