#include "sim/config/arch_figures.h"

#include <fmt/format.h>

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
  if (chip.system.chips > 1) out += "; " + system_figures(chip);
  return out;
}

}  // namespace tasim
