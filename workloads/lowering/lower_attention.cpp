// Attention, flash style, for a GQA group at a time: the group's query heads (G = heads /
// kv_heads) and a block of query positions form the M rows; keys and values stream in blocks:
// S = Q K^T (matrix) -> online softmax (vector) -> O += P V (matrix). Causal prefill skips key
// blocks after the query block. Decode is the same with one query position.
//
// Work items (sequence, KV head, query block) are dealt round-robin over every matrix unit. Per
// core, each round gives every matrix unit its next item; the key blocks of the round's items are
// emitted interleaved (block 0 of every unit, then block 1, ...) so the core's one vector unit
// serves the units' softmaxes in turn instead of one item after another.
#include <algorithm>
#include <limits>
#include <memory>

#include "arch/matrix_timing.h"
#include "common/int_math.h"
#include "workloads/lowering/context.h"

namespace tasim::workloads::lowering {

using isa::Opcode;

namespace {

using AttentionBlocks = AttentionTiling;

// A key block fits a weight slot (K or V: bk x d); a score slot holds S (rows x bk, fp32) and Q
// (rows x d); O (rows x d, fp32) an accumulator slot. Among key blocks that are powers of two
// times the array width (or the whole cache), take the one with the fewest estimated array cycles
// per query position: long key blocks leave few query rows per matmul, short ones pay a fill per
// block.
AttentionBlocks choose_blocks(const ChipConfig& chip, const SramPlan& plan, const AttentionShape& a, isa::DType act,
                              isa::DType kdt) {
  const int ab = isa::dtype_bytes(act), kb = isa::dtype_bytes(kdt);
  const auto& mx = chip.core.matrix;
  const std::uint64_t d = static_cast<std::uint64_t>(a.head_dim);
  const std::uint64_t group = static_cast<std::uint64_t>(a.heads / std::max(1, a.kv_heads));
  const std::uint64_t max_bk = std::max<std::uint64_t>(1, std::min<std::uint64_t>(kMaxDim, plan.w_slot / (d * kb)));
  auto rows_for = [&](std::uint64_t bk_c) {
    std::uint64_t r = std::max<std::uint64_t>(group, plan.s_slot / (bk_c * isa::kAccumulatorBytes + d * ab));
    return std::min<std::uint64_t>({r, plan.c_slot / (d * isa::kAccumulatorBytes), kMaxDim});
  };
  auto best_orientation = [&](std::uint64_t m, std::uint64_t n, std::uint64_t k) {
    return std::min(timing::matmul_cycles(mx, kdt, m, n, k), timing::matmul_cycles(mx, kdt, n, m, k));
  };
  std::vector<std::uint64_t> candidates;
  for (std::uint64_t c = static_cast<std::uint64_t>(mx.cols); c < max_bk; c *= 2) candidates.push_back(c);
  candidates.push_back(max_bk);
  AttentionBlocks best;
  double best_cost = std::numeric_limits<double>::infinity();
  for (std::uint64_t bk_c : candidates) {
    bk_c = std::min<std::uint64_t>(bk_c, a.kv_len);
    std::uint64_t bq_c = std::min<std::uint64_t>(std::max<std::uint64_t>(1, rows_for(bk_c) / group), a.q_len);
    if (a.causal && bq_c > bk_c) bq_c = bk_c;
    const std::uint64_t rows = bq_c * group;
    // Per query position: a (causal: half a) sweep over the keys, two matmuls per key block. A
    // causal sweep covers half the blocks plus the diagonal one. Each block also costs its dozen
    // instructions of issue, DMA setup and semaphore hand-offs (~200 cycles).
    const double full = static_cast<double>(ceil_div(a.kv_len, bk_c));
    const double blocks = a.causal ? (full + 1.0) / 2.0 : full;
    const double per_block =
        static_cast<double>(best_orientation(rows, bk_c, d) + best_orientation(rows, d, bk_c)) + 200.0;
    const double cost = blocks * per_block / static_cast<double>(bq_c);
    if (cost < best_cost) {
      best_cost = cost;
      best.bk = bk_c;
      best.bq = bq_c;
      best.blocks_per_item = blocks;
      best.cycles_per_block = per_block;
    }
  }
  best.q_blocks = ceil_div(a.q_len, best.bq);
  best.items = static_cast<std::uint64_t>(a.batch) * static_cast<std::uint64_t>(a.kv_heads) * best.q_blocks;
  best.workers = attention_workers(chip);
  return best;
}

struct Item {
  std::uint64_t b, h, qb;  // sequence, KV head, query block
};

// One core's attention items, round by round.
class AttentionCore {
 public:
  AttentionCore(StepLowering& step, const Op& op, std::size_t index, const AttentionBlocks& blocks, int core)
      : step_(step), a_(op.attention()), index_(index), blk_(blocks), c_(core), ab_(isa::dtype_bytes(step.act_dtype())),
        kb_(isa::dtype_bytes(step.graph.spec.kv_dtype)), d_(static_cast<std::uint64_t>(a_.head_dim)),
        dv_(static_cast<std::uint64_t>(a_.value_dim())),
        group_(static_cast<std::uint64_t>(a_.heads / std::max(1, a_.kv_heads))),
        kv_cache_(step.hbm.attention_kv(index)), kv_head_bytes_(a_.kv_len * d_ * kb_) {}

  // items: per unit, this core's share in order; rounds [first, end) of them.
  void run(const std::vector<const std::vector<Item>*>& items, std::size_t first = 0,
           std::size_t end = std::numeric_limits<std::size_t>::max()) {
    std::size_t rounds = 0;
    for (const auto* l : items) rounds = std::max(rounds, l->size());
    for (std::size_t r = first; r < std::min(rounds, end); ++r) {
      std::vector<Live> live;
      for (int j = 0; j < step_.units; ++j) {
        if (r < items[static_cast<std::size_t>(j)]->size()) live.push_back(start_item(j, (*items[static_cast<std::size_t>(j)])[r]));
      }
      step_.out.end_step(c_);
      std::uint64_t max_blocks = 0;
      for (const auto& l : live) max_blocks = std::max(max_blocks, l.blocks);
      for (std::uint64_t kb_i = 0; kb_i < max_blocks; ++kb_i) {
        for (const auto& l : live) {
          if (kb_i < l.blocks) key_block(l, kb_i);
        }
        step_.out.end_step(c_);
      }
      for (const auto& l : live) finish_item(l);
      step_.out.end_step(c_);
    }
  }

 private:
  struct Live {
    int j;
    Item it;
    std::uint64_t q0, nq, rows, kv_end, first_block, blocks;
    int os;
    std::uint64_t o_addr, q_addr, s_addr;
  };

  // HBM offset of the query rows (inputs) or outputs of an item: [sequence, position, head, d].
  std::uint64_t q_offset(const Live& l) const {
    return ((l.it.b * a_.q_len + l.q0) * a_.heads + l.it.h * group_) * d_ * ab_;
  }
  std::uint64_t o_offset(const Live& l) const {
    return ((l.it.b * a_.q_len + l.q0) * a_.heads + l.it.h * group_) * dv_ * ab_;
  }

  // The running output O takes an accumulator slot; Q (rows x d) sits after the scores in the
  // unit's score slot and is reloaded once the previous item's last S matmul is done.
  Live start_item(int j, const Item& it) {
    Emitter& out = step_.out;
    const auto& sems = step_.unit_sems(j);
    Live l;
    l.j = j;
    l.it = it;
    l.q0 = it.qb * blk_.bq;
    l.nq = std::min(blk_.bq, a_.q_len - l.q0);
    l.rows = l.nq * group_;  // M of both matmuls
    // Causal: query q0 + i sits at position kv_len - q_len + q0 + i (after a cached context).
    l.kv_end = a_.causal ? std::min<std::uint64_t>(a_.kv_len, a_.kv_len - a_.q_len + l.q0 + l.nq) : a_.kv_len;
    // A sliding window: key blocks wholly before the first query's window are skipped.
    const std::uint64_t first_pos = a_.kv_len - a_.q_len + l.q0;  // the first query's position
    const std::uint64_t kv_begin = a_.causal && a_.window > 0 && first_pos + 1 > a_.window ? first_pos + 1 - a_.window : 0;
    l.first_block = kv_begin / blk_.bk;
    l.blocks = ceil_div(l.kv_end, blk_.bk) - l.first_block;
    l.os = step_.c_ring_of(c_, j).acquire(out, c_, mxu(j), sems.c_free);
    l.o_addr = step_.sram.c_slot(j, l.os);
    l.s_addr = step_.sram.s_slot(j);
    l.q_addr = l.s_addr + l.rows * blk_.bk * isa::kAccumulatorBytes;
    auto q_used = step_.q_used.begin() + c_ * step_.units + j;
    if (*q_used) out.wait(c_, dma(0), sems.q_free.at(0));
    *q_used = true;
    out.load(c_, 0, step_.hbm.input(index_) + q_offset(l), l.q_addr, l.nq, group_ * d_ * ab_,
             static_cast<std::uint64_t>(a_.heads) * d_ * ab_);
    out.signal(c_, dma(0), sems.q_ready.at(0));
    out.wait(c_, mxu(j), sems.q_ready.at(0));
    return l;
  }

  void key_block(const Live& l, std::uint64_t kb_i) {
    Emitter& out = step_.out;
    const int j = l.j;
    const auto& sems = step_.unit_sems(j);
    const auto adt = step_.act_dtype(), kdt = step_.graph.spec.kv_dtype;
    Ring& wr = step_.w_ring_of(c_, j);
    const std::uint64_t k0 = (l.first_block + kb_i) * blk_.bk, nk = std::min(blk_.bk, l.kv_end - k0);
    // Each KV head's keys then its values; MLA's absorbed values are the keys' first dv_ columns.
    const std::uint64_t head_stride = a_.shared_kv ? kv_head_bytes_ : kv_head_bytes_ + a_.kv_len * dv_ * kb_;
    const std::uint64_t head_base = kv_cache_ + (l.it.b * a_.kv_heads + l.it.h) * head_stride;
    const std::uint64_t v_base = a_.shared_kv ? head_base + k0 * d_ * kb_ : head_base + kv_head_bytes_ + k0 * dv_ * kb_;
    // K block (loaded transposed: the engine writes it d x nk for the matrix unit), V block.
    const auto [ks, ek] = step_.acquire_weight_slot(c_, j);
    out.load(c_, ek, head_base + k0 * d_ * kb_, step_.sram.w_slot(j, ks), 1, nk * d_ * kb_);
    out.signal(c_, dma(ek), sems.w_ready.at(ks));
    const auto [vs, ev] = step_.acquire_weight_slot(c_, j);
    if (a_.shared_kv) {  // rows of d_ of which dv_ are the value
      out.load(c_, ev, v_base, step_.sram.w_slot(j, vs), nk, dv_ * kb_, d_ * kb_);
    } else {
      out.load(c_, ev, v_base, step_.sram.w_slot(j, vs), 1, nk * dv_ * kb_);
    }
    out.signal(c_, dma(ev), sems.w_ready.at(vs));
    // S = Q K^T.
    out.wait(c_, mxu(j), sems.w_ready.at(ks));
    out.oriented_matmul(c_, j, l.q_addr, step_.sram.w_slot(j, ks), l.s_addr, l.rows, nk, d_, false, kdt);
    wr.release(out, c_, ks, mxu(j), sems.w_free);
    out.signal(c_, mxu(j), sems.s_ready.at(0));
    // Online softmax of the block, and the rescale of the running output.
    out.wait(c_, vpu(), sems.s_ready.at(0));
    out.vec(c_, Opcode::vec_softmax, l.s_addr, 0, l.s_addr, l.rows, nk, adt);
    if (kb_i > 0) out.vec(c_, Opcode::vec_mul, l.o_addr, l.s_addr, l.o_addr, l.rows, dv_, adt);
    out.signal(c_, vpu(), sems.p_ready.at(0));
    // O += P V.
    out.wait(c_, mxu(j), sems.p_ready.at(0));
    out.wait(c_, mxu(j), sems.w_ready.at(vs));
    out.oriented_matmul(c_, j, l.s_addr, step_.sram.w_slot(j, vs), l.o_addr, l.rows, dv_, nk, kb_i > 0, kdt);
    wr.release(out, c_, vs, mxu(j), sems.w_free);
  }

  void finish_item(const Live& l) {
    Emitter& out = step_.out;
    const int j = l.j;
    const auto& sems = step_.unit_sems(j);
    out.signal(c_, mxu(j), sems.q_free.at(0));
    out.signal(c_, mxu(j), sems.c_ready.at(l.os));
    out.wait(c_, dma(0), sems.c_ready.at(l.os));
    out.store(c_, 0, l.o_addr, step_.hbm.output(index_) + o_offset(l), l.nq, group_ * dv_ * ab_,
              static_cast<std::uint64_t>(a_.heads) * dv_ * ab_);
    step_.c_ring_of(c_, j).release(out, c_, l.os, dma(0), sems.c_free);
  }

  StepLowering& step_;
  const AttentionShape& a_;
  const std::size_t index_;
  const AttentionBlocks blk_;
  const int c_;
  const std::uint64_t ab_, kb_, d_, dv_, group_, kv_cache_, kv_head_bytes_;
};

}  // namespace

}  // namespace tasim::workloads::lowering

namespace tasim::workloads {
int attention_workers(const ChipConfig& chip) { return chip.cores * chip.core.matrix.count; }

AttentionTiling choose_attention_tiling(const ChipConfig& chip, const AttentionShape& shape, isa::DType act_dtype,
                                        isa::DType kv_dtype) {
  return lowering::choose_blocks(chip, plan_sram(chip), shape, act_dtype, kv_dtype);
}
}  // namespace tasim::workloads

namespace tasim::workloads::lowering {

struct AttentionLowering::Plan {
  AttentionBlocks blocks;
  std::vector<std::vector<Item>> per_worker;
  std::size_t rounds = 0;  // the most items any worker has
};

AttentionLowering::AttentionLowering(StepLowering& step, const Op& op, std::size_t index)
    : step_(step), op_(op), index_(index), plan_(std::make_unique<Plan>()) {
  const AttentionShape& a = op.attention();
  plan_->blocks = choose_blocks(step.chip, step.sram.plan, a, step.act_dtype(), step.graph.spec.kv_dtype);
  const int workers = plan_->blocks.workers;
  plan_->per_worker.resize(static_cast<std::size_t>(workers));
  std::uint64_t item_index = 0;
  for (std::uint64_t b = 0; b < static_cast<std::uint64_t>(a.batch); ++b)
    for (std::uint64_t h = 0; h < static_cast<std::uint64_t>(a.kv_heads); ++h)
      for (std::uint64_t qb = 0; qb < plan_->blocks.q_blocks; ++qb) {
        plan_->per_worker[item_index++ % workers].push_back({b, h, qb});
      }
  for (const auto& l : plan_->per_worker) plan_->rounds = std::max(plan_->rounds, l.size());
}

AttentionLowering::~AttentionLowering() = default;

bool AttentionLowering::done() const { return next_round_ >= plan_->rounds; }

bool AttentionLowering::sliceable() const {
  // Every item of a non-causal op sweeps the same key blocks, so every core's round has the same
  // steps and slices merge into exactly the order of the whole op (Emitter::flush is round-robin
  // by steps). A causal op's items differ; it is lowered whole.
  return !op_.attention().causal;
}

void AttentionLowering::lower_rounds(std::size_t rounds) {
  const std::size_t first = next_round_, end = first + std::min(rounds, plan_->rounds - first);
  for (int c = 0; c < step_.cores; ++c) {
    // Worker j * cores + c is unit j of core c.
    std::vector<const std::vector<Item>*> items;
    for (int j = 0; j < step_.units; ++j) {
      items.push_back(&plan_->per_worker[static_cast<std::size_t>(j * step_.cores + c)]);
    }
    AttentionCore(step_, op_, index_, plan_->blocks, c).run(items, first, end);
  }
  next_round_ = end;
}

void lower_attention_op(StepLowering& step, const Op& op, std::size_t index) {
  AttentionLowering lowering(step, op, index);
  lowering.lower_rounds(std::numeric_limits<std::size_t>::max());
}

}  // namespace tasim::workloads::lowering
