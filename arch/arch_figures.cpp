#include "arch/arch_figures.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "arch/cost_model.h"

namespace tasim {

double peak_matrix_flops_per_s(const ChipConfig& chip, isa::DType dtype) {
  const auto& m = chip.core.matrix;
  const double macs_per_cycle = static_cast<double>(m.macs_per_pe_per_cycle[static_cast<int>(dtype)]) *
                                m.rows * m.cols * m.count * chip.cores;
  return 2.0 * macs_per_cycle * chip.clock_ghz * 1e9;
}

double peak_matrix_tflops(const ChipConfig& chip, isa::DType dtype) {
  return peak_matrix_flops_per_s(chip, dtype) / 1e12;
}

double hbm_peak_bytes_per_s(const ChipConfig& chip) { return chip.hbm.peak_gbps() * 1e9; }

double hbm_peak_tbps(const ChipConfig& chip) { return hbm_peak_bytes_per_s(chip) / 1e12; }

std::uint64_t sram_total_bytes(const ChipConfig& chip) {
  return chip.core.sram.capacity_bytes * static_cast<std::uint64_t>(chip.cores);
}

double sram_bytes_per_cycle_per_core(const ChipConfig& chip) {
  return static_cast<double>(chip.core.sram.ports) * chip.core.sram.bytes_per_cycle_per_port;
}

double vector_peak_elements_per_s(const ChipConfig& chip) {
  return static_cast<double>(chip.core.vector.lanes) * chip.core.vector.count * chip.cores *
         chip.clock_ghz * 1e9;
}

double peak_power_w(const ChipConfig& chip) {
  const CostConfig& c = chip.cost;
  const CoreConfig& core = chip.core;
  const double hz = chip.clock_ghz * 1e9;
  auto count = [](double per_s) { return static_cast<std::uint64_t>(std::ceil(per_s)); };
  Activity second;  // one second of every unit at its peak rate
  int costliest = 0;
  for (int d = 1; d < isa::kNumDTypes; ++d) {
    if (core.matrix.macs_per_pe_per_cycle[d] * c.pj_per_mac[d] >
        core.matrix.macs_per_pe_per_cycle[costliest] * c.pj_per_mac[costliest]) {
      costliest = d;
    }
  }
  second.macs[costliest] = count(peak_matrix_flops_per_s(chip, static_cast<isa::DType>(costliest)) / 2.0);
  const double fastest_cycles_per_element =
      *std::min_element(core.vector.cycles_per_element.begin(), core.vector.cycles_per_element.end());
  second.vector_elements = count(vector_peak_elements_per_s(chip) / fastest_cycles_per_element);
  // Ports that proceed at once: each needs a bank of its own (arch/sram.h).
  const double sram_bytes = static_cast<double>(chip.cores) * std::max(1, std::min(core.sram.ports, core.sram.banks)) *
                            core.sram.bytes_per_cycle_per_port * hz;
  (c.sram_pj_per_byte_read >= c.sram_pj_per_byte_written ? second.sram_bytes_read : second.sram_bytes_written) =
      count(sram_bytes);
  second.hbm_bytes_read = count(hbm_peak_bytes_per_s(chip));
  // A core takes copies in through one crossbar port, or up to 4 mesh links.
  if (chip.cores > 1) {
    second.noc_bytes = count(chip.cores * chip.noc.gbps_per_link * 1e9 * (chip.noc.topology == NocTopology::mesh ? 4 : 1));
  }
  // Every directed link a chip drives (behind a switch: its up and down link) busy all the time.
  if (chip.system.chips > 1) {
    const double gbps = chip.system.topology == Topology::switched ? 2 * chip.system.switch_.gbps_per_port
                                                                  : chip.system.link.ports_per_chip *
                                                                        chip.system.link.gbps_per_direction;
    second.link_bytes = count(gbps * 1e9);
  }
  return dynamic_energy(c, second).total_j() + static_power_w(chip);
}

double ridge_flops_per_byte(const ChipConfig& chip, isa::DType dtype) {
  return peak_matrix_flops_per_s(chip, dtype) / hbm_peak_bytes_per_s(chip);
}

namespace {

// At least three significant figures, no exponent: 0.064, 4.10, 27.5, 275, 6291.
std::string figure(double v) {
  if (v >= 100) return fmt::format("{:.0f}", v);
  if (v >= 10) return fmt::format("{:.1f}", v);
  if (v >= 1) return fmt::format("{:.2f}", v);
  return fmt::format("{:.3f}", v);
}

}  // namespace

int torus_grid_rows(const SystemConfig& system) {
  if (system.torus_rows != 0) return system.torus_rows;
  int rows = 1;
  for (int r = 1; r * r <= system.chips; ++r) {
    if (system.chips % r == 0) rows = r;
  }
  return rows;
}

std::string system_figures(const ChipConfig& chip) {
  const SystemConfig& s = chip.system;
  if (s.chips == 1) return "1 chip";
  const std::string links = fmt::format("{} links x {:g} GB/s/dir per chip", s.link.ports_per_chip,
                                        s.link.gbps_per_direction);
  switch (s.topology) {
    case Topology::ring: return fmt::format("{} chips, ring, {}", s.chips, links);
    case Topology::torus2d: {
      const int rows = torus_grid_rows(s);
      return fmt::format("{} chips, torus2d {} x {}, {}", s.chips, rows, s.chips / rows, links);
    }
    case Topology::fully_connected: return fmt::format("{} chips, fully-connected, {}", s.chips, links);
    case Topology::switched:
      return fmt::format("{} chips, switch {:g} GB/s/dir per chip", s.chips, s.switch_.gbps_per_port);
    case Topology::mesh2d:  // on-chip networks only; the schema offers no mesh of chips
      break;
  }
  return fmt::format("{} chips", s.chips);
}

std::string headline_figures(const ChipConfig& chip) {
  constexpr double kMiB = 1024.0 * 1024.0;
  constexpr double kGiB = kMiB * 1024.0;
  std::string out = fmt::format("bf16 {} TFLOP/s, fp8 {} TFLOP/s, HBM {} TB/s, {:g} GiB, SRAM {:g} MiB",
                                figure(peak_matrix_tflops(chip, isa::DType::bf16)),
                                figure(peak_matrix_tflops(chip, isa::DType::fp8)), figure(hbm_peak_tbps(chip)),
                                static_cast<double>(chip.hbm.capacity_bytes) / kGiB,
                                static_cast<double>(sram_total_bytes(chip)) / kMiB);
  out += fmt::format(", {:.0f} mm^2, peak {:.0f} W", chip_area(chip).total_mm2(), peak_power_w(chip));
  if (chip.system.chips > 1) out += "; " + system_figures(chip);
  return out;
}

}  // namespace tasim
