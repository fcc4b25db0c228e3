// Chip-to-chip ops. Every chip runs its program in the same order (SPMD), so collectives and
// point-to-point transfers are numbered (tags) the same way on every chip.
//  - Tensor-parallel collectives (all-reduce, all-gather; all-to-all without expert exchange
//    engines): each core moves its share of the rows in blocks of a vector slot through engine 0:
//    load, the collective over the links, store; the engine's queue keeps the three in order.
//  - Expert-parallel dispatch and combine as explicit transfers sized by the expert load.
//  - Pipeline stages hand a micro-batch's activations to the next stage.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "workloads/lowering/context.h"

namespace tasim::workloads::lowering {

using isa::Field;
using isa::Opcode;

namespace {

constexpr std::uint64_t kTagModulus = 65536;  // the tag field is 16 bits

void lower_tp_collective(StepLowering& step, const Op& op, std::size_t index, Opcode coll) {
  const std::uint64_t eb = static_cast<std::uint64_t>(isa::dtype_bytes(step.act_dtype()));
  const std::uint64_t row_bytes = op.rows().width * eb;
  // all-gather: each chip contributes its rows; the gathered result is chips times larger.
  const std::uint64_t gather = coll == Opcode::coll_allgather ? static_cast<std::uint64_t>(step.graph.spec.tp) : 1;
  const std::uint64_t block = std::max<std::uint64_t>(
      1, std::min<std::uint64_t>(kMaxDim, step.exchange_slot() / std::max<std::uint64_t>(1, row_bytes * gather)));
  // Tensor-parallel groups inside pipeline stages: the stage's tp chips; otherwise every chip.
  const std::uint64_t group = step.graph.spec.pp > 1 ? static_cast<std::uint64_t>(step.chips_per_stage()) : 0;
  const std::uint64_t v_base = step.sram.v_base;
  step.for_each_row_block(op.rows().rows, block, [&](int c, std::uint64_t r0, std::uint64_t n) {
    step.out.load(c, 0, step.hbm.input(index) + r0 * row_bytes, v_base, n, row_bytes);
    step.out.emit(c, coll,
                  {{Field::engine, 0}, {Field::sram_addr, v_base}, {Field::bytes, n * row_bytes * gather},
                   {Field::tag, step.next_collective_tag++ % kTagModulus}, {Field::algo, 0}, {Field::group, group}});
    step.out.store(c, 0, v_base, step.hbm.output(index) + r0 * row_bytes * gather, n, row_bytes * gather);
  });
}

// Each group member's share of the token-expert pairs: the load of its experts.
std::vector<double> member_shares(const StepLowering& step) {
  const auto& spec = step.graph.spec;
  const int members = spec.ep;
  const int local = step.graph.model.num_experts / members;
  std::vector<double> share(static_cast<std::size_t>(members), 1.0 / members);
  if (spec.expert_load.empty()) return share;
  double total = 0;
  for (double w : spec.expert_load) total += w;
  for (int j = 0; j < members; ++j) {
    double sum = 0;
    for (int e = j * local; e < (j + 1) * local; ++e) sum += spec.expert_load[static_cast<std::size_t>(e)];
    share[static_cast<std::size_t>(j)] = sum / total;
  }
  return share;
}

// Expert-parallel dispatch and combine: to group member j, dispatch sends the pairs routed to j's
// experts (its share of the load), and combine returns the pairs this chip's experts processed for
// j (this chip's share). Core 0 sends on engine 0 and receives on engine 1, both in member order,
// so no cycle of waits can form; block b of the exchange has the same tag on both sides.
void lower_expert_exchange(StepLowering& step, const Op& op, std::size_t index) {
  const auto& spec = step.graph.spec;
  const int members = spec.ep, me = spec.ep_rank;
  const int base = spec.pp > 1 ? spec.pp_rank * step.chips_per_stage() : 0;
  const std::vector<double> share = member_shares(step);
  const bool dispatch = op.name.size() >= 8 && op.name.compare(op.name.size() - 8, 8, "dispatch") == 0;
  auto rows = [&](int holder) {  // pairs of one chip's tokens handled by `holder`'s experts
    return static_cast<std::uint64_t>(std::llround(static_cast<double>(op.rows().rows) * share[static_cast<std::size_t>(holder)]));
  };
  const std::uint64_t row_bytes = op.rows().width * static_cast<std::uint64_t>(isa::dtype_bytes(spec.act_dtype));
  const std::uint64_t block = std::max<std::uint64_t>(1, std::min<std::uint64_t>(kMaxDim, step.exchange_slot() / row_bytes));
  const std::uint64_t seq = step.next_exchange++;
  const int c = 0;
  Emitter& out = step.out;
  auto tag = [&](std::uint64_t b) { return (seq * 512 + b) % kTagModulus; };
  // Sends (engine 0): dispatch to j carries rows(j); combine to j carries rows(me).
  for (int j = 0; j < members; ++j) {
    if (j == me) continue;
    const std::uint64_t n_rows = dispatch ? rows(j) : rows(me);
    for (std::uint64_t r0 = 0, b = 0; r0 < n_rows; r0 += block, ++b) {
      const std::uint64_t n = std::min(block, n_rows - r0);
      out.load(c, 0, step.hbm.input(index) + r0 * row_bytes, step.sram.v_base, n, row_bytes);
      out.emit(c, Opcode::dma_send, {{Field::engine, 0}, {Field::chip, static_cast<std::uint64_t>(base + j)},
                                     {Field::sram_addr, step.sram.v_base}, {Field::bytes, n * row_bytes},
                                     {Field::tag, tag(b)}});
      out.end_step(c);
    }
  }
  // Receives (engine 1): dispatch from j brings rows(me); combine from j brings rows(j).
  const std::uint64_t recv_slot = step.sram.v_slot(1);
  for (int j = 0; j < members; ++j) {
    if (j == me) continue;
    const std::uint64_t n_rows = dispatch ? rows(me) : rows(j);
    for (std::uint64_t r0 = 0, b = 0; r0 < n_rows; r0 += block, ++b) {
      const std::uint64_t n = std::min(block, n_rows - r0);
      out.emit(c, Opcode::dma_recv, {{Field::engine, 1}, {Field::chip, static_cast<std::uint64_t>(base + j)},
                                     {Field::sram_addr, recv_slot}, {Field::bytes, n * row_bytes}, {Field::tag, tag(b)}});
      out.store(c, 1, recv_slot, step.hbm.output(index) + r0 * row_bytes, n, row_bytes);
      out.end_step(c);
    }
  }
  // The op's outputs are in HBM once engine 1's stores are done: dma0 waits before its "done".
  out.signal(c, dma(1), step.sems.exchange_stored.at(0));
  out.wait(c, dma(0), step.sems.exchange_stored.at(0));
  out.end_step(c);
}

}  // namespace

void lower_collective_op(StepLowering& step, const Op& op, std::size_t index) {
  switch (op.kind) {
    case OpKind::allreduce: return lower_tp_collective(step, op, index, Opcode::coll_allreduce);
    case OpKind::allgather: return lower_tp_collective(step, op, index, Opcode::coll_allgather);
    case OpKind::alltoall:
      if (step.graph.spec.ep > 1 && step.engines > 1) return lower_expert_exchange(step, op, index);
      return lower_tp_collective(step, op, index, Opcode::coll_alltoall);
    default:
      throw Error(fmt::format("internal: {} is not a collective op", op_kind_name(op.kind)));
  }
}

// Each core moves its share of the rows in vector-slot blocks through engine 0, the sender
// loading and sending, the receiver receiving and storing. Chip = stage x (chips per stage) +
// place in the stage's group; the peer is the same place in the next (or previous) stage.
void lower_pipeline_op(StepLowering& step, const Op& op, std::size_t index) {
  const auto& spec = step.graph.spec;
  const bool send = op.kind == OpKind::pp_send;
  const int stage_chips = step.chips_per_stage();
  const int place = spec.ep > 1 ? spec.ep_rank : spec.tp_rank;
  const int own = spec.pp_rank * stage_chips + place;
  const std::uint64_t peer = static_cast<std::uint64_t>(own + (send ? stage_chips : -stage_chips));
  const std::uint64_t row_bytes = op.rows().width * static_cast<std::uint64_t>(isa::dtype_bytes(spec.act_dtype));
  const std::uint64_t block =
      std::max<std::uint64_t>(1, std::min<std::uint64_t>(kMaxDim, step.exchange_slot() / std::max<std::uint64_t>(1, row_bytes)));
  const std::uint64_t v_base = step.sram.v_base;
  step.for_each_row_block(op.rows().rows, block, [&](int c, std::uint64_t r0, std::uint64_t n) {
    if (send) {
      step.out.load(c, 0, step.hbm.input(index) + r0 * row_bytes, v_base, n, row_bytes);
      step.out.emit(c, Opcode::dma_send, {{Field::engine, 0}, {Field::chip, peer}, {Field::sram_addr, v_base},
                                          {Field::bytes, n * row_bytes}, {Field::tag, step.next_send_tag++ % kTagModulus}});
    } else {
      step.out.emit(c, Opcode::dma_recv, {{Field::engine, 0}, {Field::chip, peer}, {Field::sram_addr, v_base},
                                          {Field::bytes, n * row_bytes}, {Field::tag, step.next_recv_tag++ % kTagModulus}});
      step.out.store(c, 0, v_base, step.hbm.output(index) + r0 * row_bytes, n, row_bytes);
    }
  });
}

}  // namespace tasim::workloads::lowering
