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

namespace {

// Bytes an op's weights take in this chip's HBM. The graph's weight_bytes is what a step reads: a
// decode's expert op reads only the experts its tokens reach, but every expert of this chip is
// resident (DeepSeek-V3 at fp8 needs its whole 625 GiB, not the ~87% a batch of 64 touches).
std::uint64_t resident_weight_bytes(const StepGraph& graph, const Op& op) {
  const auto& model = graph.model;
  if (op.kind == OpKind::embedding) {
    return static_cast<std::uint64_t>(model.vocab_size) * op.weight_format.bytes(static_cast<std::uint64_t>(model.hidden_size));
  }
  if (op.kind == OpKind::moe_experts) {
    const ExpertsShape& x = op.experts();
    const std::uint64_t up_cols = mlp_gated(model.mlp) ? 2 * x.intermediate : x.intermediate;
    const std::uint64_t ab = static_cast<std::uint64_t>(isa::dtype_bytes(graph.spec.act_dtype));
    // Each expert's matrices in the op's weight format (scales included), its biases at the
    // activation dtype.
    const std::uint64_t per_expert = op.weight_format.bytes(x.hidden, up_cols) +
                                     op.weight_format.bytes(x.intermediate, x.hidden) +
                                     (x.bias ? (up_cols + x.hidden) * ab : 0);
    return std::max(op.weight_bytes, static_cast<std::uint64_t>(x.experts) * per_expert);
  }
  return op.weight_bytes;
}

// Tokens of a sequence at `positions` that `layer`'s cache region must hold during the step: all
// of them, at most the window of a sliding layer, at most one chunk of a chunked layer.
std::uint64_t reserved_tokens(const ModelConfig& model, int layer, std::uint64_t positions) {
  switch (model.attention_of(layer)) {
    case LayerAttention::full: return positions;
    case LayerAttention::sliding: return std::min<std::uint64_t>(positions, static_cast<std::uint64_t>(model.sliding_window));
    case LayerAttention::chunked:
      return std::min<std::uint64_t>(positions, static_cast<std::uint64_t>(model.attention_chunk_size));
  }
  return positions;
}

// Bytes of K and V an attention op addresses from its base (lower_attention's head stride).
std::uint64_t attention_read_bytes(const Op& op, int kv_bytes) {
  const AttentionShape& a = op.attention();
  const std::uint64_t width =
      a.shared_kv ? a.head_dim : static_cast<std::uint64_t>(a.kv_heads) * (a.head_dim + a.value_dim());
  return static_cast<std::uint64_t>(a.batch) * a.kv_len * width * static_cast<std::uint64_t>(kv_bytes);
}

}  // namespace

HbmLayout::HbmLayout(const StepGraph& graph, const ChipConfig& chip, const std::string& program_name) {
  const auto& spec = graph.spec;
  const auto& model = graph.model;
  const int kvb = isa::dtype_bytes(spec.kv_dtype);
  // Weights of every op, then the KV cache, then a rotating activation arena.
  for (const auto& op : graph.ops) {
    auto it = weight_by_name_.find(op.name);
    if (it == weight_by_name_.end()) {
      it = weight_by_name_.emplace(op.name, alloc(std::max<std::uint64_t>(resident_weight_bytes(graph, op), 1))).first;
    }
    weight_addr_.push_back(it->second);
  }
  weights_end_ = next_;
  if (model.is_dit()) {
    // A DiT caches nothing: each attention reads the keys and values its projection just wrote,
    // so one region, the largest attention's, serves every layer.
    std::uint64_t shared = 0;
    for (const auto& op : graph.ops) {
      if (op.kind == OpKind::attention) shared = std::max(shared, attention_read_bytes(op, kvb));
    }
    const std::uint64_t base = alloc(std::max<std::uint64_t>(shared, 1));
    kv_layer_base_.assign(static_cast<std::size_t>(std::max(1, model.num_layers)), base);
    attention_kv_.assign(graph.ops.size(), base);
    kv_reserved_bytes_ = shared;
    allocate_arena(graph, chip, program_name);
    return;
  }
  const std::uint64_t positions =
      spec.phase == Phase::prefill ? spec.prompt_len : static_cast<std::uint64_t>(spec.context_len) + 1;
  // This chip's KV heads (all of them unless tensor parallel; fewer than chips are replicated);
  // MLA's latent is replicated on every chip.
  const std::uint64_t kv_heads =
      std::max<std::uint64_t>(1, static_cast<std::uint64_t>(model.num_kv_heads) / static_cast<std::uint64_t>(spec.tp));
  const std::uint64_t per_token = model.mla ? model.kv_elements_per_token(0) : 2 * kv_heads * model.head_dim;
  // The layers this chip holds (a pipeline stage holds layers / pp of them), each its own region:
  // batch x positions tokens (expert parallel chips each hold batch / ep sequences), a sliding
  // layer's at most the window, a chunked layer's at most a chunk. A ragged step reserves what its
  // largest attention op of the layer reads (the ops of a layer share the region).
  const int stages = std::max(1, spec.pp);
  first_layer_ = spec.pp_rank * (model.num_layers / stages);
  const int held = model.num_layers / stages;
  std::vector<std::uint64_t> layer_bytes(static_cast<std::size_t>(held), 0);
  // Data-parallel attention (expert parallel without tensor parallel) splits the sequences; tensor
  // parallel attention keeps every sequence on every chip (as the graph does).
  const std::uint64_t sequences = static_cast<std::uint64_t>(spec.batch / (spec.tp > 1 ? 1 : std::max(1, spec.ep)));
  for (int i = 0; i < held; ++i) {
    layer_bytes[static_cast<std::size_t>(i)] =
        spec.ragged() ? 0 : sequences * reserved_tokens(model, first_layer_ + i, positions) * per_token * kvb;
  }
  const auto local = [&](int layer) { return layer - first_layer_; };
  for (const auto& op : graph.ops) {
    const int i = local(op.layer);
    if (op.kind != OpKind::attention || i < 0 || i >= held) continue;
    std::uint64_t& bytes = layer_bytes[static_cast<std::size_t>(i)];
    if (spec.ragged()) {
      const AttentionShape& a = op.attention();
      bytes = std::max(bytes, static_cast<std::uint64_t>(a.batch) * a.kv_len * per_token * kvb);
    }
    // Under MLA the region also covers what an attention op reads there (prefill reads its
    // expanded keys and values in the cache's place).
    if (model.mla) bytes = std::max(bytes, attention_read_bytes(op, kvb));
  }
  kv_layer_base_.clear();
  for (int i = 0; i < held; ++i) kv_layer_base_.push_back(alloc(layer_bytes[static_cast<std::size_t>(i)]));
  // A sliding or chunked layer's prefill attends over the whole prompt's fresh keys and values,
  // more than its cache keeps: they sit in one transient buffer, reused layer after layer.
  attention_kv_.assign(graph.ops.size(), 0);
  std::uint64_t transient = 0;
  for (std::size_t k = 0; k < graph.ops.size(); ++k) {
    const Op& op = graph.ops[k];
    const int i = local(op.layer);
    if (op.kind != OpKind::attention || i < 0 || i >= held) continue;
    if (attention_read_bytes(op, kvb) > layer_bytes[static_cast<std::size_t>(i)]) {
      transient = std::max(transient, attention_read_bytes(op, kvb));
    }
  }
  const std::uint64_t transient_base = transient > 0 ? alloc(transient) : 0;
  for (std::size_t k = 0; k < graph.ops.size(); ++k) {
    const Op& op = graph.ops[k];
    const int i = local(op.layer);
    if (op.kind != OpKind::attention || i < 0 || i >= held) continue;
    const bool fits = attention_read_bytes(op, kvb) <= layer_bytes[static_cast<std::size_t>(i)];
    attention_kv_[k] = fits ? kv_layer_base_[static_cast<std::size_t>(i)] : transient_base;
  }
  kv_reserved_bytes_ = 0;
  for (std::uint64_t b : layer_bytes) kv_reserved_bytes_ += b;
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
  if (kv_layer_base_.empty()) return 0;
  const int i = std::min(std::max(0, layer - first_layer_), static_cast<int>(kv_layer_base_.size()) - 1);
  return kv_layer_base_[static_cast<std::size_t>(i)];
}

}  // namespace tasim::workloads::lowering
