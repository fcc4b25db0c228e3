// The state of one step's compilation, shared by the op lowerings (lower_*.cpp): the graph and
// chip, the instruction emitter, the semaphores, the HBM layout, the current SRAM plan with its
// rings, and the counters that number chip-to-chip transfers alike on every chip.
//
// Every op reads its inputs from HBM and writes its outputs to HBM. Within an op the work is split
// across cores (and, for matmuls, across each core's matrix units); each core streams tiles through
// the SRAM plan's slots, organised as rings, with semaphores between every producer and consumer,
// and software pipelining so DMA runs ahead of compute. Between ops, each core's output engine
// tells every core that its outputs are in HBM before any core loads them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "arch/arch_config.h"
#include "workloads/graph.h"
#include "workloads/lowering.h"
#include "workloads/lowering/emitter.h"
#include "workloads/lowering/hbm_layout.h"
#include "workloads/lowering/resources.h"

namespace tasim::workloads::lowering {

// A half-open range of rows [begin, end).
struct RowRange {
  std::uint64_t begin = 0, end = 0;
  bool empty() const { return begin >= end; }
};

struct StepLowering {
  StepLowering(const StepGraph& graph, const ChipConfig& chip);

  const StepGraph& graph;
  const ChipConfig& chip;
  const int cores, units, engines;  // units: matrix units per core
  const CoreSemaphores sems;
  Emitter out;
  const HbmLayout hbm;
  // The two SRAM plans and the current one, with its rings (per core, or per core x unit).
  const SramPlan stream_plan, accumulate_plan;
  SramLayout sram;
  std::vector<Ring> x_ring, w_ring, c_ring;
  std::vector<int> v_next;    // per core: the vector ring's next slot
  std::vector<bool> q_used;   // per core x unit: a Q was loaded before (the next load waits q_free)
  // Chip-to-chip transfers are numbered in the same order on every chip.
  std::uint64_t next_collective_tag = 1;
  std::uint64_t next_send_tag = 1, next_recv_tag = 1;  // pipeline: k-th send pairs with k-th recv
  std::uint64_t next_exchange = 1;                     // expert exchanges
  bool first_op = true;

  isa::DType act_dtype() const { return graph.spec.act_dtype; }
  Ring& x_ring_of(int core) { return x_ring[static_cast<std::size_t>(core)]; }
  Ring& w_ring_of(int core, int unit) { return w_ring[static_cast<std::size_t>(core * units + unit)]; }
  Ring& c_ring_of(int core, int unit) { return c_ring[static_cast<std::size_t>(core * units + unit)]; }
  const CoreSemaphores::PerUnit& unit_sems(int unit) const { return sems.unit[static_cast<std::size_t>(unit)]; }

  // Weight (and KV) tiles go over the engines other than engine 0 (activations and outputs); each
  // weight slot has a fixed engine, so one engine waits on the slot's "free" semaphore.
  int weight_engine(int unit, int slot) const;
  // Acquires unit j's next weight slot on its engine; returns (slot, engine).
  std::pair<int, int> acquire_weight_slot(int core, int unit);

  // Lays every core's SRAM out for `plan` and starts its rings empty.
  void apply_plan(const SramPlan& plan);
  // Switches plans between ops: every signal still owed to a ring is consumed by the unit that
  // would have waited for it (so no semaphore keeps a stale count), then a barrier makes sure no
  // unit still touches the old layout. No-op when the plan's kind is the current one.
  void switch_plan(const SramPlan& plan);
  // The plan an op runs best in (linear ops compare both; attention streams; others stay).
  const SramPlan& plan_for(const Op& op) const;

  // Core `core`'s share of `rows` rows split evenly (rounded up) over the cores.
  RowRange core_rows(std::uint64_t rows, int core) const;
  // Splits `rows` over the cores, cuts each core's share into blocks of at most `block_rows`, and
  // calls fn(core, first_row, rows_in_block) for each block in order, ending a step after each.
  void for_each_row_block(std::uint64_t rows, std::uint64_t block_rows,
                          const std::function<void(int core, std::uint64_t r0, std::uint64_t n)>& fn);

  // Chips of one pipeline stage: its tensor- or expert-parallel group (1 without either).
  int chips_per_stage() const;
  // Blocks of chip-to-chip exchanges must be cut the same way on every chip, whatever SRAM plan
  // each is in at that op: the smaller vector slot of the two plans fits both.
  std::uint64_t exchange_slot() const { return std::min(stream_plan.v_slot, accumulate_plan.v_slot); }
};

// The op lowerings, one per op group, each in its own file; step_lowering.cpp picks one by op kind.
using OpLowering = void (*)(StepLowering& step, const Op& op, std::size_t index);
void lower_linear_op(StepLowering& step, const Op& op, std::size_t index);       // lower_linear.cpp
void lower_attention_op(StepLowering& step, const Op& op, std::size_t index);    // lower_attention.cpp

// An attention op lowered a slice of rounds at a time (lower_attention.cpp), so that a huge op (a
// DiT's self-attention over 75,600 tokens: tens of millions of instructions) is handed to the
// simulator in pieces instead of held whole. The same instructions in the same order as
// lower_attention_op when sliceable().
class AttentionLowering {
 public:
  AttentionLowering(StepLowering& step, const Op& op, std::size_t index);
  ~AttentionLowering();
  bool sliceable() const;
  bool done() const;
  // The next `rounds` rounds (an item per matrix unit each) of every core.
  void lower_rounds(std::size_t rounds);

 private:
  struct Plan;
  StepLowering& step_;
  const Op& op_;
  std::size_t index_;
  std::unique_ptr<Plan> plan_;
  std::size_t next_round_ = 0;
};
void lower_norm_op(StepLowering& step, const Op& op, std::size_t index);         // lower_rows.cpp
void lower_residual_op(StepLowering& step, const Op& op, std::size_t index);
void lower_modulated_norm_op(StepLowering& step, const Op& op, std::size_t index);
void lower_gated_residual_op(StepLowering& step, const Op& op, std::size_t index);
void lower_activation_op(StepLowering& step, const Op& op, std::size_t index);
void lower_sampling_op(StepLowering& step, const Op& op, std::size_t index);
void lower_embedding_op(StepLowering& step, const Op& op, std::size_t index);
void lower_kv_append_op(StepLowering& step, const Op& op, std::size_t index);
void lower_collective_op(StepLowering& step, const Op& op, std::size_t index);   // lower_comm.cpp
void lower_pipeline_op(StepLowering& step, const Op& op, std::size_t index);
void lower_moe_router_op(StepLowering& step, const Op& op, std::size_t index);   // lower_moe.cpp
void lower_moe_experts_op(StepLowering& step, const Op& op, std::size_t index);

// Shared by the linear and MoE lowerings: Y (m x n) = X (m x k) W (k x n), W stored tile-major.
void lower_matmul(StepLowering& step, std::uint64_t m, std::uint64_t n, std::uint64_t k, std::uint64_t x_hbm,
                  std::uint64_t w_hbm, std::uint64_t y_hbm, const WeightFormat& storage);

// Row-wise vector work (lower_rows.cpp): rows are split over cores; each core streams blocks of
// rows through the vector ring: load (dma0) -> vector ops in place -> store (dma0). Input rows are
// `in_cols` wide, the ops cover `op_cols` of them (swiglu: the gate half), and output rows are
// `out_cols` wide. `param` (gamma, rope table) is loaded once per core from `aux_hbm`; `second`
// instead loads a second operand (the residual) from `aux_hbm` beside the first.
struct RowsSpec {
  std::uint64_t rows = 0, in_cols = 0, op_cols = 0, out_cols = 0;
  std::vector<isa::Opcode> ops;
  std::uint64_t in_hbm = 0, aux_hbm = 0, out_hbm = 0;
  bool param = false, second = false;
};
RowsSpec rows_spec(std::uint64_t rows, std::uint64_t cols, std::vector<isa::Opcode> ops, std::uint64_t in_hbm,
                   std::uint64_t out_hbm);
// Streams the rows through the cores' vector units; with software.unfused_elementwise, as the
// passes eager_passes gives when it splits the op.
void lower_rows(StepLowering& step, const RowsSpec& r);
// PyTorch eager's kernels for a row op, each a pass through HBM: a gated activation's 2, rotary
// embedding's 7 (docs/validation.md); empty for an op it runs as one kernel.
std::vector<RowsSpec> eager_passes(const RowsSpec& r, std::uint64_t elem_bytes);
// The MLP activation on rows of `width`: silu(gate) * up for SwiGLU ([gate | up]), gelu otherwise.
RowsSpec activation_rows(const StepGraph& graph, std::uint64_t rows, std::uint64_t width, std::uint64_t in_hbm,
                         std::uint64_t out_hbm);

}  // namespace tasim::workloads::lowering
