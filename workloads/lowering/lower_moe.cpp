// Mixture of experts on this chip: the router is a linear op followed by a softmax over the experts
// and the top-k selection; the experts run their MLPs on the tokens routed to them (from the
// graph's expert load, else spread uniformly), then each token's expert outputs are combined.
#include "workloads/lowering/context.h"

namespace tasim::workloads::lowering {

using isa::Opcode;

void lower_moe_router_op(StepLowering& step, const Op& op, std::size_t index) {
  const MatmulShape& mm = op.matmul();
  lower_matmul(step, mm.m, mm.n, mm.k, step.hbm.input(index), step.hbm.weights(index), step.hbm.output(index),
               op.weight_format);
  // Softmax over the experts and top-k selection (a row max per pick).
  lower_rows(step, rows_spec(mm.m, mm.n, {Opcode::vec_softmax, Opcode::vec_rowmax}, step.hbm.output(index),
                             step.hbm.output(index)));
}

void lower_moe_experts_op(StepLowering& step, const Op& op, std::size_t index) {
  const WeightFormat& storage = op.weight_format;
  const ExpertsShape& x = op.experts();
  const std::uint64_t experts = static_cast<std::uint64_t>(x.experts);
  const std::uint64_t routed = x.tokens * x.experts_per_token;
  const std::uint64_t hidden = x.hidden, inter = x.intermediate;
  const std::uint64_t up_cols = mlp_gated(step.graph.model.mlp) ? 2 * inter : inter;
  const std::uint64_t in = step.hbm.input(index), out = step.hbm.output(index);
  std::uint64_t w = step.hbm.weights(index);
  for (std::uint64_t e = 0; e < experts; ++e) {
    const std::uint64_t tokens =
        x.expert_tokens.empty() ? routed / experts + (e < routed % experts ? 1 : 0) : x.expert_tokens[e];
    if (tokens == 0) {
      w += storage.bytes(hidden, up_cols) + storage.bytes(inter, hidden);
      continue;
    }
    lower_matmul(step, tokens, up_cols, hidden, in, w, out, storage);
    w += storage.bytes(hidden, up_cols);
    lower_rows(step, activation_rows(step.graph, tokens, up_cols, out, out));
    lower_matmul(step, tokens, hidden, inter, out, w, out, storage);
    w += storage.bytes(inter, hidden);
  }
  // Weighted sum of each token's expert outputs.
  RowsSpec combine = rows_spec(x.tokens, hidden * x.experts_per_token, {Opcode::vec_mul, Opcode::vec_add}, out, out);
  combine.out_cols = hidden;
  lower_rows(step, combine);
}

}  // namespace tasim::workloads::lowering
