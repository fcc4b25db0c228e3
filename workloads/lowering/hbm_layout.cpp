#include "workloads/lowering/hbm_layout.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "common/int_math.h"

namespace tasim::workloads::lowering {

std::uint64_t output_bytes(const StepGraph& graph, const Op& op) {
  const int ab = isa::dtype_bytes(graph.spec.act_dtype);
  switch (op.kind) {
    case OpKind::attention: {
      const AttentionShape& a = op.attention();
      return static_cast<std::uint64_t>(a.batch) * a.q_len * a.heads * a.value_dim() * ab;
    }
    case OpKind::kv_append:
      return 0;
    case OpKind::activation:
      return op.rows().rows * (mlp_gated(graph.model.mlp) ? op.rows().width / 2 : op.rows().width) * ab;
    case OpKind::moe_experts:
      return op.experts().tokens * op.experts().hidden * ab;
    case OpKind::allgather:
      return op.rows().rows * op.rows().width * ab * static_cast<std::uint64_t>(graph.spec.tp);
    case OpKind::linear:
    case OpKind::moe_router:
      return op.matmul().m * std::max<std::uint64_t>(op.matmul().n, 1) * ab;
    case OpKind::embedding:
    case OpKind::norm:
    case OpKind::rope:
    case OpKind::residual_add:
    case OpKind::modulated_norm:
    case OpKind::gated_residual:
    case OpKind::sampling:
    case OpKind::allreduce:
    case OpKind::alltoall:
    case OpKind::pp_recv:
    case OpKind::pp_send:
      return op.rows().rows * std::max<std::uint64_t>(op.rows().width, 1) * ab;
  }
  return 0;
}

std::uint64_t HbmLayout::alloc(std::uint64_t bytes) {
  const std::uint64_t a = next_;
  next_ = align_up(next_ + bytes, kAlignBytes);
  return a;
}

HbmLayout::HbmLayout(const StepGraph& graph, const ChipConfig& chip, const std::string& program_name) {
  const auto& spec = graph.spec;
  const auto& model = graph.model;
  // Weights of every op, then the KV cache, then a rotating activation arena.
  for (const auto& op : graph.ops) {
    std::uint64_t bytes = op.weight_bytes;
    if (op.kind == OpKind::embedding) {
      bytes = static_cast<std::uint64_t>(model.vocab_size) * model.hidden_size * isa::dtype_bytes(spec.weight_dtype);
    }
    auto it = weight_by_name_.find(op.name);
    if (it == weight_by_name_.end()) it = weight_by_name_.emplace(op.name, alloc(std::max<std::uint64_t>(bytes, 1))).first;
    weight_addr_.push_back(it->second);
  }
  if (model.is_dit()) {
    // A DiT caches nothing: each attention reads the keys and values its projection just wrote,
    // so one region, the largest attention's, serves every layer.
    kv_shared_ = true;
    for (const auto& op : graph.ops) {
      if (op.kind != OpKind::attention) continue;
      const AttentionShape& a = op.attention();
      kv_layer_bytes_ = std::max(kv_layer_bytes_, static_cast<std::uint64_t>(a.batch) * a.kv_len * a.kv_heads *
                                                      (a.head_dim + a.value_dim()) * isa::dtype_bytes(spec.kv_dtype));
    }
    kv_base_ = alloc(std::max<std::uint64_t>(kv_layer_bytes_, 1));
    allocate_arena(graph, chip, program_name);
    return;
  }
  const std::uint64_t positions =
      spec.phase == Phase::prefill ? spec.prompt_len : static_cast<std::uint64_t>(spec.context_len) + 1;
  // Cached tokens per layer: batch x positions; for a ragged step, what its largest attention op
  // reads (the ops of a layer share the region; the graph groups the sequences into ops).
  std::uint64_t cached = static_cast<std::uint64_t>(spec.batch / std::max(1, spec.ep)) * positions;
  if (spec.ragged()) {
    cached = 0;
    for (const auto& op : graph.ops) {
      if (op.kind != OpKind::attention) continue;
      const AttentionShape& a = op.attention();
      cached = std::max(cached, static_cast<std::uint64_t>(a.batch) * a.kv_len);
    }
  }
  // This chip's KV heads (all of them unless tensor parallel; fewer than chips are replicated);
  // MLA's latent is replicated on every chip.
  const std::uint64_t kv_heads =
      std::max<std::uint64_t>(1, static_cast<std::uint64_t>(model.num_kv_heads) / static_cast<std::uint64_t>(spec.tp));
  const std::uint64_t per_token = model.mla ? model.kv_elements_per_token(0) : 2 * kv_heads * model.head_dim;
  // Expert parallel chips each hold batch / ep sequences' cache. Under MLA the region also
  // covers what an attention op reads there (prefill reads its expanded keys and values in the
  // cache's place); other models keep the layout their golden runs were measured with.
  kv_layer_bytes_ = cached * per_token * isa::dtype_bytes(spec.kv_dtype);
  for (const auto& op : graph.ops) {
    if (op.kind != OpKind::attention || !model.mla) continue;
    const AttentionShape& a = op.attention();
    const std::uint64_t width = a.shared_kv ? a.head_dim : static_cast<std::uint64_t>(a.kv_heads) *
                                                               (a.head_dim + a.value_dim());
    kv_layer_bytes_ = std::max(kv_layer_bytes_, static_cast<std::uint64_t>(a.batch) * a.kv_len * width *
                                                    isa::dtype_bytes(spec.kv_dtype));
  }
  // The layers this chip holds (a pipeline stage holds layers / pp of them).
  const int stages = std::max(1, spec.pp);
  first_layer_ = spec.pp_rank * (model.num_layers / stages);
  kv_base_ = alloc(kv_layer_bytes_ * static_cast<std::uint64_t>(model.num_layers / stages));
  allocate_arena(graph, chip, program_name);
}

void HbmLayout::allocate_arena(const StepGraph& graph, const ChipConfig& chip, const std::string& program_name) {
  std::uint64_t largest = 0;
  for (const auto& op : graph.ops) largest = std::max(largest, output_bytes(graph, op));
  arena_slot_ = align_up(std::max<std::uint64_t>(largest, 1), kAlignBytes);
  arena_base_ = alloc(arena_slot_ * kArenaSlots);
  if (next_ > chip.hbm.capacity_bytes) {
    throw Error(fmt::format("{} needs {:.1f} GiB of HBM (weights, KV cache, activations) but {} has {:.1f} GiB",
                            program_name, next_ / 1073741824.0, chip.name, chip.hbm.capacity_bytes / 1073741824.0));
  }
}

std::uint64_t HbmLayout::kv_cache(int layer) const {
  if (kv_shared_) return kv_base_;
  return kv_base_ + static_cast<std::uint64_t>(std::max(0, layer - first_layer_)) * kv_layer_bytes_;
}

}  // namespace tasim::workloads::lowering
