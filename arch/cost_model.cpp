#include "arch/cost_model.h"

#include <algorithm>
#include <cmath>

namespace tasim {

namespace {
constexpr double kUm2PerMm2 = 1e6;
constexpr double kJPerPj = 1e-12;
constexpr double kBitsPerByte = 8.0;
constexpr double kMiB = 1024.0 * 1024.0;

// Chip-to-chip ports a chip drives and the bandwidth of each, one direction.
double link_port_gbps_total(const SystemConfig& system) {
  if (system.chips <= 1) return 0.0;
  if (system.topology == Topology::switched) return system.switch_.gbps_per_port;
  return system.link.ports_per_chip * system.link.gbps_per_direction;
}
}  // namespace

double pe_area_um2(const ChipConfig& chip) {
  double area = 0.0;
  for (int d = 0; d < isa::kNumDTypes; ++d) {
    area = std::max(area, chip.core.matrix.macs_per_pe_per_cycle[d] * chip.cost.mac_area_um2[d]);
  }
  return area;
}

AreaBreakdown chip_area(const ChipConfig& chip) {
  const CostConfig& c = chip.cost;
  const CoreConfig& core = chip.core;
  AreaBreakdown a;
  const double pes = static_cast<double>(chip.cores) * core.matrix.count * core.matrix.rows * core.matrix.cols;
  a.matrix_mm2 = pes * pe_area_um2(chip) / kUm2PerMm2;
  const double lanes = static_cast<double>(chip.cores) * core.vector.count * core.vector.lanes;
  a.vector_mm2 = lanes * c.vector_lane_area_um2 / kUm2PerMm2;
  a.sram_mm2 = static_cast<double>(chip.cores) * static_cast<double>(core.sram.capacity_bytes) / kMiB * c.sram_mm2_per_mib;
  a.hbm_phy_mm2 = chip.hbm.stacks * c.hbm_phy_mm2_per_stack;
  a.link_phy_mm2 = link_port_gbps_total(chip.system) * c.link_phy_mm2_per_gbps;
  a.other_mm2 = c.other_area_mm2;
  return a;
}

EnergyBreakdown dynamic_energy(const CostConfig& c, const Activity& act) {
  EnergyBreakdown e;
  for (int d = 0; d < isa::kNumDTypes; ++d) e.matrix_j += static_cast<double>(act.macs[d]) * c.pj_per_mac[d] * kJPerPj;
  e.vector_j = static_cast<double>(act.vector_elements) * c.vector_pj_per_element * kJPerPj;
  e.sram_j = (static_cast<double>(act.sram_bytes_read) * c.sram_pj_per_byte_read +
              static_cast<double>(act.sram_bytes_written) * c.sram_pj_per_byte_written) * kJPerPj;
  e.hbm_j = static_cast<double>(act.hbm_bytes_read + act.hbm_bytes_written) * kBitsPerByte * c.hbm_pj_per_bit * kJPerPj;
  e.noc_j = static_cast<double>(act.noc_bytes) * kBitsPerByte * c.noc_pj_per_bit * kJPerPj;
  e.link_j = static_cast<double>(act.link_bytes) * kBitsPerByte * c.link_pj_per_bit * kJPerPj;
  return e;
}

double static_power_w(const ChipConfig& chip) { return chip_area(chip).total_mm2() * chip.cost.static_w_per_mm2; }

EnergyBreakdown run_energy(const ChipConfig& chip, const Activity& activity, double seconds, int chips) {
  EnergyBreakdown e = dynamic_energy(chip.cost, activity);
  e.static_j = static_power_w(chip) * seconds * chips;
  return e;
}

double power_limited_seconds(const ChipConfig& chip, double dynamic_j, double seconds) {
  if (!chip.cost.power_limited()) return seconds;
  const double headroom_w = chip.cost.power_limit_w - static_power_w(chip);  // > 0: checked when loaded
  if (headroom_w <= 0) return seconds;
  return std::max(seconds, dynamic_j / headroom_w);
}

void hold_run_power_limit(const ChipConfig& chip, RunStats& stats) {
  if (!chip.cost.power_limited() || chip.software.kernel_boundaries() || stats.cycles == 0) return;
  const double seconds = stats.seconds();
  const double dynamic_j = dynamic_energy(chip.cost, stats.activity).total_j() / std::max(1, stats.chips);
  const double held_s = power_limited_seconds(chip, dynamic_j, seconds);
  const auto target = static_cast<std::uint64_t>(std::ceil(held_s * stats.clock_ghz * 1e9));
  if (target <= stats.cycles) return;
  const std::uint64_t wait = target - stats.cycles;
  stats.cycles = target;
  for (UnitStats& u : stats.units) u.stall_cycles[static_cast<int>(StallReason::power)] += wait;
}

}  // namespace tasim
