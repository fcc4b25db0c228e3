// Headline figures of a chip, computed from its ChipConfig: one function per formula, used by
// `tasim presets`, reports and tests alike (so a peak is never computed two ways).
#pragma once

#include <cstdint>
#include <string>

#include "arch/arch_config.h"

namespace tasim {

// Dense matrix peak of the whole chip for one input dtype: 2 FLOPs per MAC x MACs per PE per
// cycle x rows x cols x matrix units x cores x clock.
double peak_matrix_flops_per_s(const ChipConfig& chip, isa::DType dtype);
double peak_matrix_tflops(const ChipConfig& chip, isa::DType dtype);

// Peak HBM bandwidth of the chip (all channels, one direction), bytes/s and TB/s (1e12 bytes/s).
double hbm_peak_bytes_per_s(const ChipConfig& chip);
double hbm_peak_tbps(const ChipConfig& chip);

// On-chip SRAM of the whole chip (every core).
std::uint64_t sram_total_bytes(const ChipConfig& chip);
// SRAM bandwidth of one core: ports x port width.
double sram_bytes_per_cycle_per_core(const ChipConfig& chip);

// Vector elements the chip processes per second on 1 cycle/element ops (every lane of every
// vector unit of every core).
double vector_peak_elements_per_s(const ChipConfig& chip);

// Power if every unit ran at its peak rate at once (matrix arrays on their costliest dtype,
// vector lanes on their fastest op, every SRAM port, HBM, the NoC and every link at full
// bandwidth) plus static power: an upper bound on any run's average power (arch/cost_model.h
// prices each activity).
double peak_power_w(const ChipConfig& chip);

// FLOPs per HBM byte at which a kernel turns from bandwidth- to compute-bound (roofline ridge).
double ridge_flops_per_byte(const ChipConfig& chip, isa::DType dtype);

// Rows of a torus2d grid of system.chips: torus_rows, or when 0 the largest divisor of chips not
// above its square root (16 -> 4 x 4, 8 -> 2 x 4; a prime count gives 1 row, which the loader
// rejects for torus2d).
int torus_grid_rows(const SystemConfig& system);

// The multi-chip system in a few words: "1 chip", "8 chips, switch 450 GB/s/dir per chip",
// "16 chips, torus2d 4 x 4, 4 links x 100 GB/s/dir per chip".
std::string system_figures(const ChipConfig& chip);

// "bf16 275 TFLOP/s, fp8 275 TFLOP/s, HBM 1.20 TB/s, 32 GiB, SRAM 32 MiB" (per chip), followed by
// "; 8 chips, ..." (system_figures) for a multi-chip system.
std::string headline_figures(const ChipConfig& chip);

}  // namespace tasim
