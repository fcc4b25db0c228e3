// The op graph of one inference step (prefill or decode) of a model: every op with its shapes
// and its analytic FLOPs and HBM bytes. The lowering (workloads/lowering.h) turns it into an ISA
// program; reports set the analytic figures beside the simulated ones.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "isa/isa.h"
#include "workloads/model.h"

namespace tasim::workloads {

// denoise: one denoising step of a diffusion transformer over every latent token of the video
// (docs/models.md, "Diffusion transformers").
enum class Phase { prefill, decode, denoise };
const char* phase_name(Phase phase);

// One sequence of a ragged step (serving: continuous batching mixes decodes and prefill chunks):
// `new_tokens` computed on top of `context` tokens already in its KV cache.
struct SequenceShape {
  std::uint64_t context = 0;
  std::uint64_t new_tokens = 1;
  bool operator==(const SequenceShape& o) const { return context == o.context && new_tokens == o.new_tokens; }
};

struct RunSpec {
  Phase phase = Phase::decode;
  // A ragged step: these sequences instead of batch x (prompt_len or one decode token). with_defaults
  // sets batch to their number and phase to decode when every sequence computes one token, else
  // prefill. One chip or tensor parallel only.
  std::vector<SequenceShape> sequences;
  int batch = 1;
  int prompt_len = 2048;   // prefill: tokens per sequence
  int context_len = 2048;  // decode: tokens already in the KV cache per sequence
  isa::DType weight_dtype = isa::DType::bf16;
  // true: the parts a model's quantization_config converts are stored in its format (MXFP4, int4,
  // block-scaled fp8), the others at weight_dtype; false (--dtype, --weight-dtype): every weight at
  // weight_dtype.
  bool checkpoint_weights = true;
  isa::DType act_dtype = isa::DType::bf16;
  isa::DType kv_dtype = isa::DType::bf16;
  // Tensor parallel degree: the step's graph is one chip's share (heads, KV heads, MLP width and
  // vocabulary split tp ways; column-parallel QKV/gate/up, row-parallel output/down followed by an
  // all-reduce); every chip runs the same program.
  int tp = 1;
  // Expert parallel degree (MoE): chips split the experts; attention and the dense parts run data
  // parallel (each chip batch / ep sequences). The graph is chip `ep_rank`'s share; chips differ
  // when the expert load is uneven. All-to-all dispatch and combine carry the routed tokens.
  int ep = 1;
  int ep_rank = 0;
  // Pipeline parallel degree: chips hold consecutive layers (stage pp_rank of pp); the batch flows
  // through in `micro_batches` micro-batches, each stage receiving a micro-batch's activations
  // from the previous stage and sending its output to the next.
  int pp = 1;
  int pp_rank = 0;
  int tp_rank = 0;  // with tp x pp chips: this chip's place in its stage's tensor-parallel group
  int micro_batches = 0;  // 0: as many as stages, at most the batch (with_defaults)
  // Relative load of each expert (empty = uniform): the share of token-expert pairs it receives.
  std::vector<double> expert_load;
  // ---- denoise (a DiT): `batch` videos of video_frames x video_height x video_width pixels.
  // Classifier-free guidance runs each video twice (with the prompt and with the empty prompt)
  // as one batch of 2 x batch samples; a generation is denoise_steps such steps.
  int video_frames = 81;
  int video_height = 720;
  int video_width = 1280;
  bool cfg = true;
  int denoise_steps = 50;
  // Latent tokens of one video (dit_latent_tokens); build_step_graph sets it from the model.
  std::uint64_t latent_tokens = 0;
  // Samples in the step's forward pass: batch, doubled under classifier-free guidance (denoise).
  int samples() const { return phase == Phase::denoise && cfg ? 2 * batch : batch; }

  // Tokens processed by the step: batch x prompt_len (prefill) or batch (decode); a ragged step's
  // new tokens; denoise: samples() x latent_tokens.
  std::uint64_t tokens() const;
  bool ragged() const { return !sequences.empty(); }
};

enum class OpKind {
  embedding,       // gather rows of the embedding table
  norm,            // RMSNorm/LayerNorm over hidden (input, post-attention, final, q/k norm)
  linear,          // tokens x in -> tokens x out with a weight matrix (QKV, O, gate, up, down, LM head)
  rope,            // rotary embedding of q and k
  kv_append,       // write this step's k and v into the KV cache
  attention,       // softmax(q k^T / sqrt(d)) v: prefill causal flash attention or decode over the cache
  residual_add,    // x + f(x)
  activation,      // SiLU(gate) * up, or GELU(up)
  moe_router,      // tokens x hidden -> tokens x experts logits, top-k selection
  moe_experts,     // the selected experts' MLPs (gate/up/down), all experts on this chip
  sampling,        // greedy: argmax over the vocabulary
  allreduce,       // tensor parallel: sum m x n activations over the chips
  allgather,       // tensor parallel: gather m x n elements from every chip (sampling candidates)
  alltoall,        // expert parallel: dispatch / combine m x n routed activations
  pp_recv,         // pipeline parallel: m x n activations from the previous stage
  pp_send,         // pipeline parallel: m x n activations to the next stage
  // DiT: LayerNorm of each token, then x * (1 + scale) + shift with its sample's scale and shift
  // (adaLN, from the timestep embedding) or the norm's own gamma and beta (the cross-attention norm).
  modulated_norm,
  gated_residual,  // DiT: x + gate * f(x), the gate per sample and channel (adaLN)
};
const char* op_kind_name(OpKind kind);

// The shape of an op, by what the op is (Op::kind says which one it holds).
struct MatmulShape {  // linear, moe_router: tokens x in -> tokens x out
  std::uint64_t m = 0;  // rows (tokens)
  std::uint64_t n = 0;  // out features (the weight is k x n)
  std::uint64_t k = 0;  // in features
  bool bias = false;
  bool operator==(const MatmulShape& o) const { return m == o.m && n == o.n && k == o.k && bias == o.bias; }
};
struct AttentionShape {
  int batch = 0, heads = 0, kv_heads = 0, head_dim = 0;  // heads: query heads (this chip's share)
  std::uint64_t q_len = 0, kv_len = 0;                    // per sequence
  bool causal = false;
  // A causal query attends at most the last `window` keys (sliding layers); 0 = every key.
  std::uint64_t window = 0;
  int v_head_dim = 0;      // values' width when it differs from head_dim (MLA); 0 = head_dim
  bool shared_kv = false;  // MLA absorbed: the values are the first v_head_dim of each cached key
  bool sinks = false;      // gpt-oss: a sink logit per head joins every softmax
  int value_dim() const { return v_head_dim > 0 ? v_head_dim : head_dim; }
  bool operator==(const AttentionShape& o) const {
    return batch == o.batch && heads == o.heads && kv_heads == o.kv_heads && head_dim == o.head_dim &&
           q_len == o.q_len && kv_len == o.kv_len && causal == o.causal && window == o.window &&
           v_head_dim == o.v_head_dim && shared_kv == o.shared_kv && sinks == o.sinks;
  }
};
struct RowsShape {  // row-wise ops and transfers: rows x width elements
  // norm/rope/residual_add/sampling/embedding: rows (tokens, or tokens x heads) of width elements;
  // activation: the input row, [gate | up] = 2 x intermediate for SwiGLU, intermediate for GELU;
  // kv_append: width = 2 x kv_heads x head_dim (k and v); sampling: the vocabulary (this chip's
  // share); allreduce/alltoall/pp_*: the activations moved, per chip; allgather: each chip's part.
  std::uint64_t rows = 0, width = 0;
  bool operator==(const RowsShape& o) const { return rows == o.rows && width == o.width; }
};
struct ExpertsShape {  // moe_experts: the selected experts' MLPs
  std::uint64_t tokens = 0, intermediate = 0, hidden = 0;
  int experts = 0;  // on this chip
  int experts_per_token = 0;
  bool bias = false;
  std::vector<std::uint64_t> expert_tokens;  // token-expert pairs of each of this chip's experts
  bool operator==(const ExpertsShape& o) const {
    return tokens == o.tokens && intermediate == o.intermediate && hidden == o.hidden && experts == o.experts &&
           experts_per_token == o.experts_per_token && bias == o.bias && expert_tokens == o.expert_tokens;
  }
};

struct Op {
  std::string name;  // "layer3.attn.qkv", "final_norm", "lm_head"
  int layer = -1;    // -1 for ops outside the layers
  OpKind kind = OpKind::linear;
  std::variant<MatmulShape, AttentionShape, RowsShape, ExpertsShape> shape;
  // The shape of the op's kind; throw Error (internal) when the op holds another one.
  const MatmulShape& matmul() const;
  const AttentionShape& attention() const;
  const RowsShape& rows() const;
  const ExpertsShape& experts() const;
  // Analytic figures: FLOPs (2 per MAC, plus elementwise work counted as 1 per element-op), and
  // HBM bytes when every op reads its inputs and weights from HBM and writes its outputs there.
  std::uint64_t flops = 0;
  // linear, moe_router, moe_experts, embedding: how its weight matrices are stored (weight_format_of).
  WeightFormat weight_format;
  std::uint64_t weight_bytes = 0;  // weights (and biases, norm gammas) read, scales included
  std::uint64_t kv_bytes = 0;      // KV cache read + written
  std::uint64_t act_bytes = 0;     // activations read + written
  std::uint64_t hbm_bytes() const { return weight_bytes + kv_bytes + act_bytes; }
};

struct StepGraph {
  ModelConfig model;
  RunSpec spec;
  std::vector<Op> ops;  // in execution order (one chip's share when spec.tp > 1)
  std::uint64_t flops() const;
  std::uint64_t hbm_bytes() const;
  std::uint64_t weight_bytes() const;  // every weight of the model in its storage format, scales included
  std::uint64_t kv_cache_bytes() const;  // KV cache footprint after the step
};

// The storage format of a part's weights: the checkpoint's where its quantization_config converts
// the part and spec.checkpoint_weights, else spec.weight_dtype.
WeightFormat weight_format_of(const ModelConfig& model, const RunSpec& spec, WeightModule part);

// Expert load weights from "uniform", "zipf:S" (expert i gets 1 / (i+1)^S) or a comma-separated
// histogram with one non-negative weight per expert. Throws Error naming the problem.
std::vector<double> parse_expert_load(const std::string& text, int experts);

// The spec with its automatic values filled in (micro_batches 0 -> min(pp, batch)).
RunSpec with_defaults(RunSpec spec);

// Throws Error for a spec the model cannot run (what build_step_graph checks first).
void check_run_spec(const ModelConfig& model, const RunSpec& spec);

// Throws tasim::Error for a spec the model cannot run (batch < 1, context beyond a limit, ...),
// naming the spec's fields (batch, tp, ...), which are also a sweep's run keys. The graph's spec
// is with_defaults(spec).
StepGraph build_step_graph(const ModelConfig& model, const RunSpec& spec);

// The op's name without its "layerN." prefix ("attn.qkv"): the same for the same op of every layer,
// for reports that group by op. Ops outside the layers keep their name ("lm_head").
std::string op_group_name(const Op& op);

// Expected number of distinct experts that `tokens` tokens hit when each picks `experts_per_token`
// of `experts` uniformly at random: experts * (1 - (1 - experts_per_token / experts)^tokens).
double expected_distinct_experts(int experts, int experts_per_token, std::uint64_t tokens);

}  // namespace tasim::workloads
