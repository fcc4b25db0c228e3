#include "sim/report/metrics.h"

#include <algorithm>

namespace tasim {

const char* kind_name(isa::UnitKind kind) {
  switch (kind) {
    case isa::UnitKind::dma: return "dma";
    case isa::UnitKind::mxu: return "matrix";
    case isa::UnitKind::vpu: return "vector";
    default: return "sequencer";
  }
}

RunMetrics compute_metrics(const RunStats& stats, const ChipConfig& chip) {
  RunMetrics m;
  m.seconds = stats.seconds();
  const double cycles = static_cast<double>(std::max<std::uint64_t>(1, stats.cycles));
  m.hbm_peak_gbps = chip.hbm.peak_gbps() * stats.chips;  // every simulated chip
  m.hbm_achieved_gbps = m.seconds > 0 ? static_cast<double>(stats.hbm_bytes()) / m.seconds / 1e9 : 0.0;
  double ideal_matrix_cycles = 0.0;
  for (const auto& u : stats.units) {
    KindSummary& k = m.kinds[kind_name(u.kind)];
    ++k.units;
    k.instructions += u.instructions;
    k.busy_cycles += u.busy_cycles;
    for (int r = 0; r < kNumStallReasons; ++r) m.stall_cycles[r] += u.stall_cycles[r];
    ideal_matrix_cycles += u.ideal_compute_cycles;
  }
  for (auto& [name, k] : m.kinds) k.busy_fraction = static_cast<double>(k.busy_cycles) / (cycles * k.units);
  const int matrix_units = m.kinds.count("matrix") ? m.kinds["matrix"].units : 0;
  m.utilization["matrix"] = matrix_units ? ideal_matrix_cycles / (cycles * matrix_units) : 0.0;
  m.utilization["vector"] = m.kinds.count("vector") ? m.kinds["vector"].busy_fraction : 0.0;
  m.utilization["dma"] = m.kinds.count("dma") ? m.kinds["dma"].busy_fraction : 0.0;
  m.utilization["hbm"] = stats.hbm_bytes() / (cycles * stats.hbm_peak_bytes_per_cycle);
  for (auto b : stats.sram_peak_bytes) m.sram_peak_bytes = std::max(m.sram_peak_bytes, b);
  m.chip_area = chip_area(chip);
  m.area_mm2 = m.chip_area.total_mm2() * stats.chips;
  m.energy = run_energy(chip, stats.activity, m.seconds, stats.chips);
  m.avg_power_w = m.seconds > 0 ? m.energy.total_j() / m.seconds : 0.0;
  return m;
}

}  // namespace tasim
