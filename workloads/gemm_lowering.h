// Lowers one GEMM, C (M x N, fp32) = A (M x K) x B (K x N), to a tiled program for one matrix
// unit of core 0: operands stream from HBM through SRAM with double buffering, so DMA overlaps
// the matrix unit, and semaphores order every producer/consumer pair.
#pragma once

#include <cstdint>

#include "isa/isa.h"
#include "arch/arch_config.h"
#include "workloads/graph.h"

namespace tasim::workloads {

struct GemmSpec {
  std::uint64_t m = 0, n = 0, k = 0;
  isa::DType dtype = isa::DType::bf16;
};

struct GemmTiling {
  std::uint64_t tile_m = 0, tile_n = 0, tile_k = 0;
};

// Largest array-aligned tiles whose double-buffered A and B tiles plus two C tiles fit in SRAM.
GemmTiling choose_gemm_tiling(const ChipConfig& chip, const GemmSpec& gemm);

// HBM layout: A at 0, B after A, C after B (each aligned to 4 KiB).
isa::Program lower_gemm(const ChipConfig& chip, const GemmSpec& gemm);

// The GEMM as the step compiler lowers a linear op, Y = X W with X = A (M x K, activations) and
// W = B (K x N, weights), over every core and matrix unit of the chip (tasim gemm --all-cores):
// a graph of that one op. A and B are in the GEMM's dtype; C is written in it too (the fp32
// accumulators are converted on the way out, as the step compiler does).
StepGraph whole_chip_gemm_graph(const GemmSpec& gemm);
// Its analytic figures: 2 M N K FLOPs; A, B and C each crossing HBM once.
std::uint64_t gemm_flops(const GemmSpec& gemm);
std::uint64_t gemm_min_hbm_bytes(const GemmSpec& gemm);

// The GEMM as one matmul instruction with its operands already in SRAM (A at 0, then B, then C):
// the SCALE-Sim comparison, for ideal memory. Throws Error when a dimension exceeds the ISA's
// 16-bit fields. single_matmul_sram_bytes is the SRAM its operands take.
isa::Program single_matmul_program(const GemmSpec& gemm);
std::uint64_t single_matmul_sram_bytes(const GemmSpec& gemm);

}  // namespace tasim::workloads
