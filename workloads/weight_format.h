// How weights are stored in HBM and which input dtype the matrix unit wants for them: a plain
// dtype (bf16, fp8, int8), or a block-quantized checkpoint format whose values share a scale per
// group (MXFP4, GPTQ/AWQ int4, DeepSeek's block-scaled fp8). Parameter counts stay in values;
// bytes come from here. docs/models.md, "Weight formats", gives each format's source.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "arch/arch_config.h"
#include "isa/isa.h"

namespace tasim::workloads {

struct WeightFormat {
  std::string name = "bf16";       // "bf16", "mxfp4", "int4-g128", "fp8-block128x128"
  int value_bits = 16;             // bits of one stored value
  // A group of values sharing one scale (and zero point): group_rows along the input (reduction)
  // dimension by group_cols along the output one. 0: no scales.
  std::uint64_t group_rows = 0, group_cols = 0;
  // A group spans its whole output channel (GPTQ's group_size -1: one scale per column of every
  // matrix, whatever its K): group_rows is 0 and group_cols 1.
  bool per_output_channel = false;
  int scale_bits = 0;  // bits of one group's scale and zero point
  // The matrix unit's input dtype for these weights when the arch has a rate for it (matmul_dtype).
  isa::DType compute_dtype = isa::DType::bf16;

  bool block_scaled() const { return group_rows > 0 && group_cols > 0; }
  // Storage bits per value, scales included: MXFP4 4 + 8/32 = 4.25. Per output channel: the
  // values' bits alone (a scale per column of K values depends on K; bytes(k, n) counts it).
  double bits_per_value() const;
  // Bytes of a k x n weight matrix or tile (k along the reduction): its values and the scales of
  // every group it touches (a partial group carries a whole scale; per output channel, one per
  // column: a tile of the matrix carries its columns' scales), rounded up to a whole byte.
  std::uint64_t bytes(std::uint64_t k, std::uint64_t n) const;
  // Bytes of `values` values packed in whole groups (an embedding row; a model's total, where
  // the scales of partial blocks at matrix edges, and per-channel scales, are left out).
  std::uint64_t bytes(std::uint64_t values) const;
  bool operator==(const WeightFormat& o) const {
    return name == o.name && value_bits == o.value_bits && group_rows == o.group_rows &&
           group_cols == o.group_cols && per_output_channel == o.per_output_channel &&
           scale_bits == o.scale_bits && compute_dtype == o.compute_dtype;
  }
};

// Every value at `dtype` (fp8 per-tensor scales are a handful of bytes per matrix: not counted).
WeightFormat plain_weight_format(isa::DType dtype);
// OCP Microscaling MXFP4: e2m1 values, one e8m0 scale per 32 values along the input dimension;
// computes in fp4.
WeightFormat mxfp4_weight_format();
// GPTQ/AWQ weight-only: `value_bits` (4 or 8) integer values; per group of `group_size` values
// along the input dimension (of one output column) a 16-bit scale and, with `zero_point`, a zero point of `value_bits`
// bits (AutoGPTQ/AutoAWQ pack qzeros at the value width); group_size 0: one per output column
// (GPTQ's group_size -1). Dequantized to bf16 for the matmul (weight-only: the activations stay
// 16-bit).
WeightFormat integer_weight_format(int value_bits, std::uint64_t group_size, bool zero_point);
// DeepSeek-V3's fp8 (e4m3) weights with one fp32 scale (weight_scale_inv) per rows x cols block
// (rows along the input dimension, as tasim's k x n weights are laid out).
WeightFormat fp8_block_weight_format(std::uint64_t rows, std::uint64_t cols);

// The parts of a model a quantization_config converts or leaves alone (modules_to_not_convert).
enum class WeightModule { embedding, attention, mlp, router, lm_head };
constexpr int kNumWeightModules = 5;
const char* weight_module_name(WeightModule m);

// A checkpoint's quantization_config: its format and the modules stored in it (the others at the
// run's weight dtype).
struct WeightQuantization {
  std::string method;  // quant_method ("mxfp4", "gptq", "awq", "fp8"); "" = none
  WeightFormat format;
  std::array<bool, kNumWeightModules> converted{};
  bool any() const { return !method.empty(); }
  bool converts(WeightModule m) const { return any() && converted[static_cast<int>(m)]; }
};

// The dtype the matrix unit multiplies weights that want `wanted` in: `wanted` where the array
// has a rate for it (macs_per_pe_per_cycle > 0), else the widest dtype it has a rate for (the
// weights are dequantized on their way in: MXFP4 on an array without fp4 runs at bf16).
isa::DType matmul_dtype(const MatrixUnitConfig& mxu, isa::DType wanted);

}  // namespace tasim::workloads
