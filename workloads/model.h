// A transformer model's architecture, from a Hugging Face config.json (llama, mistral, mixtral,
// qwen2, qwen3) or our own YAML schema (configs/models/*.yaml). Shapes only: tasim never loads
// weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tasim::workloads {

enum class NormKind { rmsnorm, layernorm };
enum class MlpKind { swiglu, gelu };  // swiglu: gate/up/down with SiLU; gelu: up/down with GELU

// Parameter count by part (all layers together). Biases are apart from the weights they belong
// to because graphs read them at the activation dtype, like norm gammas.
struct ParamCounts {
  std::uint64_t embedding = 0;  // vocab x hidden
  std::uint64_t attention = 0;  // q, k, v, o weights
  std::uint64_t mlp = 0;        // dense MLP weights, or every expert's
  std::uint64_t router = 0;     // MoE router weights (hidden x experts per layer)
  std::uint64_t biases = 0;     // every linear's bias (qkv, o, MLP / experts)
  std::uint64_t norms = 0;      // every norm's gamma (and LayerNorm beta), q/k norms and the final norm
  std::uint64_t lm_head = 0;    // vocab x hidden, 0 when tied to the embedding
  std::uint64_t total() const { return embedding + attention + mlp + router + biases + norms + lm_head; }
};

struct ModelConfig {
  std::string name;        // shipped name or file stem
  std::string model_type;  // llama | mistral | mixtral | qwen2 | qwen3 | custom
  int hidden_size = 0;
  int intermediate_size = 0;  // dense MLP width; for MoE, each expert's width
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
  NormKind norm = NormKind::rmsnorm;
  MlpKind mlp = MlpKind::swiglu;
  double rope_theta = 10000.0;
  std::string rope_scaling;  // "" or the HF rope_scaling type (llama3, yarn, ...), informational
  int max_position_embeddings = 0;
  std::string description;  // our YAML schema's `description`; "" for HF configs

  bool is_moe() const { return num_experts > 0; }
  // Exact parameter count (embeddings, every layer's weights, biases and norms, final norm, LM
  // head unless tied). Llama-3-8B: 8,030,261,248.
  std::uint64_t params() const;
  ParamCounts param_counts() const;  // params() by part; throws tasim::Error on 64-bit overflow
  // Parameters that every token reads (MoE: only experts_per_token of the experts).
  std::uint64_t active_params_per_token() const;
};

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
