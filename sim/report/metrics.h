// Figures derived from a run, computed in one place for the text report, the JSON and tests.
#pragma once

#include <array>
#include <map>
#include <string>

#include "arch/arch_config.h"
#include "arch/cost_model.h"
#include "arch/run_stats.h"

namespace tasim {

struct KindSummary {
  int units = 0;
  std::uint64_t instructions = 0;
  std::uint64_t busy_cycles = 0;
  double busy_fraction = 0.0;  // busy cycles / (units x run cycles), in [0, 1]
};

struct RunMetrics {
  double seconds = 0.0;
  double hbm_achieved_gbps = 0.0;
  double hbm_peak_gbps = 0.0;
  // Unit kind -> fraction in [0, 1]: matrix = MAC utilization (useful MACs over peak MACs of all
  // matrix units), vector and dma = busy fraction, hbm = achieved over peak bandwidth.
  std::map<std::string, double> utilization;
  std::map<std::string, KindSummary> kinds;  // dma, matrix, vector
  std::array<std::uint64_t, kNumStallReasons> stall_cycles{};  // summed over units
  std::uint64_t sram_peak_bytes = 0;  // largest footprint of any core
  // Cost model (arch/cost_model.h): one chip's die, all simulated chips' area and energy.
  AreaBreakdown chip_area;
  double area_mm2 = 0.0;     // chip_area x chips simulated
  EnergyBreakdown energy;    // of the whole run, static power of every simulated chip included
  double avg_power_w = 0.0;  // energy / seconds
};

RunMetrics compute_metrics(const RunStats& stats, const ChipConfig& chip);
const char* kind_name(isa::UnitKind kind);  // "dma", "matrix", "vector"

}  // namespace tasim
