// SRAM plans and the tiling of linear ops: sizes only, no instructions.
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "arch/matrix_timing.h"
#include "common/error.h"
#include "common/int_math.h"
#include "workloads/lowering.h"
#include "workloads/lowering/resources.h"

namespace tasim::workloads {

using lowering::kMaxDim;
using lowering::kWeightSlotsPerUnit;

namespace {
std::uint64_t share_slot(const ChipConfig& chip, double share, std::uint64_t count) {
  const double cap = static_cast<double>(chip.core.sram.capacity_bytes);
  return std::max<std::uint64_t>(256, static_cast<std::uint64_t>(cap * share / count) / 256 * 256);
}
}  // namespace

SramPlan plan_sram(const ChipConfig& chip) {
  // Streaming: activations 15% (2 slots), weights 25% (3 per matrix unit), accumulators 30% (2
  // per unit), attention scores 15% (1 per unit), vector blocks 10% (2 slots), parameters 5%.
  const std::uint64_t mx = static_cast<std::uint64_t>(chip.core.matrix.count);
  SramPlan p;
  p.kind = SramPlan::Kind::stream;
  p.c_slots = 2;
  p.x_slot = share_slot(chip, 0.15, 2);
  p.w_slot = share_slot(chip, 0.25, kWeightSlotsPerUnit * mx);
  p.c_slot = share_slot(chip, 0.30, 2 * mx);
  p.s_slot = share_slot(chip, 0.15, mx);
  p.v_slot = share_slot(chip, 0.10, 2);
  return p;
}

SramPlan plan_sram_accumulate(const ChipConfig& chip) {
  // Accumulating (matmuls with many rows): one large fp32 accumulator per matrix unit, 61%, so a
  // weight-stationary array streams thousands of rows per fold (its fill and drain amortized);
  // activations 25% (2 slots), weights 10%, vector blocks and parameters 4%; no score slots.
  const std::uint64_t mx = static_cast<std::uint64_t>(chip.core.matrix.count);
  SramPlan p;
  p.kind = SramPlan::Kind::accumulate;
  p.c_slots = 1;
  p.x_slot = share_slot(chip, 0.25, 2);
  p.w_slot = share_slot(chip, 0.10, kWeightSlotsPerUnit * mx);
  p.c_slot = share_slot(chip, 0.61, mx);
  p.s_slot = 0;
  p.v_slot = share_slot(chip, 0.04, 3);
  return p;
}

LinearTiling choose_linear_tiling(const ChipConfig& chip, const SramPlan& plan, std::uint64_t m, std::uint64_t n,
                                  std::uint64_t k, isa::DType act_dtype, isa::DType weight_dtype,
                                  const WeightFormat* storage) {
  const auto& mx = chip.core.matrix;
  const int ab = isa::dtype_bytes(act_dtype);
  const WeightFormat plain = plain_weight_format(weight_dtype);
  const WeightFormat& stored = storage != nullptr ? *storage : plain;
  const std::uint64_t w_bits = static_cast<std::uint64_t>(isa::dtype_bits(weight_dtype));
  // A weight tile's SRAM slot holds what the DMA brings (the stored format, scales included) and
  // what the matrix unit reads (values at its input dtype): the larger of the two.
  const auto w_tile_bytes = [&](std::uint64_t tk, std::uint64_t tn) {
    return std::max(stored.bytes(tk, tn), (tk * tn * w_bits + 7) / 8);
  };
  const double hbm_per_core = chip.hbm.peak_gbps() / chip.clock_ghz / chip.cores;  // bytes per cycle
  const std::uint64_t f = static_cast<std::uint64_t>(mx.macs_per_pe_per_cycle[static_cast<int>(weight_dtype)]);
  LinearTiling best;
  best.estimated_cycles = std::numeric_limits<double>::infinity();
  // Candidates: array-multiple tiles in powers of two, clipped to the op and the slots.
  for (std::uint64_t tn = static_cast<std::uint64_t>(mx.cols); ; tn *= 2) {
    const std::uint64_t tn_eff = std::min(tn, n);
    for (std::uint64_t tk = static_cast<std::uint64_t>(mx.rows) * f; ; tk *= 2) {
      const std::uint64_t tk_eff = std::min({tk, k, kMaxDim});
      if (w_tile_bytes(tk_eff, tn_eff) > plan.w_slot) break;
      std::uint64_t mb = std::min<std::uint64_t>(m, kMaxDim);
      mb = std::min(mb, plan.x_slot / (tk_eff * ab));
      mb = std::min(mb, plan.c_slot / (tn_eff * isa::kAccumulatorBytes));
      // Row blocks: the largest the slots allow and smaller ones (halving, down to the array's
      // rows) that deal more evenly over the cores; except when all rows fit in one block that
      // stays in SRAM: lower_matmul gives those the stream-K schedule.
      const bool stream_k_shape = mb >= m && m * k * ab <= 2 * plan.x_slot;
      for (std::uint64_t mb_max = mb; mb_max >= 1; mb_max /= 2) {
        if (mb_max < mb && (stream_k_shape || mb_max < static_cast<std::uint64_t>(mx.rows))) break;
        // Equal m-blocks: a short last block would pay a whole fill and drain for few rows.
        const std::uint64_t m_blocks = ceil_div(m, mb_max);
        const std::uint64_t mb_eq = ceil_div(m, m_blocks);
        const std::uint64_t n_tiles = ceil_div(n, tn_eff), k_steps = ceil_div(k, tk_eff);
        // The tiled schedule (lower_linear.cpp): (m-block, group of one tile per matrix unit)
        // items dealt round-robin over the cores; a core's busiest share is `rounds` items.
        const std::uint64_t units = static_cast<std::uint64_t>(mx.count);
        const std::uint64_t items = m_blocks * ceil_div(n_tiles, units);
        const std::uint64_t rounds = ceil_div(items, static_cast<std::uint64_t>(chip.cores));
        // A matmul takes its array cycles or the time its operands and fp32 accumulator
        // (read and written) need through one SRAM port, whichever is longer.
        // (Register accumulators: C crosses the port once per tile, not twice per k-step.)
        const double c_port_bytes = mx.register_accumulators
                                        ? static_cast<double>(mb_eq * tn_eff * isa::kAccumulatorBytes) / k_steps
                                        : static_cast<double>(2 * mb_eq * tn_eff * isa::kAccumulatorBytes);
        const double port_bytes = static_cast<double>(((mb_eq * tk_eff + tk_eff * tn_eff) * w_bits + 7) / 8) + c_port_bytes;
        const double per_matmul = std::max(static_cast<double>(timing::matmul_cycles(mx, weight_dtype, mb_eq, tn_eff, tk_eff)),
                                           port_bytes / chip.core.sram.bytes_per_cycle_per_port);
        const double compute = static_cast<double>(rounds * k_steps) * per_matmul;
        // Each item loads its activation rows and its units' weight columns (as stored) once and
        // stores its outputs.
        const double bytes_per_core =
            static_cast<double>(rounds) * static_cast<double>(mb_eq * k * ab + stored.bytes(k, units * tn_eff) +
                                                              mb_eq * units * tn_eff * ab);
        const double steps = static_cast<double>(rounds * k_steps);
        const double est = std::max(compute, bytes_per_core / hbm_per_core) + steps * 60.0;
        if (est < best.estimated_cycles) best = {mb_eq, tn_eff, tk_eff, est};
      }
      if (tk_eff >= k || tk_eff >= kMaxDim) break;
    }
    if (tn_eff >= n || tn >= kMaxDim) break;
  }
  if (best.mb == 0) {
    throw Error(fmt::format("a {}x{}x{} matmul has no tile that fits this architecture's SRAM slots "
                            "(weight slot {} bytes)", m, n, k, plan.w_slot));
  }
  return best;
}

}  // namespace tasim::workloads
