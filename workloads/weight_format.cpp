#include "workloads/weight_format.h"

#include <fmt/format.h>

#include "common/error.h"

namespace tasim::workloads {

double WeightFormat::bits_per_value() const {
  if (!block_scaled()) return value_bits;
  return value_bits + static_cast<double>(scale_bits) / static_cast<double>(group_rows * group_cols);
}

std::uint64_t WeightFormat::bytes(std::uint64_t k, std::uint64_t n) const {
  using u128 = unsigned __int128;
  const u128 groups = per_output_channel ? u128(n)
                     : block_scaled()   ? u128((k + group_rows - 1) / group_rows) * ((n + group_cols - 1) / group_cols)
                                        : 0;
  const u128 bits = u128(k) * n * static_cast<unsigned>(value_bits) + groups * static_cast<unsigned>(scale_bits);
  const u128 b = (bits + 7) / 8;
  if (b > UINT64_MAX) throw Error(fmt::format("{} weights of {} x {} values overflow 64-bit byte counts", name, k, n));
  return static_cast<std::uint64_t>(b);
}

std::uint64_t WeightFormat::bytes(std::uint64_t values) const {
  using u128 = unsigned __int128;
  const u128 group = block_scaled() ? u128(group_rows) * group_cols : 0;
  const u128 groups = group > 0 ? (u128(values) + group - 1) / group : 0;
  const u128 b = (u128(values) * static_cast<unsigned>(value_bits) + groups * static_cast<unsigned>(scale_bits) + 7) / 8;
  if (b > UINT64_MAX) throw Error(fmt::format("{} weights of {} values overflow 64-bit byte counts", name, values));
  return static_cast<std::uint64_t>(b);
}

WeightFormat plain_weight_format(isa::DType dtype) {
  WeightFormat f;
  f.name = isa::dtype_name(dtype);
  f.value_bits = isa::dtype_bits(dtype);
  f.compute_dtype = dtype;
  return f;
}

WeightFormat mxfp4_weight_format() {
  WeightFormat f;
  f.name = "mxfp4";
  f.value_bits = 4;  // FP4 E2M1
  f.group_rows = 32;
  f.group_cols = 1;
  f.scale_bits = 8;  // E8M0 shared exponent
  f.compute_dtype = isa::DType::fp4;
  return f;
}

WeightFormat integer_weight_format(int value_bits, std::uint64_t group_size, bool zero_point) {
  WeightFormat f;
  f.name = group_size > 0 ? fmt::format("int{}-g{}{}", value_bits, group_size, zero_point ? "-zp" : "")
                          : fmt::format("int{}-channel{}", value_bits, zero_point ? "-zp" : "");
  f.value_bits = value_bits;
  f.group_rows = group_size;
  f.group_cols = 1;
  f.per_output_channel = group_size == 0;
  f.scale_bits = 16 + (zero_point ? value_bits : 0);  // fp16 scale (+ packed zero point)
  f.compute_dtype = isa::DType::bf16;
  return f;
}

WeightFormat fp8_block_weight_format(std::uint64_t rows, std::uint64_t cols) {
  WeightFormat f;
  f.name = fmt::format("fp8-block{}x{}", rows, cols);
  f.value_bits = 8;
  f.group_rows = rows;
  f.group_cols = cols;
  f.scale_bits = 32;  // fp32 weight_scale_inv
  f.compute_dtype = isa::DType::fp8;
  return f;
}

const char* weight_module_name(WeightModule m) {
  switch (m) {
    case WeightModule::embedding: return "embedding";
    case WeightModule::attention: return "attention";
    case WeightModule::mlp: return "mlp";
    case WeightModule::router: return "router";
    case WeightModule::lm_head: return "lm_head";
  }
  return "?";
}

isa::DType matmul_dtype(const MatrixUnitConfig& mxu, isa::DType wanted) {
  if (mxu.macs_per_pe_per_cycle[static_cast<int>(wanted)] > 0) return wanted;
  int widest = -1;
  for (int t = 0; t < isa::kNumDTypes; ++t) {
    if (mxu.macs_per_pe_per_cycle[t] <= 0) continue;
    if (widest < 0 || isa::dtype_bits(static_cast<isa::DType>(t)) > isa::dtype_bits(static_cast<isa::DType>(widest))) {
      widest = t;
    }
  }
  if (widest < 0) throw Error("matrix unit: no dtype has a rate (every macs_per_pe_per_cycle is 0)");
  return static_cast<isa::DType>(widest);
}

}  // namespace tasim::workloads
