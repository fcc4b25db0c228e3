// Row-wise ops: norms, rotary embedding, residual adds, the MLP activation and sampling stream
// blocks of rows through a core's vector ring (lower_rows); the embedding gather and the KV-cache
// append only move rows. Rows are split over the cores in every case.
#include <algorithm>

#include "common/int_math.h"
#include "workloads/lowering/context.h"

namespace tasim::workloads::lowering {

using isa::Opcode;

RowsSpec rows_spec(std::uint64_t rows, std::uint64_t cols, std::vector<Opcode> ops, std::uint64_t in_hbm,
                   std::uint64_t out_hbm) {
  RowsSpec r;
  r.rows = rows;
  r.in_cols = r.op_cols = r.out_cols = cols;
  r.ops = std::move(ops);
  r.in_hbm = in_hbm;
  r.out_hbm = out_hbm;
  return r;
}

RowsSpec activation_rows(const StepGraph& graph, std::uint64_t rows, std::uint64_t width, std::uint64_t in_hbm,
                         std::uint64_t out_hbm) {
  const MlpKind kind = graph.model.mlp;
  std::vector<Opcode> ops = {Opcode::vec_gelu};
  if (kind == MlpKind::swiglu) ops = {Opcode::vec_silu, Opcode::vec_mul};
  if (kind == MlpKind::geglu) ops = {Opcode::vec_gelu, Opcode::vec_mul};
  RowsSpec r = rows_spec(rows, width, ops, in_hbm, out_hbm);
  if (mlp_gated(kind)) r.op_cols = r.out_cols = width / 2;  // [gate | up] in, act(gate) * up out
  return r;
}

namespace {

struct Block {
  std::uint64_t r0, n, c0, cc;  // rows [r0, r0 + n), columns [c0, c0 + cc) of the input
  int slot;
};

// One core's blocks through the vector ring, each load one block ahead of its compute.
class RowStream {
 public:
  RowStream(StepLowering& step, const RowsSpec& r, int core)
      : step_(step), r_(r), c_(core), eb_(static_cast<std::uint64_t>(isa::dtype_bytes(step.act_dtype()))) {}

  void run(const RowRange& share) {
    Emitter& out = step_.out;
    const std::uint64_t operands = r_.second ? 2 : 1;
    const std::uint64_t v_slot = step_.sram.plan.v_slot;
    // Column chunks when a row is wider than the slot (e.g. logits on a small SRAM).
    const std::uint64_t chunk = std::max<std::uint64_t>(1, std::min(r_.in_cols, v_slot / (operands * eb_)));
    const std::uint64_t block_rows =
        std::max<std::uint64_t>(1, std::min<std::uint64_t>(kMaxDim, v_slot / (operands * chunk * eb_)));
    if (r_.param) {
      out.load(c_, 0, r_.aux_hbm, step_.sram.p_base, 1, std::min<std::uint64_t>(v_slot, 2 * r_.op_cols * eb_));
      out.signal(c_, dma(0), step_.sems.param_ready.at(0));
      out.wait(c_, vpu(), step_.sems.param_ready.at(0));
    }
    std::vector<Block> blocks;
    for (std::uint64_t r0 = share.begin; r0 < share.end; r0 += block_rows)
      for (std::uint64_t c0 = 0; c0 < r_.in_cols; c0 += chunk)
        blocks.push_back({r0, std::min(block_rows, share.end - r0), c0, std::min(chunk, r_.in_cols - c0), 0});
    load(blocks[0]);
    out.end_step(c_);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      if (i + 1 < blocks.size()) load(blocks[i + 1]);
      compute(blocks[i]);
      out.end_step(c_);
    }
  }

 private:
  // A share of `cols` proportional to the block's share of the input columns.
  std::uint64_t scaled(std::uint64_t cols, std::uint64_t cc) const {
    return std::max<std::uint64_t>(1, ceil_div(cc * cols, r_.in_cols));
  }

  void load(Block& b) {
    Emitter& out = step_.out;
    int& next = step_.v_next[static_cast<std::size_t>(c_)];
    b.slot = next;
    next = (next + 1) % 2;
    const std::uint64_t slot_addr = step_.sram.v_slot(b.slot);
    out.load(c_, 0, r_.in_hbm + (b.r0 * r_.in_cols + b.c0) * eb_, slot_addr, b.n, b.cc * eb_, r_.in_cols * eb_);
    if (r_.second) {
      out.load(c_, 0, r_.aux_hbm + (b.r0 * r_.in_cols + b.c0) * eb_, slot_addr + b.n * b.cc * eb_, b.n, b.cc * eb_,
               r_.in_cols * eb_);
    }
    out.signal(c_, dma(0), step_.sems.v_in.at(b.slot));
  }

  void compute(const Block& b) {
    Emitter& out = step_.out;
    const std::uint64_t slot_addr = step_.sram.v_slot(b.slot);
    const std::uint64_t src2 = r_.second ? slot_addr + b.n * b.cc * eb_ : r_.param ? step_.sram.p_base : slot_addr;
    out.wait(c_, vpu(), step_.sems.v_in.at(b.slot));
    for (Opcode op : r_.ops) out.vec(c_, op, slot_addr, src2, slot_addr, b.n, scaled(r_.op_cols, b.cc), step_.act_dtype());
    out.signal(c_, vpu(), step_.sems.v_out.at(b.slot));
    out.wait(c_, dma(0), step_.sems.v_out.at(b.slot));
    const std::uint64_t oc = scaled(r_.out_cols, b.cc), oc0 = b.c0 * r_.out_cols / r_.in_cols;
    out.store(c_, 0, slot_addr, r_.out_hbm + (b.r0 * r_.out_cols + oc0) * eb_, b.n, oc * eb_, r_.out_cols * eb_);
  }

  StepLowering& step_;
  const RowsSpec& r_;
  const int c_;
  const std::uint64_t eb_;
};

void lower_rows_fused(StepLowering& step, const RowsSpec& r) {
  for (int c = 0; c < step.cores; ++c) {
    const RowRange share = step.core_rows(r.rows, c);
    if (!share.empty()) RowStream(step, r, c).run(share);
  }
}

}  // namespace

// The kernels PyTorch eager runs for a row op (software.unfused_elementwise), each a pass of its
// own through HBM; empty when the op is not one it splits. Intermediates go to the op's output
// region (timing only: no data is computed), and a half of a row is read as a contiguous block.
std::vector<RowsSpec> eager_passes(const RowsSpec& r, std::uint64_t elem_bytes) {
  enum class Operand { none, second, param };  // what a pass reads besides its input rows
  std::vector<RowsSpec> passes;
  const auto pass = [&](std::uint64_t cols, std::vector<Opcode> ops, std::uint64_t in, std::uint64_t out,
                        Operand extra = Operand::none, std::uint64_t aux = 0) {
    RowsSpec p = rows_spec(r.rows, cols, std::move(ops), in, out);
    p.second = extra == Operand::second;
    p.param = extra == Operand::param;
    p.aux_hbm = aux;
    passes.push_back(p);
  };
  const bool gated = r.ops.size() == 2 && r.ops[1] == Opcode::vec_mul && r.op_cols * 2 == r.in_cols && !r.second;
  if (gated) {
    // act(gate) to a scratch, then scratch x up.
    const std::uint64_t half = r.op_cols;
    pass(half, {r.ops[0]}, r.in_hbm, r.out_hbm);
    pass(half, {Opcode::vec_mul}, r.out_hbm, r.out_hbm, Operand::second, r.in_hbm + r.rows * half * elem_bytes);
  } else if (r.ops.size() == 1 && r.ops[0] == Opcode::vec_rope) {
    // x1 * cos, x2 * sin, their difference; x2 * cos, x1 * sin, their sum; then the two halves
    // concatenated (the rotate-half formula; cos and sin are the op's parameters).
    const std::uint64_t half = r.in_cols / 2;
    const std::uint64_t x1 = r.in_hbm, x2 = r.in_hbm + r.rows * half * elem_bytes;
    const std::uint64_t a = r.out_hbm, b = r.out_hbm + r.rows * half * elem_bytes;
    for (const auto& [from, to] : {std::pair{x1, a}, std::pair{x2, b}, std::pair{x2, b}, std::pair{x1, b}}) {
      pass(half, {Opcode::vec_mul}, from, to, Operand::param, r.aux_hbm);
    }
    for (const std::uint64_t to : {a, b}) pass(half, {Opcode::vec_add}, to, to, Operand::second, b);
    pass(r.in_cols, {}, r.out_hbm, r.out_hbm);
  }
  return passes;
}

void lower_rows(StepLowering& step, const RowsSpec& r) {
  if (step.chip.software.unfused_elementwise) {
    const std::vector<RowsSpec> passes = eager_passes(r, static_cast<std::uint64_t>(isa::dtype_bytes(step.act_dtype())));
    if (!passes.empty()) {
      for (const RowsSpec& p : passes) lower_rows_fused(step, p);
      return;
    }
  }
  lower_rows_fused(step, r);
}

void lower_norm_op(StepLowering& step, const Op& op, std::size_t index) {
  const Opcode v = op.kind == OpKind::rope                      ? Opcode::vec_rope
                   : step.graph.model.norm == NormKind::rmsnorm ? Opcode::vec_rmsnorm
                                                                : Opcode::vec_layernorm;
  RowsSpec r = rows_spec(op.rows().rows, op.rows().width, {v}, step.hbm.input(index), step.hbm.output(index));
  r.param = true;
  r.aux_hbm = step.hbm.weights(index);
  lower_rows(step, r);
}

void lower_residual_op(StepLowering& step, const Op& op, std::size_t index) {
  RowsSpec r = rows_spec(op.rows().rows, op.rows().width, {Opcode::vec_add}, step.hbm.input(index), step.hbm.output(index));
  r.second = true;
  r.aux_hbm = step.hbm.residual(index);
  lower_rows(step, r);
}

// DiT adaLN: LayerNorm(x) * (1 + scale) + shift is a LayerNorm whose gamma is 1 + scale and beta
// the shift, so one vec_layernorm with the sample's two vectors in the parameter slot.
void lower_modulated_norm_op(StepLowering& step, const Op& op, std::size_t index) {
  RowsSpec r = rows_spec(op.rows().rows, op.rows().width, {Opcode::vec_layernorm}, step.hbm.input(index),
                         step.hbm.output(index));
  r.param = true;
  r.aux_hbm = step.hbm.weights(index);
  lower_rows(step, r);
}

// DiT gated residual: x + gate * y, the gate a vector per sample (the multiply costs what a
// multiply by the residual would; the gate's few bytes are left in the parameter slot's place).
void lower_gated_residual_op(StepLowering& step, const Op& op, std::size_t index) {
  RowsSpec r = rows_spec(op.rows().rows, op.rows().width, {Opcode::vec_mul, Opcode::vec_add}, step.hbm.input(index),
                         step.hbm.output(index));
  r.second = true;
  r.aux_hbm = step.hbm.residual(index);
  lower_rows(step, r);
}

// swiglu: each row holds [gate | up] (op.rows().width = 2 x intermediate); silu(gate) * up.
// gelu: each row is up (op.rows().width = intermediate); gelu(up).
void lower_activation_op(StepLowering& step, const Op& op, std::size_t index) {
  lower_rows(step, activation_rows(step.graph, op.rows().rows, op.rows().width, step.hbm.input(index), step.hbm.output(index)));
}

// Greedy sampling: the largest logit of each row.
void lower_sampling_op(StepLowering& step, const Op& op, std::size_t index) {
  RowsSpec r = rows_spec(op.rows().rows, op.rows().width, {Opcode::vec_rowmax}, step.hbm.input(index), step.hbm.output(index));
  r.out_cols = 1;
  lower_rows(step, r);
}

// Rows of the embedding table are gathered one token at a time (token ids are data; a fixed
// stride spreads them over HBM channels like real ids would).
void lower_embedding_op(StepLowering& step, const Op& op, std::size_t index) {
  const std::uint64_t row_bytes = op.weight_format.bytes(op.rows().width);
  const std::uint64_t vocab = static_cast<std::uint64_t>(step.graph.model.vocab_size);
  const std::uint64_t block = std::max<std::uint64_t>(1, step.sram.plan.v_slot / row_bytes);
  step.for_each_row_block(op.rows().rows, block, [&](int c, std::uint64_t r0, std::uint64_t n) {
    for (std::uint64_t r = 0; r < n; ++r) {
      const std::uint64_t token = ((r0 + r) * 7919) % vocab;
      step.out.load(c, 0, step.hbm.weights(index) + token * row_bytes, step.sram.v_base + r * row_bytes, 1, row_bytes);
    }
    step.out.store(c, 0, step.sram.v_base, step.hbm.output(index) + r0 * row_bytes, n, row_bytes);
  });
}

// k and v of this step's tokens go from the QKV output into the layer's KV cache.
void lower_kv_append_op(StepLowering& step, const Op& op, std::size_t index) {
  const std::uint64_t row_bytes = op.rows().width * isa::dtype_bytes(step.graph.spec.kv_dtype);
  const std::uint64_t block = std::max<std::uint64_t>(1, std::min<std::uint64_t>(kMaxDim, step.sram.plan.v_slot / row_bytes));
  const std::uint64_t kv = step.hbm.kv_cache(op.layer);
  step.for_each_row_block(op.rows().rows, block, [&](int c, std::uint64_t r0, std::uint64_t n) {
    step.out.load(c, 0, step.hbm.input(index) + r0 * row_bytes, step.sram.v_base, n, row_bytes);
    step.out.store(c, 0, step.sram.v_base, kv + r0 * row_bytes, n, row_bytes);
  });
}

}  // namespace tasim::workloads::lowering
