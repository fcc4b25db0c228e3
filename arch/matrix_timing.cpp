#include "arch/matrix_timing.h"

#include <algorithm>
#include <string>

#include "common/error.h"
#include "common/int_math.h"

namespace tasim::timing {
namespace {


void check_array(int rows, int cols) {
  if (rows < 1 || cols < 1) {
    throw Error("matrix unit: array must be at least 1 x 1, got " + std::to_string(rows) + " x " +
                std::to_string(cols));
  }
}

// The dataflow's mapping of GEMM dimensions: spatial along array rows, spatial along array columns,
// and streamed over time (see the table in matrix_timing.h).
struct Mapping {
  std::uint64_t spatial_rows;
  std::uint64_t spatial_cols;
  std::uint64_t temporal;
};

Mapping map_gemm(Dataflow df, std::uint64_t m, std::uint64_t n, std::uint64_t k) {
  switch (df) {
    case Dataflow::ws: return {k, n, m};  // weights B (K x N) stay in the PEs, rows of A stream
    case Dataflow::is: return {k, m, n};  // inputs A^T (K x M) stay in the PEs, columns of B stream
    case Dataflow::os: return {m, n, k};  // outputs C (M x N) accumulate in the PEs, K streams
  }
  throw Error("matrix unit: unknown dataflow");
}

int dtype_factor(const MatrixUnitConfig& mxu, isa::DType dtype) {
  const int index = static_cast<int>(dtype);
  if (index < 0 || index >= isa::kNumDTypes) throw Error("matrix unit: unknown dtype");
  const int f = mxu.macs_per_pe_per_cycle[index];
  if (f < 1) {
    throw Error(std::string("matrix unit: macs_per_pe_per_cycle for ") + isa::dtype_name(dtype) +
                " must be >= 1, got " + std::to_string(f));
  }
  return f;
}

}  // namespace

std::uint64_t systolic_folds(int rows, int cols, Dataflow df, std::uint64_t m, std::uint64_t n, std::uint64_t k) {
  check_array(rows, cols);
  const Mapping map = map_gemm(df, m, n, k);
  return ceil_div(map.spatial_rows, rows) * ceil_div(map.spatial_cols, cols);
}

std::uint64_t systolic_gemm_cycles(int rows, int cols, Dataflow df, std::uint64_t m, std::uint64_t n,
                                   std::uint64_t k) {
  check_array(rows, cols);
  if (m == 0 || n == 0 || k == 0) return 0;
  const Mapping map = map_gemm(df, m, n, k);
  const std::uint64_t r = rows;
  const std::uint64_t c = cols;
  // ws/is first shift the stationary tile in (R cycles); os has no such load, its stationary
  // outputs are produced in place.
  const std::uint64_t stationary_load = df == Dataflow::os ? 0 : r;
  // Then the streamed operand (T cycles), skewed across rows (R - 1) and columns (C - 1).
  const std::uint64_t per_fold = stationary_load + map.temporal + (r - 1) + (c - 1);
  const std::uint64_t folds = systolic_folds(rows, cols, df, m, n, k);
  const std::uint64_t scalesim = folds * per_fold - 1;  // SCALE-Sim counts cycles from 0
  // Never faster than the array's MAC roofline (matters only for a 1 x 1 array in os).
  const std::uint64_t roofline = ceil_div(m * n * k, r * c);
  return std::max(scalesim, roofline);
}

std::uint64_t systolic_gemm_cycles_double_buffered(int rows, int cols, Dataflow df, std::uint64_t m,
                                                   std::uint64_t n, std::uint64_t k) {
  const std::uint64_t base = systolic_gemm_cycles(rows, cols, df, m, n, k);
  if (df == Dataflow::os || base == 0) return base;
  const std::uint64_t folds = systolic_folds(rows, cols, df, m, n, k);
  const std::uint64_t hidden = std::min<std::uint64_t>(static_cast<std::uint64_t>(rows), map_gemm(df, m, n, k).temporal);
  const std::uint64_t roofline = ceil_div(m * n * k, static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(cols));
  return std::max(base - (folds - 1) * hidden, roofline);
}

std::uint64_t matmul_cycles(const MatrixUnitConfig& mxu, isa::DType dtype, std::uint64_t m, std::uint64_t n,
                            std::uint64_t k) {
  // A dot-product PE of width f reduces f elements of K per cycle, so the array sees a GEMM whose
  // reduction is ceil(K / f) long; M and N keep their spatial/temporal roles.
  const std::uint64_t f = static_cast<std::uint64_t>(dtype_factor(mxu, dtype));
  if (mxu.double_buffered) {
    return systolic_gemm_cycles_double_buffered(mxu.rows, mxu.cols, mxu.dataflow, m, n, ceil_div(k, f));
  }
  return systolic_gemm_cycles(mxu.rows, mxu.cols, mxu.dataflow, m, n, ceil_div(k, f));
}

std::uint64_t peak_macs_per_cycle(const MatrixUnitConfig& mxu, isa::DType dtype) {
  check_array(mxu.rows, mxu.cols);
  return static_cast<std::uint64_t>(mxu.rows) * static_cast<std::uint64_t>(mxu.cols) *
         static_cast<std::uint64_t>(dtype_factor(mxu, dtype));
}

double matmul_utilization(const MatrixUnitConfig& mxu, isa::DType dtype, std::uint64_t m, std::uint64_t n,
                          std::uint64_t k) {
  const std::uint64_t cycles = matmul_cycles(mxu, dtype, m, n, k);
  if (cycles == 0) return 0.0;
  const double macs = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const double peak = static_cast<double>(cycles) * static_cast<double>(peak_macs_per_cycle(mxu, dtype));
  return std::min(1.0, macs / peak);
}

}  // namespace tasim::timing
