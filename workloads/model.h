// A transformer model's architecture, from a Hugging Face config.json (llama, mistral, mixtral,
// qwen2, qwen3, qwen2_moe, qwen3_moe, deepseek_v2/v3, kimi_k2, gpt_oss, gemma2, gemma3, llama4;
// Wan2.1's text-to-video diffusion transformer, model_type t2v) or our own YAML schema (configs/models/*.yaml). Shapes only: tasim never loads weights.
// docs/models.md lists what each family's fields become.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "workloads/weight_format.h"

namespace tasim::workloads {

enum class NormKind { rmsnorm, layernorm };
// swiglu: gate/up/down with SiLU; geglu: gate/up/down with GELU (Gemma); gelu: up/down with GELU
enum class MlpKind { swiglu, gelu, geglu };
inline bool mlp_gated(MlpKind k) { return k != MlpKind::gelu; }

// Which keys a layer's queries attend: every earlier key, the last `sliding_window` of them
// (Mistral v0.1, gpt-oss and Gemma's local layers), or the keys of their own chunk of
// `attention_chunk_size` positions (Llama 4's chunked layers).
enum class LayerAttention { full, sliding, chunked };

// Multi-head latent attention (DeepSeek-V2/V3, Kimi K2): queries through an optional low-rank
// bottleneck, keys and values from a shared latent of kv_lora_rank plus one rope key of
// qk_rope_head_dim per token, which is all the KV cache holds.
struct MlaDims {
  int q_lora_rank = 0;  // 0: a plain query projection (DeepSeek-V2-Lite)
  int kv_lora_rank = 0;
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;
  int qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  int cache_width() const { return kv_lora_rank + qk_rope_head_dim; }  // elements per token per layer
};

// A video diffusion transformer (Wan2.1's WanModel, docs/models.md "Diffusion transformers"):
// latent video patches attend each other (non-causal), cross-attend the text encoder's tokens, and
// are modulated per sample by the timestep's embedding (adaLN). The defaults are WanModel's.
struct DitDims {
  int in_channels = 16;   // latent channels in (in_dim)
  int out_channels = 16;  // latent channels predicted (out_dim)
  int patch_t = 1, patch_h = 2, patch_w = 2;  // patch_size: latent frames x rows x columns per token
  int text_len = 512;    // text tokens every sample cross-attends (the prompt padded to it)
  int text_dim = 4096;   // the text encoder's width (umT5-XXL)
  int freq_dim = 256;    // the sinusoidal timestep embedding's width
  bool cross_attn_norm = true;  // a LayerNorm (with gamma and beta) before cross-attention
  // The VAE's compression (Wan2.1's VAE: vae_stride (4, 8, 8)); not part of the DiT's config.
  int vae_stride_t = 4, vae_stride_h = 8, vae_stride_w = 8;
  int patch_elements() const { return patch_t * patch_h * patch_w; }
};

// Parameter count by part (all layers together). Biases are apart from the weights they belong
// to because graphs read them at the activation dtype, like norm gammas.
struct ParamCounts {
  std::uint64_t embedding = 0;  // vocab x hidden
  std::uint64_t attention = 0;  // q, k, v, o weights
  std::uint64_t mlp = 0;        // dense MLP weights, every routed expert's and the shared experts'
  std::uint64_t router = 0;     // MoE router weights (hidden x experts per MoE layer) and router biases
  std::uint64_t biases = 0;     // every linear's bias (qkv, o, MLP / experts)
  std::uint64_t norms = 0;      // every norm's gamma (and LayerNorm beta), q/k norms and the final norm
  std::uint64_t lm_head = 0;    // vocab x hidden, 0 when tied to the embedding
  std::uint64_t sinks = 0;      // gpt-oss: one sink logit per head and layer
  std::uint64_t mtp_proj = 0;   // an MTP module's eh_proj (2 x hidden -> hidden); 0 for a main model
  std::uint64_t modulation = 0;  // DiT: each block's 6 x hidden adaLN table and the head's 2 x hidden
  std::uint64_t total() const {
    return embedding + attention + mlp + router + biases + norms + lm_head + sinks + mtp_proj + modulation;
  }
};

struct ModelConfig {
  std::string name;        // shipped name or file stem
  std::string model_type;  // the HF model_type (of text_config when nested), or custom
  int hidden_size = 0;
  int intermediate_size = 0;  // dense MLP width; for MoE without expert_intermediate_size, each expert's
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;  // hidden_size / num_heads unless given
  int vocab_size = 0;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;  // qwen2 (and attention_bias: true): biases on q, k, v projections
  bool o_bias = false;    // bias on the output projection
  bool qk_norm = false;   // qwen3: RMSNorm of each head's q and k
  bool mlp_bias = false;  // biases on the MLP (and expert) projections (HF llama mlp_bias)
  int num_experts = 0;    // 0 = dense MLP
  int experts_per_token = 0;
  // ---- MoE layout (docs/models.md, "Mixture of experts")
  int expert_intermediate_size = 0;         // each routed expert's width; 0 = intermediate_size
  int shared_expert_intermediate_size = 0;  // the always-run shared experts' total width; 0 = none
  bool shared_expert_gate = false;          // Qwen2-MoE: a sigmoid gate (hidden -> 1) on the shared expert
  bool router_bias = false;                 // a bias per expert on the router (gpt-oss, DeepSeek-V3's correction)
  // Per layer: true where the MLP is the MoE block. Empty: every layer when num_experts > 0.
  std::vector<bool> moe_layers;
  // ---- attention variants
  bool mla = false;  // multi-head latent attention with `mla_dims`
  MlaDims mla_dims;
  int mtp_layers = 0;  // DeepSeek's multi-token-prediction modules: counted apart (mtp_params)
  // This config is one MTP module run as a speculative drafter (mtp_draft_model): its norms of the
  // embedding and of the main model's hidden state and their projection (eh_proj) come before its layer.
  bool mtp_module = false;
  int sliding_window = 0;        // keys a sliding layer attends (and caches); 0 = none
  int attention_chunk_size = 0;  // Llama 4's chunked layers
  // Per layer; empty: every layer sliding when sliding_window > 0, else full.
  std::vector<LayerAttention> layer_attention;
  // Llama 4: true where no_rope_layers has a 0 (a NoPE layer: no rotary embedding); empty: rope everywhere.
  std::vector<bool> nope_layers;
  bool attention_sinks = false;     // gpt-oss: a learned logit per head in every softmax's denominator
  double attn_logit_softcap = 0;    // Gemma 2: cap * tanh(score / cap) on every score; 0 = none
  double final_logit_softcap = 0;   // Gemma 2: the same on the LM head's logits
  int norms_per_layer = 2;          // Gemma 2/3: 4 (before and after attention and MLP)
  bool qk_norm_weights = true;      // Llama 4's q/k norm is an L2 norm without weights
  // The checkpoint's quantization_config (MXFP4, GPTQ/AWQ, block-scaled fp8) and the parts it converts.
  WeightQuantization quantization;
  NormKind norm = NormKind::rmsnorm;
  MlpKind mlp = MlpKind::swiglu;
  double rope_theta = 10000.0;
  std::string rope_scaling;  // "" or the HF rope_scaling type (llama3, yarn, ...), informational
  int max_position_embeddings = 0;
  std::string description;  // our YAML schema's `description`; "" for HF configs
  // ---- diffusion transformer (model_type t2v): no vocabulary, no KV cache, no positions limit.
  // DiT embedding = patch embedding + text embedding MLP + timestep MLP and projection; attention
  // = self- and cross-attention q, k, v, o; mlp = the FFN; lm_head = the head's linear.
  bool dit = false;
  DitDims dit_dims;

  bool is_moe() const { return num_experts > 0; }
  bool is_dit() const { return dit; }
  bool layer_is_moe(int layer) const;
  LayerAttention attention_of(int layer) const;
  bool layer_has_rope(int layer) const;
  int expert_width() const { return expert_intermediate_size > 0 ? expert_intermediate_size : intermediate_size; }
  bool has_dense_mlp_layers() const;  // a layer with the dense MLP (every layer of a dense model)
  // Every decoder layer does the same work (layer reuse may measure a few and extrapolate).
  bool uniform_layers() const { return layer_period() == 1; }
  // The fewest layers p after which the layers' kinds (dense or MoE, attention kind, rope or NoPE)
  // repeat: layer l does the same work as layer l - p for every l >= p. 1 for uniform layers,
  // 2 for gpt-oss's sliding/full alternation, 6 for Gemma 3; num_layers when nothing repeats.
  int layer_period() const;
  // KV cache elements one token adds in `layer`: 2 x kv_heads x head_dim, or MLA's latent + rope key.
  std::uint64_t kv_elements_per_token(int layer) const;
  // KV cache bytes per token over every layer (before a sliding layer's window is full).
  std::uint64_t kv_bytes_per_token(int kv_dtype_bytes) const;
  // Tokens `layer` keeps cached for a sequence of `tokens`: all of them, the last sliding_window,
  // or (a chunked layer) those of the current chunk.
  std::uint64_t cached_tokens(int layer, std::uint64_t tokens) const;
  // The KV cache of one sequence of `tokens` over every layer, each holding cached_tokens of them
  // (gpt-oss-20b at 4096 tokens, bf16: 12 full layers x 4096 + 12 sliding x 128, x 2048 bytes).
  std::uint64_t kv_bytes_for_sequence(std::uint64_t tokens, int kv_dtype_bytes) const;
  // The MTP modules' parameters (DeepSeek): per module its projections, norms, one decoder layer
  // and the checkpoint's own copies of the embedding and the head.
  std::uint64_t mtp_params() const;
  // Exact parameter count (embeddings, every layer's weights, biases and norms, final norm, LM
  // head unless tied). Llama-3-8B: 8,030,261,248.
  std::uint64_t params() const;
  ParamCounts param_counts() const;  // params() by part; throws tasim::Error on 64-bit overflow
  // Parameters that every token reads (MoE: only experts_per_token of the routed experts, every
  // shared expert). The embedding table is included, as Mixtral's and Qwen's published figures do.
  std::uint64_t active_params_per_token() const;
};

// The model's first multi-token-prediction module as a model of its own, to run as a speculative
// drafter (DeepSeek-V3: enorm, hnorm, eh_proj 2 x hidden -> hidden, one decoder layer shaped like
// the main model's last, the head's norm; the embedding and LM head are the main model's). Its
// params() equal mtp_params() of one module. Throws tasim::Error naming num_nextn_predict_layers
// for a model without one.
ModelConfig mtp_draft_model(const ModelConfig& model);
// Latent tokens of one video of `frames` x `height` x `width` pixels through a DiT's VAE and patch
// strides: ((frames - 1) / vae_t + 1) / patch_t x height / (vae_h patch_h) x width / (vae_w patch_w).
// Wan2.1, 81 x 720 x 1280: 21 x 45 x 80 = 75,600. Throws Error naming the frames, height or width
// that the strides do not divide.
std::uint64_t dit_latent_tokens(const ModelConfig& model, int frames, int height, int width);

// `name_or_path`: a shipped model name (model_names()) or a path to a .json (Hugging Face) or
// .yaml (tasim schema) file. Throws tasim::Error naming the file and the field.
ModelConfig load_model(const std::string& name_or_path);
ModelConfig parse_hf_config(const std::string& json_text, const std::string& source_name);
ModelConfig parse_model_yaml(const std::string& yaml_text, const std::string& source_name);
std::vector<std::string> model_names();  // shipped models, embedded in the binary

// Checks sizes and their relations (positive sizes, kv heads dividing heads, experts_per_token in
// [1, num_experts] for MoE, ...); throws tasim::Error naming `source_name` (or the model) and the field.
// The loaders call it; build_step_graph calls it for configs built in code.
void validate_model(const ModelConfig& model, const std::string& source_name = "");

}  // namespace tasim::workloads
