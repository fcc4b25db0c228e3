// Matrix unit timing: an R x C systolic array running an M x N x K GEMM (A: M x K, B: K x N,
// C = A B), with ideal memory. The cycle count equals the compute cycles SCALE-Sim v2 reports for
// the same GEMM (checked against SCALE-Sim runs in tests/data/scalesim_gemm_reference.csv).
//
// Each dataflow keeps one operand in the PEs and maps two GEMM dimensions onto the array ("spatial",
// tiled into folds) and streams the third through it over time (T):
//
//   dataflow            array rows (Sr)   array cols (Sc)   time (T)   cycles per fold
//   ws (B in PEs)       K                 N                 M          2R + C + T - 2
//   is (A in PEs)       K                 M                 N          2R + C + T - 2
//   os (C in PEs)       M                 N                 K           R + C + T - 2
//
//   folds  = ceil(Sr / R) * ceil(Sc / C)
//   cycles = folds * cycles_per_fold - 1
//
// Fill and drain are paid in every fold, because SCALE-Sim (like a simple array controller) lets a
// fold's results drain before the next fold starts:
// - ws/is: R cycles to shift the stationary tile into the array, then T rows of the streamed operand
//   enter, skewed by one cycle per array row (R - 1) so the reduction along K meets its partial sums,
//   and C - 1 cycles for the last streamed value to cross the columns.
// - os: both operands stream for T = K cycles, skewed by R - 1 and C - 1 cycles across the edges;
//   the finished outputs are shifted out within that skew.
// A partial fold (an edge tile smaller than R x C) costs a full fold: the skew and fill depend on the
// array's size, not on how many PEs the tile uses, and the idle PEs cannot start the next tile.
// The final -1 is SCALE-Sim's convention: it reports the 0-based cycle of the last output write.
//
// The only place this departs from SCALE-Sim is a 1 x 1 array in os, where the count above falls one
// cycle below the M*N*K MACs the single PE must do (SCALE-Sim reports 0 cycles for a 1x1x1 GEMM there
// and then fails dividing by it); the result is clamped to the roofline bound ceil(MNK / (R C)).
#pragma once

#include <cstdint>

#include "isa/isa.h"
#include "arch/arch_config.h"

namespace tasim::timing {

// SCALE-Sim v2 compute cycles of an M x N x K GEMM (A: MxK, B: KxN) on an R x C array, ideal memory.
// 0 when any of m, n, k is 0 (nothing to compute). Throws tasim::Error when rows or cols < 1.
std::uint64_t systolic_gemm_cycles(int rows, int cols, Dataflow df, std::uint64_t m, std::uint64_t n,
                                   std::uint64_t k);
// The same array with a double-buffered stationary operand (ws, is): every fold after the first
// hides its R-cycle load behind the previous fold's stream, saving min(R, T) cycles per fold.
std::uint64_t systolic_gemm_cycles_double_buffered(int rows, int cols, Dataflow df, std::uint64_t m,
                                                   std::uint64_t n, std::uint64_t k);

// Folds (tiles of the array) the GEMM needs: row folds x column folds for the dataflow's mapping.
std::uint64_t systolic_folds(int rows, int cols, Dataflow df, std::uint64_t m, std::uint64_t n, std::uint64_t k);

// Cycles on a configured matrix unit for an input dtype: a factor f = macs_per_pe_per_cycle[dtype] models
// dot-product PEs consuming f reduction elements per cycle, i.e. the GEMM runs as K' = ceil(K / f).
std::uint64_t matmul_cycles(const MatrixUnitConfig& mxu, isa::DType dtype, std::uint64_t m, std::uint64_t n,
                            std::uint64_t k);

// Peak MACs per cycle of the unit for the dtype: rows * cols * f.
std::uint64_t peak_macs_per_cycle(const MatrixUnitConfig& mxu, isa::DType dtype);

// Fraction of peak: m*n*k / (cycles * peak_macs_per_cycle), in [0, 1]; 0 for an empty GEMM.
double matmul_utilization(const MatrixUnitConfig& mxu, isa::DType dtype, std::uint64_t m, std::uint64_t n,
                          std::uint64_t k);

}  // namespace tasim::timing
