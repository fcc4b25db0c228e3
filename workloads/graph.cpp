#include "workloads/graph.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "common/error.h"

namespace tasim::workloads {
namespace {

using u128 = unsigned __int128;
using std::uint64_t;

// FLOPs per element of the non-matmul ops (docs/models.md, "Analytic FLOPs"). One FLOP per
// arithmetic operation; exp, erf and rsqrt count one each; per-row work (one rsqrt per row) is
// left out.
constexpr uint64_t kRmsNormFlops = 4;     // square, accumulate, scale by 1/rms, multiply by gamma
constexpr uint64_t kLayerNormFlops = 7;   // accumulate, subtract mean, square, accumulate, scale, gamma, beta
constexpr uint64_t kRopeFlops = 3;        // x*cos + rotate(x)*sin
constexpr uint64_t kSoftmaxFlops = 5;     // per score: scale, running max, subtract, exp, accumulate
constexpr uint64_t kSoftcapFlops = 3;     // per capped score or logit: divide, tanh, multiply
constexpr uint64_t kActivationFlops = 5;  // SiLU(g)*u: exp, add, divide, multiply, multiply; GELU(u): 0.5*u*(1+erf(u/sqrt2))
constexpr uint64_t kResidualFlops = 1;
constexpr uint64_t kSamplingFlops = 1;  // one compare per logit (greedy argmax)
constexpr uint64_t kTokenIdBytes = 4;   // int32 token ids

uint64_t fit(u128 v, const char* what) {
  if (v > std::numeric_limits<uint64_t>::max()) {
    throw Error(fmt::format("step too large: the {} overflows 64-bit counters", what));
  }
  return static_cast<uint64_t>(v);
}

class Builder {
 public:
  Builder(const ModelConfig& model, const RunSpec& spec)
      : m_(model),
        spec_(spec),
        ab_(isa::dtype_bytes(spec.act_dtype)),
        kvb_(isa::dtype_bytes(spec.kv_dtype)),
        tokens_(spec.tokens() / static_cast<uint64_t>(spec.tp > 1 ? 1 : std::max(1, spec.ep)) /
                static_cast<uint64_t>(std::max(1, spec.pp > 1 ? spec.micro_batches : 1))),
        batch_(static_cast<uint64_t>(spec.samples() / (spec.tp > 1 ? 1 : std::max(1, spec.ep)) /
                                     std::max(1, spec.pp > 1 ? spec.micro_batches : 1))),
        h_(static_cast<uint64_t>(model.hidden_size)),
        d_(static_cast<uint64_t>(model.head_dim)),
        heads_(static_cast<uint64_t>(model.num_heads)),
        kv_heads_(static_cast<uint64_t>(model.num_kv_heads)),
        vocab_(static_cast<uint64_t>(model.vocab_size)),
        tp_(static_cast<uint64_t>(spec.tp)) {
    dense_inter_ = static_cast<uint64_t>(model.intermediate_size);
    expert_inter_ = static_cast<uint64_t>(model.expert_width());
    shared_inter_ = static_cast<uint64_t>(model.shared_expert_intermediate_size);
    // One chip's share under tensor parallelism. KV heads fewer than chips are replicated (each
    // chip keeps the one its query heads use), as Megatron-style serving does.
    if (tp_ > 1) {
      heads_ /= tp_;
      kv_heads_ = std::max<uint64_t>(1, kv_heads_ / tp_);
      dense_inter_ /= tp_;
      shared_inter_ /= tp_;
      // With expert parallelism the experts are split whole over the chips instead.
      if (spec.ep <= 1) expert_inter_ /= tp_;
      vocab_ = (vocab_ + tp_ - 1) / tp_;
    }
  }

  std::vector<Op> build() {
    if (m_.is_dit()) {
      build_dit();
      return std::move(ops_);
    }
    // Pipeline parallel: this stage's layers, once per micro-batch, between a receive from the
    // previous stage and a send to the next.
    const int stages = std::max(1, spec_.pp);
    const int per_stage = m_.num_layers / stages;
    const int first = spec_.pp_rank * per_stage, last = first + per_stage;
    const int micro = stages > 1 ? spec_.micro_batches : 1;
    for (int mb = 0; mb < micro; ++mb) {
      if (spec_.pp_rank > 0) collective("pp.recv", -1, OpKind::pp_recv, tokens_, h_);
      build_layers(first, last, spec_.pp_rank == 0, spec_.pp_rank == stages - 1);
      if (spec_.pp_rank < stages - 1) collective("pp.send", -1, OpKind::pp_send, tokens_, h_);
    }
    return std::move(ops_);
  }

  void build_layers(int first_layer, int end_layer, bool with_embedding, bool with_head) {
    if (with_embedding) embedding();
    if (with_embedding && m_.mtp_module) {
      // An MTP module drafts from the token's embedding and the main model's last hidden state,
      // each normalized, concatenated and projected back to hidden (DeepSeek-V3's eh_proj).
      norm("mtp.enorm", -1, tokens_, h_);
      norm("mtp.hnorm", -1, tokens_, h_);
      linear("mtp.eh_proj", -1, tokens_, h_, 2 * h_, false, WeightModule::mlp);  // stored like the layers' linears
    }
    for (int layer = first_layer; layer < end_layer; ++layer) {
      const std::string p = fmt::format("layer{}.", layer);
      norm(p + "attn.norm", layer, tokens_, h_);
      if (m_.mla) {
        mla_attention(p, layer);
      } else {
        standard_attention(p, layer);
      }
      if (tp_ > 1) collective(p + "attn.allreduce", layer, OpKind::allreduce, tokens_, h_);
      // Gemma normalizes each block's output too, before the residual add.
      if (m_.norms_per_layer == 4) norm(p + "attn.post_norm", layer, tokens_, h_);
      residual(p + "attn.residual", layer);
      norm(p + "mlp.norm", layer, tokens_, h_);
      if (m_.layer_is_moe(layer)) {
        moe_block(p, layer);
      } else {
        dense_mlp(p + "mlp.", layer, dense_inter_);
      }
      if (tp_ > 1) collective(p + "mlp.allreduce", layer, OpKind::allreduce, tokens_, h_);
      if (m_.norms_per_layer == 4) norm(p + "mlp.post_norm", layer, tokens_, h_);
      residual(p + "mlp.residual", layer);
    }
    if (!with_head) return;
    // Only each sequence's last position produces a token: prefill normalizes and projects
    // `batch` rows, not every prompt token.
    norm("final_norm", -1, batch_, h_);
    linear("lm_head", -1, batch_, vocab_, h_, false, WeightModule::lm_head);
    sampling();  // Gemma 2's final soft-capping is counted with it
    // Each chip's best token of its vocabulary share (value and id); the largest wins.
    if (tp_ > 1) collective("sampling.allgather", -1, OpKind::allgather, batch_, 4);
  }

  // One denoising step of a video DiT (Wan2.1's WanModel.forward) over batch_ samples (videos,
  // doubled under classifier-free guidance) of latent_tokens each. Under tensor parallelism heads
  // and the FFN width are split like a decoder layer's; the embeddings and the head are small and
  // run whole on every chip.
  void build_dit() {
    const DitDims& d = m_.dit_dims;
    const uint64_t samples = batch_, text = samples * static_cast<uint64_t>(d.text_len);
    const uint64_t patch = static_cast<uint64_t>(d.patch_elements());
    linear("dit.patch_embed", -1, tokens_, h_, static_cast<uint64_t>(d.in_channels) * patch, true, WeightModule::embedding);
    // The timestep's sinusoidal embedding -> MLP -> the six adaLN vectors per sample (the SiLUs
    // on these samples x hidden values are left out).
    linear("dit.time_embed.fc1", -1, samples, h_, static_cast<uint64_t>(d.freq_dim), true, WeightModule::embedding);
    linear("dit.time_embed.fc2", -1, samples, h_, h_, true, WeightModule::embedding);
    linear("dit.time_proj", -1, samples, 6 * h_, h_, true, WeightModule::mlp);
    // The text encoder's output (umT5, not simulated) projected into the model's width.
    linear("dit.text_embed.fc1", -1, text, h_, static_cast<uint64_t>(d.text_dim), true, WeightModule::embedding);
    activation_rows("dit.text_embed.act", -1, text, h_);
    linear("dit.text_embed.fc2", -1, text, h_, h_, true, WeightModule::embedding);
    const uint64_t tokens = spec_.latent_tokens, width = heads_ * d_;
    for (int layer = 0; layer < m_.num_layers; ++layer) {
      const std::string p = fmt::format("layer{}.dit.", layer);
      // Self-attention over every latent token of the sample: no mask, 3-D RoPE on q and k.
      modulated_norm(p + "self_attn.adaln", layer, tokens_, true);
      linear(p + "self_attn.qkv", layer, tokens_, 3 * width, h_, true, WeightModule::attention);
      if (m_.qk_norm) {
        norm(p + "self_attn.q_norm", layer, tokens_, width);
        norm(p + "self_attn.k_norm", layer, tokens_, width);
      }
      rope(p + "self_attn.rope", layer, u128(tokens_) * 2 * heads_, d_);
      AttentionShape a;
      a.heads = a.kv_heads = static_cast<int>(heads_);
      a.head_dim = m_.head_dim;
      attention_op(p + "self_attn.attention", layer, a, samples, tokens, tokens, false);
      linear(p + "self_attn.o", layer, tokens_, h_, width, true, WeightModule::attention);
      if (tp_ > 1) collective(p + "self_attn.allreduce", layer, OpKind::allreduce, tokens_, h_);
      gated_residual(p + "self_attn.residual", layer);
      // Cross-attention to the sample's text tokens (keys and values from the text embedding).
      if (d.cross_attn_norm) modulated_norm(p + "cross_attn.norm", layer, tokens_, false);
      linear(p + "cross_attn.q", layer, tokens_, width, h_, true, WeightModule::attention);
      if (m_.qk_norm) norm(p + "cross_attn.q_norm", layer, tokens_, width);
      linear(p + "cross_attn.kv", layer, text, 2 * width, h_, true, WeightModule::attention);
      if (m_.qk_norm) norm(p + "cross_attn.k_norm", layer, text, width);
      attention_op(p + "cross_attn.attention", layer, a, samples, tokens, static_cast<uint64_t>(d.text_len), false);
      linear(p + "cross_attn.o", layer, tokens_, h_, width, true, WeightModule::attention);
      if (tp_ > 1) collective(p + "cross_attn.allreduce", layer, OpKind::allreduce, tokens_, h_);
      residual(p + "cross_attn.residual", layer);
      // The FFN (GELU-tanh, no gate) between its adaLN and its gated residual.
      modulated_norm(p + "ffn.adaln", layer, tokens_, true);
      linear(p + "ffn.up", layer, tokens_, dense_inter_, h_, true, WeightModule::mlp);
      activation(p + "ffn.act", layer, dense_inter_);
      linear(p + "ffn.down", layer, tokens_, h_, dense_inter_, true, WeightModule::mlp);
      if (tp_ > 1) collective(p + "ffn.allreduce", layer, OpKind::allreduce, tokens_, h_);
      gated_residual(p + "ffn.residual", layer);
    }
    // The head: adaLN with its own two vectors, then each token back to its patch of latents.
    modulated_norm("dit.head.adaln", -1, tokens_, true);
    linear("dit.head", -1, tokens_, static_cast<uint64_t>(d.out_channels) * patch, h_, true, WeightModule::lm_head);
  }

 private:
  // LayerNorm then x * (1 + scale) + shift. `per_sample`: adaLN, the scale and shift of each sample
  // (its modulation table's rows plus the timestep's vectors); otherwise the norm's gamma and beta.
  void modulated_norm(std::string name, int layer, uint64_t rows, bool per_sample) {
    Op& op = add(std::move(name), layer, OpKind::modulated_norm);
    op.shape = RowsShape{rows, h_};
    op.flops = fit(u128(rows) * h_ * kLayerNormFlops, "adaLN FLOPs");  // normalize, scale and shift
    op.weight_bytes = 2 * h_ * ab_;  // the table's two rows, or gamma and beta
    const u128 vectors = per_sample ? u128(batch_) * 2 * h_ * ab_ : 0;
    op.act_bytes = fit(2 * u128(rows) * h_ * ab_ + vectors, "adaLN bytes");
  }

  // x + gate * y with the sample's gate vector (one row of the modulation table plus the timestep's).
  void gated_residual(std::string name, int layer) {
    Op& op = add(std::move(name), layer, OpKind::gated_residual);
    op.shape = RowsShape{tokens_, h_};
    op.flops = fit(u128(tokens_) * h_ * 2, "gated residual FLOPs");  // multiply, add
    op.weight_bytes = h_ * ab_;
    op.act_bytes = fit(3 * u128(tokens_) * h_ * ab_ + u128(batch_) * h_ * ab_, "gated residual bytes");
  }

  Op& add(std::string name, int layer, OpKind kind) {
    Op op;
    op.name = std::move(name);
    op.layer = layer;
    op.kind = kind;
    ops_.push_back(std::move(op));
    return ops_.back();
  }

  // q, k, v projections, rope, the cache append, attention and the output projection.
  void standard_attention(const std::string& p, int layer) {
    linear(p + "attn.qkv", layer, tokens_, (heads_ + 2 * kv_heads_) * d_, h_, m_.qkv_bias, WeightModule::attention);
    if (m_.qk_norm) {
      norm(p + "attn.q_norm", layer, u128(tokens_) * heads_, d_);
      norm(p + "attn.k_norm", layer, u128(tokens_) * kv_heads_, d_);
    }
    // Llama 4's NoPE layers have no rotary embedding at all.
    if (m_.layer_has_rope(layer)) rope(p + "attn.rope", layer, u128(tokens_) * (heads_ + kv_heads_), d_);
    kv_append(p + "attn.kv_append", layer, 2 * kv_heads_ * d_);
    AttentionShape a;
    a.heads = static_cast<int>(heads_);
    a.kv_heads = static_cast<int>(kv_heads_);
    a.head_dim = m_.head_dim;
    a.sinks = m_.attention_sinks;
    attention(p + "attn.attention", layer, a);
    linear(p + "attn.o", layer, tokens_, h_, heads_ * d_, m_.o_bias, WeightModule::attention);
  }

  // Multi-head latent attention. Queries through their low-rank bottleneck; the latent and the
  // rope key (kv_a, replicated on every chip under tensor parallelism) are what the cache holds.
  // Prefill expands the latent into every head's key and value (kv_b) and attends as MHA; decode
  // absorbs kv_b's key half into the query (q_absorb) and its value half after attention
  // (out_absorb), so attention runs as one shared latent "head" of kv_lora + rope over the cache,
  // the way production engines run MLA decode.
  void mla_attention(const std::string& p, int layer) {
    const MlaDims& d = m_.mla_dims;
    const uint64_t qk = static_cast<uint64_t>(d.qk_head_dim()), nope = static_cast<uint64_t>(d.qk_nope_head_dim);
    const uint64_t rope_dim = static_cast<uint64_t>(d.qk_rope_head_dim), v = static_cast<uint64_t>(d.v_head_dim);
    const uint64_t lora = static_cast<uint64_t>(d.kv_lora_rank), cache = static_cast<uint64_t>(d.cache_width());
    if (d.q_lora_rank > 0) {
      const uint64_t q_lora = static_cast<uint64_t>(d.q_lora_rank);
      linear(p + "attn.q_a", layer, tokens_, q_lora, h_, false, WeightModule::attention);
      norm(p + "attn.q_a_norm", layer, tokens_, q_lora);
      linear(p + "attn.q_b", layer, tokens_, heads_ * qk, q_lora, false, WeightModule::attention);
    } else {
      linear(p + "attn.q", layer, tokens_, heads_ * qk, h_, false, WeightModule::attention);
    }
    linear(p + "attn.kv_a", layer, tokens_, cache, h_, false, WeightModule::attention);
    norm(p + "attn.kv_a_norm", layer, tokens_, lora);
    rope(p + "attn.rope", layer, u128(tokens_) * (heads_ + 1), rope_dim);  // every query head, one key
    kv_append(p + "attn.kv_append", layer, cache);
    AttentionShape a;
    a.heads = static_cast<int>(heads_);
    if (spec_.phase == Phase::prefill) {
      linear(p + "attn.kv_b", layer, tokens_, heads_ * (nope + v), lora, false, WeightModule::attention);
      a.kv_heads = static_cast<int>(heads_);
      a.head_dim = static_cast<int>(qk);
      a.v_head_dim = static_cast<int>(v);
      attention(p + "attn.attention", layer, a);
    } else {
      // A per-head batched matmul, lowered as one linear of the same FLOPs and weights.
      linear(p + "attn.q_absorb", layer, tokens_, heads_ * lora, nope, false, WeightModule::attention);
      a.kv_heads = 1;
      a.head_dim = static_cast<int>(cache);
      a.v_head_dim = static_cast<int>(lora);
      a.shared_kv = true;
      attention(p + "attn.attention_latent", layer, a);
      linear(p + "attn.out_absorb", layer, tokens_, heads_ * v, lora, false, WeightModule::attention);
    }
    linear(p + "attn.o", layer, tokens_, h_, heads_ * v, false, WeightModule::attention);
  }

  // Gate/up (or up), the activation and down, `width` wide on this chip.
  void dense_mlp(const std::string& p, int layer, uint64_t width) {
    const uint64_t first = mlp_gated(m_.mlp) ? 2 * width : width;
    linear(p + (mlp_gated(m_.mlp) ? "gate_up" : "up"), layer, tokens_, first, h_, m_.mlp_bias, WeightModule::mlp);
    activation(p + "act", layer, width);
    linear(p + "down", layer, tokens_, h_, width, m_.mlp_bias, WeightModule::mlp);
  }

  // The router, the shared experts (every token runs them), then the routed experts.
  void moe_block(const std::string& p, int layer) {
    router(p + "mlp.router", layer);
    if (shared_inter_ > 0) {
      dense_mlp(p + "mlp.shared_", layer, shared_inter_);
      if (m_.shared_expert_gate) linear(p + "mlp.shared_gate", layer, tokens_, 1, h_, false, WeightModule::mlp);
    }
    const uint64_t pairs = tokens_ * static_cast<uint64_t>(m_.experts_per_token);
    // Data-parallel attention: tokens travel to their experts' chips and back (all-to-all).
    // Tensor-parallel attention: every chip already holds every token; each runs its experts
    // and an all-reduce sums the experts' outputs.
    const bool dispatch = spec_.ep > 1 && tp_ == 1;
    if (dispatch) collective(p + "mlp.dispatch", layer, OpKind::alltoall, pairs, h_);
    experts(p + "mlp.experts", layer);
    if (dispatch) collective(p + "mlp.combine", layer, OpKind::alltoall, pairs, h_);
  }

  void embedding() {
    Op& op = add("embedding", -1, OpKind::embedding);
    op.shape = RowsShape{tokens_, h_};
    op.flops = 0;  // a gather: no arithmetic
    op.weight_format = weight_format_of(m_, spec_, WeightModule::embedding);
    op.weight_bytes = fit(u128(tokens_) * op.weight_format.bytes(h_), "embedding bytes");  // one table row per token
    op.act_bytes = fit(u128(tokens_) * kTokenIdBytes + u128(tokens_) * h_ * ab_, "embedding bytes");
  }

  // `part` decides the weight's storage format (a quantization_config converts some parts only).
  void linear(std::string name, int layer, u128 m, uint64_t n, uint64_t k, bool bias, WeightModule part) {
    Op& op = add(std::move(name), layer, OpKind::linear);
    op.shape = MatmulShape{fit(m, "linear rows"), n, k, bias};
    op.flops = fit(2 * m * n * k + (bias ? m * n : 0), "linear FLOPs");
    op.weight_format = weight_format_of(m_, spec_, part);
    op.weight_bytes = fit(u128(op.weight_format.bytes(k, n)) + (bias ? u128(n) * ab_ : 0),
                          "linear weight bytes");
    op.act_bytes = fit((m * k + m * n) * ab_, "linear activation bytes");
  }

  void norm(std::string name, int layer, u128 rows, uint64_t width) {
    const bool layernorm = m_.norm == NormKind::layernorm;
    Op& op = add(std::move(name), layer, OpKind::norm);
    op.shape = RowsShape{fit(rows, "norm rows"), width};
    op.flops = fit(rows * width * (layernorm ? kLayerNormFlops : kRmsNormFlops), "norm FLOPs");
    op.weight_bytes = (layernorm ? 2 : 1) * width * ab_;  // gamma (and beta) at the activation dtype
    op.act_bytes = fit(2 * rows * width * ab_, "norm bytes");
  }

  void rope(std::string name, int layer, u128 rows, uint64_t width) {
    Op& op = add(std::move(name), layer, OpKind::rope);
    op.shape = RowsShape{fit(rows, "rope rows"), width};
    op.flops = fit(rows * width * kRopeFlops, "rope FLOPs");
    op.act_bytes = fit(2 * rows * width * ab_, "rope bytes");  // cos/sin are computed, not read
  }

  // Writes `width` cache elements per token (k and v of every KV head, or MLA's latent).
  void kv_append(std::string name, int layer, uint64_t width) {
    Op& op = add(std::move(name), layer, OpKind::kv_append);
    op.shape = RowsShape{tokens_, width};
    op.flops = 0;  // a copy
    op.act_bytes = fit(u128(tokens_) * width * ab_, "kv_append bytes");  // read k and v
    op.kv_bytes = fit(u128(tokens_) * width * kvb_, "kv_append bytes");  // write them into the cache
  }

  // Tensor-parallel exchange of m x n activations: read from HBM, exchanged over the links,
  // written back (the reduction's adds are not counted).
  void collective(std::string name, int layer, OpKind kind, uint64_t m, uint64_t n) {
    Op& op = add(std::move(name), layer, kind);
    op.shape = RowsShape{m, n};
    op.act_bytes = fit(2 * u128(m) * n * ab_, "collective bytes");
  }

  // Keys a decoded token attends in `layer` after `context` cached tokens: all of them and
  // itself, the last `window` of those, or those of its own chunk.
  uint64_t decode_keys(int layer, uint64_t context) const {
    switch (m_.attention_of(layer)) {
      case LayerAttention::full: return context + 1;
      case LayerAttention::sliding: return std::min<uint64_t>(context + 1, static_cast<uint64_t>(m_.sliding_window));
      case LayerAttention::chunked: return context % static_cast<uint64_t>(m_.attention_chunk_size) + 1;
    }
    return context + 1;
  }

  // A causal block's window: a sliding layer's (a chunked layer's chunk bounds it for prefill
  // chunks of a ragged step, an upper bound on its keys).
  uint64_t causal_window(int layer) const {
    switch (m_.attention_of(layer)) {
      case LayerAttention::full: return 0;
      case LayerAttention::sliding: return static_cast<uint64_t>(m_.sliding_window);
      case LayerAttention::chunked: return static_cast<uint64_t>(m_.attention_chunk_size);
    }
    return 0;
  }

  // The layer's attention ops, from `a`'s heads and head sizes.
  void attention(std::string name, int layer, AttentionShape a) {
    if (spec_.ragged()) {
      // The decodes together, as a paged-attention kernel runs them: one op over their mean
      // attended length (the same keys read in all, to rounding up); then one op per shape of
      // prefill chunk (new tokens, context), of the same name.
      uint64_t decodes = 0, keys = 0;
      std::map<std::pair<uint64_t, uint64_t>, uint64_t> chunks;
      for (const SequenceShape& s : spec_.sequences) {
        if (s.new_tokens == 1) {
          ++decodes;
          keys += decode_keys(layer, s.context);
        } else {
          ++chunks[{s.new_tokens, s.context}];
        }
      }
      if (decodes > 0) attention_op(name, layer, a, decodes, 1, (keys + decodes - 1) / decodes, false);
      a.window = causal_window(layer);
      for (const auto& [shape, count] : chunks) {
        attention_op(name, layer, a, count, shape.first, shape.second + shape.first, true);
      }
      return;
    }
    if (spec_.phase == Phase::decode) {
      attention_op(std::move(name), layer, a, batch_, 1, decode_keys(layer, static_cast<uint64_t>(spec_.context_len)),
                   false);
      return;
    }
    const auto q = static_cast<uint64_t>(spec_.prompt_len);
    if (m_.attention_of(layer) == LayerAttention::chunked) {
      // Chunks attend only within themselves: full chunks as sequences of their own, then the rest.
      const uint64_t chunk = static_cast<uint64_t>(m_.attention_chunk_size);
      if (q >= chunk) attention_op(name, layer, a, batch_ * (q / chunk), chunk, chunk, true);
      if (q % chunk > 0) attention_op(name, layer, a, batch_, q % chunk, q % chunk, true);
      return;
    }
    a.window = causal_window(layer);
    attention_op(std::move(name), layer, a, batch_, q, q, true);
  }

  // Keys attended by the queries t = from + 1 .. to (1-based positions), each the last `window`
  // of its keys (0: all).
  static u128 causal_scores(u128 from, u128 to, u128 window) {
    const auto upto = [&](u128 n) {  // sum over t = 1 .. n of min(t, window)
      if (window == 0 || n <= window) return n * (n + 1) / 2;
      return window * (window + 1) / 2 + (n - window) * window;
    };
    return upto(to) - upto(from);
  }

  // `batch` sequences of q_len queries over kv_len keys (the last q_len of them new).
  void attention_op(std::string name, int layer, AttentionShape a, uint64_t batch, uint64_t q_len, uint64_t kv_len,
                    bool causal) {
    Op& op = add(std::move(name), layer, OpKind::attention);
    a.batch = static_cast<int>(batch);
    a.q_len = q_len;
    a.kv_len = kv_len;
    a.causal = causal;
    if (!causal || (a.window > 0 && a.window >= kv_len)) a.window = 0;  // no key falls outside it
    op.shape = a;
    // Scores per head and sequence: a causal query at position i (of q_len, the last at kv_len - 1)
    // attends kv_len - q_len + i + 1 keys, or the last `window` of them.
    const u128 q = a.q_len, kv = a.kv_len;
    const u128 scores = a.causal ? causal_scores(kv - q, kv, a.window) : q * kv;
    const u128 bh = u128(batch) * a.heads;
    const u128 d = static_cast<uint64_t>(a.head_dim), dv = static_cast<uint64_t>(a.value_dim());
    // Q K^T over head_dim and P V over the value width; soft-capping and sinks in the softmax.
    const u128 per_score = 2 * (d + dv) + kSoftmaxFlops + (m_.attn_logit_softcap > 0 ? kSoftcapFlops : 0);
    // A sink is one more logit per query row and head: its softmax term without a dot product.
    const u128 sink = a.sinks ? kSoftmaxFlops * bh * q : 0;
    op.flops = fit(bh * scores * per_score + sink, "attention FLOPs");
    op.weight_bytes = a.sinks ? static_cast<uint64_t>(a.heads) * ab_ : 0;  // the sink logits
    op.act_bytes = fit(bh * q * (d + dv) * ab_, "attention bytes");  // read q, write the output
    // Keys read once per sequence and KV head: those the first query's window starts at onward.
    const u128 first_key = a.window > 0 && kv - q + 1 > a.window ? kv - q + 1 - a.window : 0;
    const u128 per_key = a.shared_kv ? d : u128(a.kv_heads) * (d + dv);
    op.kv_bytes = fit(u128(batch) * (kv - first_key) * per_key * kvb_, "attention KV bytes");  // read K and V
  }

  void residual(std::string name, int layer) {
    Op& op = add(std::move(name), layer, OpKind::residual_add);
    op.shape = RowsShape{tokens_, h_};
    op.flops = fit(u128(tokens_) * h_ * kResidualFlops, "residual FLOPs");
    op.act_bytes = fit(3 * u128(tokens_) * h_ * ab_, "residual bytes");  // read two, write one
  }

  void activation(std::string name, int layer, uint64_t width) { activation_rows(std::move(name), layer, tokens_, width); }

  void activation_rows(std::string name, int layer, uint64_t rows, uint64_t width) {
    Op& op = add(std::move(name), layer, OpKind::activation);
    const uint64_t in = mlp_gated(m_.mlp) ? 2 * width : width;
    op.shape = RowsShape{rows, in};  // [gate | up] when gated, up for GELU; out: `width` wide
    op.flops = fit(u128(rows) * width * kActivationFlops, "activation FLOPs");
    op.act_bytes = fit((u128(rows) * in + u128(rows) * width) * ab_, "activation bytes");
  }

  void router(std::string name, int layer) {
    Op& op = add(std::move(name), layer, OpKind::moe_router);
    const uint64_t e = static_cast<uint64_t>(m_.num_experts);
    op.shape = MatmulShape{tokens_, e, h_, false};  // logits over the experts
    op.flops = fit(2 * u128(tokens_) * h_ * e + (m_.router_bias ? u128(tokens_) * e : 0), "router FLOPs");
    op.weight_format = weight_format_of(m_, spec_, WeightModule::router);
    op.weight_bytes = op.weight_format.bytes(h_, e) + (m_.router_bias ? e * ab_ : 0);
    op.act_bytes = fit((u128(tokens_) * h_ + u128(tokens_) * e) * ab_, "router bytes");  // writes logits
  }

  void experts(std::string name, int layer) {
    Op& op = add(std::move(name), layer, OpKind::moe_experts);
    const uint64_t topk = static_cast<uint64_t>(m_.experts_per_token);
    const int ep = std::max(1, spec_.ep);
    const int local = m_.num_experts / ep;
    ExpertsShape shape;
    shape.tokens = tokens_;
    const uint64_t inter_ = expert_inter_;
    const uint64_t gate_up_ = mlp_gated(m_.mlp) ? 2 * inter_ : inter_;
    shape.intermediate = inter_;
    shape.hidden = h_;
    shape.bias = m_.mlp_bias;
    shape.experts = local;
    shape.experts_per_token = m_.experts_per_token;
    // Token-expert pairs of every expert: all chips' tokens route by the load weights (largest
    // remainders, so the counts add up exactly); this chip runs experts [rank x local, ...).
    const uint64_t all_tokens = tp_ > 1 ? tokens_ : tokens_ * static_cast<uint64_t>(ep);
    const uint64_t all_pairs = all_tokens * topk;
    std::vector<double> w = spec_.expert_load;
    if (w.empty()) w.assign(static_cast<std::size_t>(m_.num_experts), 1.0);
    double sum = 0;
    for (double x : w) sum += x;
    std::vector<uint64_t> counts(w.size());
    std::vector<std::pair<double, std::size_t>> rest;
    uint64_t given = 0;
    for (std::size_t e = 0; e < w.size(); ++e) {
      const double exact = static_cast<double>(all_pairs) * w[e] / sum;
      counts[e] = static_cast<uint64_t>(exact);
      given += counts[e];
      rest.emplace_back(exact - static_cast<double>(counts[e]), e);
    }
    std::stable_sort(rest.begin(), rest.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t i = 0; given < all_pairs; ++i, ++given) ++counts[rest[i % rest.size()].second];
    u128 routed = 0;
    uint64_t hit = 0;
    for (int e = spec_.ep_rank * local; e < (spec_.ep_rank + 1) * local; ++e) {
      shape.expert_tokens.push_back(counts[static_cast<std::size_t>(e)]);
      routed += counts[static_cast<std::size_t>(e)];
      hit += counts[static_cast<std::size_t>(e)] > 0 ? 1 : 0;
    }
    op.shape = std::move(shape);
    const u128 matmul = routed * (2 * h_ * gate_up_ + 2 * inter_ * h_);
    const u128 bias = m_.mlp_bias ? routed * (gate_up_ + h_) : 0;
    const u128 act = routed * inter_ * kActivationFlops;
    const u128 combine = u128(tokens_) * topk * h_ * 2;  // weight each expert's output and sum
    op.flops = fit(matmul + bias + act + combine, "expert FLOPs");
    op.weight_format = weight_format_of(m_, spec_, WeightModule::mlp);
    const u128 per_expert = u128(op.weight_format.bytes(h_, gate_up_)) + op.weight_format.bytes(inter_, h_) +
                            (m_.mlp_bias ? u128(gate_up_ + h_) * ab_ : 0);
    if (spec_.expert_load.empty()) {
      // Uniform routing: prefill touches every expert; decode the expected number of distinct
      // experts T tokens hit, E (1 - (1 - k/E)^T), this chip's share of them.
      const double share = static_cast<double>(local) / m_.num_experts;
      const double experts_read =
          spec_.phase == Phase::prefill
              ? static_cast<double>(local)
              : share * expected_distinct_experts(m_.num_experts, m_.experts_per_token, all_tokens);
      op.weight_bytes = static_cast<uint64_t>(std::llround(experts_read * static_cast<double>(per_expert)));
    } else {
      op.weight_bytes = fit(per_expert * hit, "expert weight bytes");  // the experts that get tokens
    }
    op.act_bytes = fit(2 * u128(tokens_) * h_ * ab_, "expert bytes");  // read x, write the combined output
  }

  void sampling() {
    Op& op = add("sampling", -1, OpKind::sampling);
    op.shape = RowsShape{batch_, vocab_};
    const uint64_t per_logit = kSamplingFlops + (m_.final_logit_softcap > 0 ? kSoftcapFlops : 0);
    op.flops = fit(u128(batch_) * vocab_ * per_logit, "sampling FLOPs");
    op.act_bytes = fit(u128(batch_) * vocab_ * ab_ + u128(batch_) * kTokenIdBytes, "sampling bytes");
  }

  const ModelConfig& m_;
  const RunSpec& spec_;
  const uint64_t ab_, kvb_;
  const uint64_t tokens_, batch_, h_;
  const uint64_t d_;
  uint64_t heads_, kv_heads_, vocab_;  // per chip under tensor parallelism, like the MLP widths
  const uint64_t tp_;
  // MLP widths on this chip: the dense layers', each routed expert's, the shared experts'.
  uint64_t dense_inter_ = 0, expert_inter_ = 0, shared_inter_ = 0;
  std::vector<Op> ops_;
};

// A denoising step: a DiT and its video shape (whose latent tokens dit_latent_tokens checks).
void check_denoise_spec(const ModelConfig& model, const RunSpec& spec) {
  if (!model.is_dit()) {
    throw Error(fmt::format("phase denoise needs a diffusion transformer; model {} is a language model (use prefill "
                            "or decode)",
                            model.name));
  }
  if (spec.ragged()) throw Error(fmt::format("model {} is a diffusion transformer: sequences do not apply", model.name));
  if (spec.pp > 1 || spec.ep > 1) {
    throw Error(fmt::format("model {}: a diffusion transformer runs on one chip or tensor parallel, not with pp {} or "
                            "ep {}",
                            model.name, spec.pp, spec.ep));
  }
  if (spec.batch < 1) throw Error(fmt::format("batch must be at least 1, got {}", spec.batch));
  if (spec.batch > (1 << 20)) throw Error(fmt::format("batch {} is beyond any video batch (at most 1048576)", spec.batch));
  if (spec.denoise_steps < 1) throw Error(fmt::format("denoise_steps must be at least 1, got {}", spec.denoise_steps));
  if (spec.tp < 1) throw Error(fmt::format("tensor parallel degree must be at least 1, got {}", spec.tp));
  if (spec.tp > 1) {
    for (const auto& [what, value] : {std::pair<const char*, int>{"attention heads", model.num_heads},
                                      std::pair<const char*, int>{"FFN width", model.intermediate_size}}) {
      if (value % spec.tp != 0) {
        throw Error(fmt::format("tp {} does not divide model {}'s {} ({})", spec.tp, model.name, what, value));
      }
    }
  }
  dit_latent_tokens(model, spec.video_frames, spec.video_height, spec.video_width);
}

void check_spec(const ModelConfig& model, const RunSpec& spec) {
  if (spec.phase == Phase::denoise || model.is_dit()) {
    if (spec.phase != Phase::denoise) {
      throw Error(fmt::format("model {} is a diffusion transformer: its step is phase denoise, not {}", model.name,
                              phase_name(spec.phase)));
    }
    check_denoise_spec(model, spec);
    return;
  }
  if (spec.ragged()) {
    if (spec.ep > 1 || spec.pp > 1) {
      throw Error(fmt::format("a ragged step (sequences) runs on one chip or tensor parallel, not with ep {} or pp {}",
                              spec.ep, spec.pp));
    }
    for (std::size_t i = 0; i < spec.sequences.size(); ++i) {
      const SequenceShape& s = spec.sequences[i];
      if (s.new_tokens < 1) throw Error(fmt::format("sequence {} computes {} new tokens: at least 1", i, s.new_tokens));
      if (s.context + s.new_tokens > static_cast<uint64_t>(model.max_position_embeddings)) {
        throw Error(fmt::format("sequence {}: context {} plus {} new tokens exceeds max_position_embeddings {} of "
                                "model {}",
                                i, s.context, s.new_tokens, model.max_position_embeddings, model.name));
      }
    }
  }
  if (spec.batch < 1) throw Error(fmt::format("batch must be at least 1, got {}", spec.batch));
  if (spec.context_len < 0) throw Error(fmt::format("context_len must be at least 0, got {}", spec.context_len));
  if (spec.tp < 1) throw Error(fmt::format("tensor parallel degree must be at least 1, got {}", spec.tp));
  if (spec.ep < 1) throw Error(fmt::format("expert parallel degree must be at least 1, got {}", spec.ep));
  if (spec.pp < 1) throw Error(fmt::format("pipeline parallel degree must be at least 1, got {}", spec.pp));
  if (spec.pp > 1) {
    if (model.num_layers % spec.pp != 0) {
      throw Error(fmt::format("pp {} does not divide model {}'s {} layers", spec.pp, model.name, model.num_layers));
    }
    if (spec.micro_batches < 1 || spec.batch % spec.micro_batches != 0) {
      throw Error(fmt::format("micro_batches {} must be at least 1 and divide the batch ({})", spec.micro_batches,
                              spec.batch));
    }
  }
  if (spec.ep > 1) {
    if (!model.is_moe()) throw Error(fmt::format("ep {}: model {} has no experts", spec.ep, model.name));
    if (spec.tp > 1 && spec.tp != spec.ep) {
      throw Error(fmt::format("ep {} with tp {}: expert and tensor parallelism must span the same chips", spec.ep,
                              spec.tp));
    }
    if (model.num_experts % spec.ep != 0) {
      throw Error(fmt::format("ep {} does not divide model {}'s {} experts", spec.ep, model.name, model.num_experts));
    }
    if (spec.tp == 1 && spec.batch % spec.ep != 0) {
      throw Error(fmt::format("ep {}: the batch ({}) is split over the chips and must divide evenly", spec.ep,
                              spec.batch));
    }
  }
  if (!spec.expert_load.empty() && static_cast<int>(spec.expert_load.size()) != model.num_experts) {
    throw Error(fmt::format("the expert load has {} weights; model {} has {} experts", spec.expert_load.size(),
                            model.name, model.num_experts));
  }
  if (spec.tp > 1) {
    const int tp = spec.tp;
    auto require = [&](bool ok, const char* what, int value) {
      if (!ok) {
        throw Error(fmt::format("tp {} does not divide model {}'s {} ({})", tp, model.name, what, value));
      }
    };
    require(model.num_heads % tp == 0, "attention heads", model.num_heads);
    require(model.num_kv_heads % tp == 0 || tp % model.num_kv_heads == 0, "KV heads", model.num_kv_heads);
    if (model.has_dense_mlp_layers()) {
      require(model.intermediate_size % tp == 0, "intermediate size", model.intermediate_size);
    }
    if (model.is_moe() && spec.ep <= 1) {
      require(model.expert_width() % tp == 0, "expert intermediate size", model.expert_width());
    }
    require(model.shared_expert_intermediate_size % tp == 0, "shared expert intermediate size",
            model.shared_expert_intermediate_size);
  }
  const int max_pos = model.max_position_embeddings;
  if (spec.ragged()) {
    // checked above, sequence by sequence
  } else if (spec.phase == Phase::prefill) {
    if (spec.prompt_len < 1) {
      throw Error(fmt::format("prefill prompt_len must be at least 1, got {}", spec.prompt_len));
    }
    if (spec.prompt_len > max_pos) {
      throw Error(fmt::format("prompt_len {} exceeds max_position_embeddings {} of model {}", spec.prompt_len,
                              max_pos, model.name));
    }
  } else {
    if (spec.context_len < 1) {
      throw Error(fmt::format("decode context_len must be at least 1, got {}", spec.context_len));
    }
    if (static_cast<long long>(spec.context_len) + 1 > max_pos) {
      throw Error(fmt::format("context_len {} plus the decoded token exceeds max_position_embeddings {} of "
                              "model {}",
                              spec.context_len, max_pos, model.name));
    }
  }
}

// Per sequence (the longest, for a ragged step).
uint64_t cached_tokens_after_step(const RunSpec& spec) {
  if (spec.ragged()) {
    uint64_t most = 0;
    for (const SequenceShape& s : spec.sequences) most = std::max(most, s.context + s.new_tokens);
    return most;
  }
  return spec.phase == Phase::prefill ? static_cast<uint64_t>(spec.prompt_len)
                                      : static_cast<uint64_t>(spec.context_len) + 1;
}

}  // namespace

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::prefill: return "prefill";
    case Phase::decode: return "decode";
    case Phase::denoise: return "denoise";
  }
  return "?";
}

const char* op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::modulated_norm: return "modulated_norm";
    case OpKind::gated_residual: return "gated_residual";
    case OpKind::embedding: return "embedding";
    case OpKind::norm: return "norm";
    case OpKind::linear: return "linear";
    case OpKind::rope: return "rope";
    case OpKind::kv_append: return "kv_append";
    case OpKind::attention: return "attention";
    case OpKind::residual_add: return "residual_add";
    case OpKind::activation: return "activation";
    case OpKind::moe_router: return "moe_router";
    case OpKind::moe_experts: return "moe_experts";
    case OpKind::sampling: return "sampling";
    case OpKind::allreduce: return "allreduce";
    case OpKind::allgather: return "allgather";
    case OpKind::alltoall: return "alltoall";
    case OpKind::pp_recv: return "pp_recv";
    case OpKind::pp_send: return "pp_send";
  }
  return "?";
}

std::uint64_t RunSpec::tokens() const {
  if (ragged()) {
    uint64_t n = 0;
    for (const SequenceShape& s : sequences) n += s.new_tokens;
    return n;
  }
  if (batch < 1) return 0;
  const uint64_t b = static_cast<uint64_t>(batch);
  if (phase == Phase::decode) return b;
  if (phase == Phase::denoise) return static_cast<uint64_t>(samples()) * latent_tokens;
  return prompt_len < 1 ? 0 : b * static_cast<uint64_t>(prompt_len);
}

std::uint64_t StepGraph::flops() const {
  u128 total = 0;
  for (const auto& op : ops) total += op.flops;
  return fit(total, "total FLOPs");
}

std::uint64_t StepGraph::hbm_bytes() const {
  u128 total = 0;
  for (const auto& op : ops) total += op.hbm_bytes();
  return fit(total, "total HBM bytes");
}

std::uint64_t StepGraph::weight_bytes() const {
  const ParamCounts c = model.param_counts();
  const auto part = [&](WeightModule m, std::uint64_t values) {
    return u128(weight_format_of(model, spec, m).bytes(values));
  };
  // Norm gammas and biases at the activation dtype, as the ops read them; sinks at the weight dtype.
  return fit(part(WeightModule::embedding, c.embedding) + part(WeightModule::attention, c.attention) +
                 part(WeightModule::mlp, c.mlp) + part(WeightModule::router, c.router) +
                 part(WeightModule::lm_head, c.lm_head) + u128(c.sinks) * isa::dtype_bytes(spec.weight_dtype) +
                 (u128(c.norms) + c.biases) * isa::dtype_bytes(spec.act_dtype),
             "weight bytes");
}

WeightFormat weight_format_of(const ModelConfig& model, const RunSpec& spec, WeightModule part) {
  if (spec.checkpoint_weights && model.quantization.converts(part)) return model.quantization.format;
  return plain_weight_format(spec.weight_dtype);
}

std::uint64_t StepGraph::kv_cache_bytes() const {
  std::vector<uint64_t> lengths;  // cached tokens of each sequence after the step
  if (spec.ragged()) {
    for (const SequenceShape& s : spec.sequences) lengths.push_back(s.context + s.new_tokens);
  } else {
    lengths.assign(static_cast<std::size_t>(std::max(0, spec.batch)), cached_tokens_after_step(spec));
  }
  u128 elements = 0;
  for (int layer = 0; layer < model.num_layers; ++layer) {
    u128 tokens = 0;
    for (uint64_t n : lengths) tokens += model.cached_tokens(layer, n);
    elements += tokens * model.kv_elements_per_token(layer);
  }
  return fit(elements * isa::dtype_bytes(spec.kv_dtype), "KV cache bytes");
}

void check_run_spec(const ModelConfig& model, const RunSpec& spec) { check_spec(model, with_defaults(spec)); }

RunSpec with_defaults(RunSpec spec) {
  if (spec.ragged()) {
    spec.batch = static_cast<int>(std::min<std::size_t>(spec.sequences.size(), std::numeric_limits<int>::max()));
    const bool decode = std::all_of(spec.sequences.begin(), spec.sequences.end(),
                                    [](const SequenceShape& s) { return s.new_tokens == 1; });
    spec.phase = decode ? Phase::decode : Phase::prefill;
  }
  if (spec.micro_batches == 0) spec.micro_batches = std::max(1, std::min(spec.pp, spec.batch));
  return spec;
}

StepGraph build_step_graph(const ModelConfig& model, const RunSpec& requested) {
  RunSpec spec = with_defaults(requested);
  validate_model(model);
  check_spec(model, spec);
  if (spec.phase == Phase::denoise) {
    spec.latent_tokens = dit_latent_tokens(model, spec.video_frames, spec.video_height, spec.video_width);
  }
  StepGraph graph;
  graph.model = model;
  graph.spec = spec;
  graph.ops = Builder(model, spec).build();
  return graph;
}

namespace {
template <class Shape>
const Shape& shape_of(const Op& op, const char* what) {
  if (const Shape* s = std::get_if<Shape>(&op.shape)) return *s;
  throw Error(fmt::format("internal: op {} ({}) has no {} shape", op.name, op_kind_name(op.kind), what));
}
}  // namespace

const MatmulShape& Op::matmul() const { return shape_of<MatmulShape>(*this, "matmul"); }
const AttentionShape& Op::attention() const { return shape_of<AttentionShape>(*this, "attention"); }
const RowsShape& Op::rows() const { return shape_of<RowsShape>(*this, "rows"); }
const ExpertsShape& Op::experts() const { return shape_of<ExpertsShape>(*this, "experts"); }

std::string op_group_name(const Op& op) {
  if (op.layer < 0) return op.name;
  const std::string prefix = fmt::format("layer{}.", op.layer);
  return op.name.compare(0, prefix.size(), prefix) == 0 ? op.name.substr(prefix.size()) : op.name;
}

double expected_distinct_experts(int experts, int experts_per_token, std::uint64_t tokens) {
  if (experts <= 0 || experts_per_token <= 0 || tokens == 0) return 0.0;
  const double e = experts;
  const double miss = 1.0 - static_cast<double>(experts_per_token) / e;  // one token misses a given expert
  return e * (1.0 - std::pow(miss, static_cast<double>(tokens)));
}

}  // namespace tasim::workloads

namespace tasim::workloads {

std::vector<double> parse_expert_load(const std::string& text, int experts) {
  if (text.empty() || text == "uniform") return {};
  std::vector<double> w;
  if (text.rfind("zipf:", 0) == 0) {
    double skew = 0;
    try {
      std::size_t used = 0;
      skew = std::stod(text.substr(5), &used);
      if (used != text.size() - 5) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw Error(fmt::format("expert load '{}': zipf needs a number, e.g. zipf:1.2", text));
    }
    if (!(skew >= 0) || skew > 10) throw Error(fmt::format("expert load '{}': the zipf skew must be in [0, 10]", text));
    for (int e = 0; e < experts; ++e) w.push_back(1.0 / std::pow(e + 1.0, skew));
    return w;
  }
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    try {
      std::size_t used = 0;
      const double v = std::stod(item, &used);
      if (used != item.size() || !(v >= 0) || !std::isfinite(v)) throw std::invalid_argument("bad");
      w.push_back(v);
    } catch (const std::exception&) {
      throw Error(fmt::format("expert load '{}': '{}' is not a non-negative number (use uniform, zipf:S or "
                              "w1,w2,... with one weight per expert)",
                              text, item));
    }
    start = comma + 1;
  }
  if (static_cast<int>(w.size()) != experts) {
    throw Error(fmt::format("expert load has {} weights; the model has {} experts", w.size(), experts));
  }
  double sum = 0;
  for (double x : w) sum += x;
  if (!(sum > 0)) throw Error("expert load: the weights add up to 0");
  return w;
}

}  // namespace tasim::workloads
