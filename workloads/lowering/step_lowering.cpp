// The step compiler's driver: the shared state (context.h), SRAM plan switches, the op boundary
// protocol, and the lowering chosen for each op kind.
#include <fmt/format.h>

#include <cmath>

#include <algorithm>
#include <limits>

#include "common/error.h"
#include "common/int_math.h"
#include "workloads/lowering/context.h"

namespace tasim::workloads {

using isa::Field;
using isa::Opcode;

namespace lowering {
namespace {

CoreSemaphores checked_semaphores(const ChipConfig& chip) {
  CoreSemaphores s = allocate_core_semaphores(chip.core.matrix.count);
  if (s.per_core * chip.cores > chip.semaphores) {
    throw Error(fmt::format("the compiler needs {} semaphores ({} per core) but the architecture has {} "
                            "(raise 'semaphores')",
                            s.per_core * chip.cores, s.per_core, chip.semaphores));
  }
  return s;
}

std::string program_name(const StepGraph& graph) {
  return fmt::format("{}_{}_b{}", graph.model.name, phase_name(graph.spec.phase), graph.spec.batch);
}

}  // namespace

StepLowering::StepLowering(const StepGraph& graph_in, const ChipConfig& chip_in)
    : graph(graph_in),
      chip(chip_in),
      cores(chip_in.cores),
      units(chip_in.core.matrix.count),
      engines(chip_in.core.dma.engines),
      sems(checked_semaphores(chip_in)),
      out(chip_in, sems.per_core, program_name(graph_in)),
      hbm(graph_in, chip_in, program_name(graph_in)),
      stream_plan(plan_sram(chip_in)),
      accumulate_plan(plan_sram_accumulate(chip_in)) {
  apply_plan(stream_plan);
}

int StepLowering::weight_engine(int unit, int slot) const {
  if (engines == 1) return 0;
  return 1 + (unit * kWeightSlotsPerUnit + slot) % (engines - 1);
}

std::pair<int, int> StepLowering::acquire_weight_slot(int core, int unit) {
  Ring& wr = w_ring_of(core, unit);
  const int e = weight_engine(unit, wr.next);
  const int got = wr.acquire(out, core, dma(e), unit_sems(unit).w_free);
  return {got, e};
}

void StepLowering::apply_plan(const SramPlan& plan) {
  sram = layout_sram(plan, units, chip.core.sram.capacity_bytes);
  x_ring.assign(static_cast<std::size_t>(cores), Ring(2));
  w_ring.assign(static_cast<std::size_t>(cores * units), Ring(kWeightSlotsPerUnit));
  c_ring.assign(static_cast<std::size_t>(cores * units), Ring(plan.c_slots));
  v_next.assign(static_cast<std::size_t>(cores), 0);
  q_used.assign(static_cast<std::size_t>(cores * units), false);
}

void StepLowering::switch_plan(const SramPlan& plan) {
  if (plan.kind == sram.plan.kind) return;
  for (int c = 0; c < cores; ++c) {
    x_ring_of(c).drain(out, c, [](int) { return dma(0); }, sems.x_free);
    for (int j = 0; j < units; ++j) {
      w_ring_of(c, j).drain(out, c, [&](int s) { return dma(weight_engine(j, s)); }, unit_sems(j).w_free);
      c_ring_of(c, j).drain(out, c, [&](int) { return mxu(j); }, unit_sems(j).c_free);
      if (q_used[static_cast<std::size_t>(c * units + j)]) out.wait(c, dma(0), unit_sems(j).q_free.at(0));
    }
    out.end_step(c);
  }
  out.flush();
  isa::Instruction barrier;
  barrier.op = Opcode::barrier;
  barrier.tag = out.tag();
  out.push(barrier);
  apply_plan(plan);
}

const SramPlan& StepLowering::plan_for(const Op& op) const {
  if (op.kind == OpKind::attention) return stream_plan;
  if (op.kind != OpKind::linear) return sram.plan;  // vector work runs in either layout
  const auto adt = graph.spec.act_dtype, wdt = matmul_dtype(chip.core.matrix, op.weight_format.compute_dtype);
  auto estimate = [&](const SramPlan& plan) {
    try {
      const MatmulShape& mm = op.matmul();
      return choose_linear_tiling(chip, plan, mm.m, mm.n, mm.k, adt, wdt, &op.weight_format).estimated_cycles;
    } catch (const Error&) {
      return std::numeric_limits<double>::infinity();  // no tile fits this plan
    }
  };
  const double stream = estimate(stream_plan);
  const double accumulate = estimate(accumulate_plan);
  // A switch costs a drain of the pipelines; only worth it for a clear gain.
  constexpr double kSwitchCycles = 20000;
  if (sram.plan.kind == SramPlan::Kind::stream) return accumulate + kSwitchCycles < stream ? accumulate_plan : stream_plan;
  return stream + kSwitchCycles < accumulate ? stream_plan : accumulate_plan;
}

RowRange StepLowering::core_rows(std::uint64_t rows, int core) const {
  const std::uint64_t per_core = ceil_div(rows, static_cast<std::uint64_t>(cores));
  const std::uint64_t begin = std::min(rows, static_cast<std::uint64_t>(core) * per_core);
  return {begin, std::min(rows, begin + per_core)};
}

void StepLowering::for_each_row_block(std::uint64_t rows, std::uint64_t block_rows,
                                      const std::function<void(int, std::uint64_t, std::uint64_t)>& fn) {
  for (int c = 0; c < cores; ++c) {
    const RowRange share = core_rows(rows, c);
    for (std::uint64_t r0 = share.begin; r0 < share.end; r0 += block_rows) {
      fn(c, r0, std::min(block_rows, share.end - r0));
      out.end_step(c);
    }
  }
}

int StepLowering::chips_per_stage() const { return std::max({1, graph.spec.tp, graph.spec.ep}); }

namespace {

// The lowering of each op kind: every kind has one (the switch has no default, so a new kind
// does not compile until it is given one).
OpLowering lowering_of(OpKind kind) {
  switch (kind) {
    case OpKind::linear: return lower_linear_op;
    case OpKind::attention: return lower_attention_op;
    case OpKind::norm:
    case OpKind::rope: return lower_norm_op;
    case OpKind::residual_add: return lower_residual_op;
    case OpKind::modulated_norm: return lower_modulated_norm_op;
    case OpKind::gated_residual: return lower_gated_residual_op;
    case OpKind::activation: return lower_activation_op;
    case OpKind::sampling: return lower_sampling_op;
    case OpKind::embedding: return lower_embedding_op;
    case OpKind::kv_append: return lower_kv_append_op;
    case OpKind::allreduce:
    case OpKind::allgather:
    case OpKind::alltoall: return lower_collective_op;
    case OpKind::pp_recv:
    case OpKind::pp_send: return lower_pipeline_op;
    case OpKind::moe_router: return lower_moe_router_op;
    case OpKind::moe_experts: return lower_moe_experts_op;
  }
  throw Error(fmt::format("internal: no lowering for op kind {}", static_cast<int>(kind)));
}

// Op boundary: a core may load the previous op's outputs only when every core has stored its
// part. Each core's output engine (dma0) signals every core after its last store.
void op_prologue(StepLowering& step) {
  if (!step.first_op && step.chip.software.kernel_boundaries()) {
    // One op, one kernel: the op starts when the previous one has ended everywhere, plus the
    // boundary's cost.
    step.out.flush();
    isa::Instruction boundary;
    boundary.op = Opcode::kernel_boundary;
    boundary.tag = step.out.tag();
    boundary.set(Field::cycles,
                 static_cast<std::uint64_t>(std::ceil(step.chip.software.kernel_boundary_ns * step.chip.clock_ghz)));
    step.out.push(boundary);
  }
  if (!step.first_op) {
    for (int c = 0; c < step.cores; ++c) {
      for (int i = 0; i < step.cores; ++i) step.out.wait(c, dma(0), step.sems.done.at(0));
      step.out.end_step(c);
    }
  }
  step.first_op = false;
}

void op_epilogue(StepLowering& step) {
  for (int c = 0; c < step.cores; ++c) {
    for (int other = 0; other < step.cores; ++other) step.out.signal_core(c, dma(0), other, step.sems.done.at(0));
    step.out.end_step(c);
  }
  step.out.flush();
}

void begin_op(StepLowering& step, const Op& op) {
  step.out.begin_op(op.name);
  if (op.kind == OpKind::linear || op.kind == OpKind::attention) step.switch_plan(step.plan_for(op));
  op_prologue(step);
}

void lower_op(StepLowering& step, const Op& op, std::size_t index) {
  begin_op(step, op);
  lowering_of(op.kind)(step, op, index);
  op_epilogue(step);
}


}  // namespace
}  // namespace lowering

LoweringStream::LoweringStream(const StepGraph& graph, const ChipConfig& chip, int layers,
                               std::size_t attention_slice_rounds)
    : step_(std::make_unique<lowering::StepLowering>(graph, chip)),
      layers_(layers),
      attention_slice_rounds_(attention_slice_rounds) {}

LoweringStream::~LoweringStream() = default;

bool LoweringStream::next(const isa::Instruction*& first, std::size_t& count) {
  const auto& ops = step_->graph.ops;
  chunk_.clear();
  while (chunk_.empty()) {
    if (attention_) {
      // The next slice of an attention op (its rounds merged as the whole op's would be).
      attention_->lower_rounds(attention_slice_rounds_);
      if (attention_->done()) {
        lowering::op_epilogue(*step_);
        attention_.reset();
      } else {
        step_->out.flush();
      }
    } else if (next_op_ < ops.size()) {
      const std::size_t i = next_op_++;
      if (layers_ >= 0 && ops[i].layer >= layers_) continue;
      if (ops[i].kind == OpKind::attention) {
        lowering::begin_op(*step_, ops[i]);
        attention_ = std::make_unique<lowering::AttentionLowering>(*step_, ops[i], i);
        if (!attention_->sliceable() || attention_slice_rounds_ == 0) {
          attention_->lower_rounds(std::numeric_limits<std::size_t>::max());
          lowering::op_epilogue(*step_);
          attention_.reset();
        }
      } else {
        lowering::lower_op(*step_, ops[i], i);
      }
    } else if (!halted_) {
      isa::Instruction halt;
      halt.op = Opcode::halt;
      step_->out.push(halt);
      halted_ = true;
    } else {
      return false;
    }
    chunk_ = step_->out.take_instructions();
  }
  first = chunk_.data();
  count = chunk_.size();
  given_ += count;
  return true;
}

const std::string& LoweringStream::source_name() const { return step_->out.program().source_name; }
const std::vector<std::string>& LoweringStream::tags() const { return step_->out.program().tags; }

isa::Program lower_step(const StepGraph& graph, const ChipConfig& chip, LoweringStats* stats, int layers) {
  LoweringStream stream(graph, chip, layers);
  isa::Program prog;
  const isa::Instruction* first = nullptr;
  std::size_t count = 0;
  while (stream.next(first, count)) prog.instructions.insert(prog.instructions.end(), first, first + count);
  prog.source_name = stream.source_name();
  prog.tags = stream.tags();
  if (stats) {
    stats->instructions = prog.instructions.size();
    int max_sem = 0;
    for (const auto& inst : prog.instructions) {
      if (inst.has(Field::sem)) max_sem = std::max(max_sem, static_cast<int>(inst.get(Field::sem)) + 1);
    }
    stats->semaphores_used = max_sem;
  }
  return prog;
}

}  // namespace tasim::workloads
