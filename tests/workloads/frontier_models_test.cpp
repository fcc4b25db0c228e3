// The frontier families (issue 13): MoE layouts, multi-head latent attention, sliding, chunked and
// local/global attention, sinks; every figure below computed by hand from the published configs.
#include <catch2/catch.hpp>

#include "error_of.h"

#include <string>

#include "common/error.h"
#include "workloads/run_specs.h"
#include "workloads/graph.h"
#include "workloads/model.h"

using namespace tasim;
using namespace tasim::workloads;
using namespace tasim::workloads::testing;
using Catch::Matchers::Contains;
using tasim::testing::error_of;

namespace {

const Op* find_op(const StepGraph& g, const std::string& name) {
  for (const auto& op : g.ops) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

// A small DeepSeek-style config: 4 layers, the first dense, MLA with a query bottleneck.
std::string deepseek_json(const std::string& extra = "") {
  return "{\"model_type\": \"deepseek_v3\", " + extra +
         "\"hidden_size\": 256, \"intermediate_size\": 1024, \"moe_intermediate_size\": 128,"
         "\"num_hidden_layers\": 4, \"num_attention_heads\": 8, \"num_key_value_heads\": 8,"
         "\"q_lora_rank\": 96, \"kv_lora_rank\": 64, \"qk_nope_head_dim\": 32, \"qk_rope_head_dim\": 16,"
         "\"v_head_dim\": 32, \"n_routed_experts\": 16, \"n_shared_experts\": 2, \"num_experts_per_tok\": 4,"
         "\"first_k_dense_replace\": 1, \"num_nextn_predict_layers\": 1, \"topk_method\": \"noaux_tc\","
         "\"vocab_size\": 1000, \"max_position_embeddings\": 8192}";
}

}  // namespace

TEST_CASE("shipped frontier configs have their published parameter counts", "[workloads][model][frontier]") {
  // Hand-counted from the published architectures (docs/models.md, "Frontier families").
  CHECK(load_model("deepseek-v3").params() == 671'026'419'200ull);      // "671B" main model
  CHECK(load_model("deepseek-v3").mtp_params() == 13'463'426'304ull);   // "14B" MTP module (685B - 671B)
  CHECK(load_model("gpt-oss-120b").params() == 116'829'156'672ull);     // 116.83B
  CHECK(load_model("gpt-oss-20b").params() == 20'914'757'184ull);       // 20.9B
  CHECK(load_model("qwen3-moe").params() == 235'093'634'560ull);        // 235B
  CHECK(load_model("llama-4-scout").params() == 107'769'861'120ull);    // 109B with the vision tower
  CHECK(load_model("gemma-3-27b").params() == 27'009'346'304ull);       // 27B text model
  // Llama 4 Maverick: embedding + head 2 x 202048 x 5120, 48 x attention 62,914,560, 24 dense
  // layers 3 x 5120 x 16384, 24 MoE layers of 128 + 1 shared experts 3 x 5120 x 8192 and a router
  // 5120 x 128, 97 norms of 5120: 400,711,848,960 ("400B"; 17B active).
  CHECK(load_model("llama-4-maverick").params() == 400'711'848'960ull);
  // Kimi K2: the released checkpoint's tensors add up to 1,026,470,731,056; less its fp8
  // weight_scale_inv tensors (62,495,192) and rotary inv_freq buffers (3,416) that is exactly this
  // ("1T" on the model card).
  CHECK(load_model("kimi-k2").params() == 1'026'408'232'448ull);
  CHECK(load_model("kimi-k2").mtp_params() == 0);  // num_nextn_predict_layers: 0
  // Active per token, the embedding table included (Mixtral's and Qwen's convention; gpt-oss's
  // published 5.13B leaves it out).
  CHECK(load_model("gpt-oss-120b").active_params_per_token() - 201088ull * 2880 == 5'132'849'472ull);
  CHECK(load_model("qwen3-moe").active_params_per_token() == 22'190'763'520ull);     // 22B
  CHECK(load_model("llama-4-scout").active_params_per_token() == 17'172'894'720ull); // 17B
  // Maverick: the total less 24 x 127 unused experts of 125,829,120.
  CHECK(load_model("llama-4-maverick").active_params_per_token() ==
        400'711'848'960ull - 24ull * 127 * 125'829'120);  // 17,184,691,200: "17B"
  // Kimi K2: the total less 60 x 376 unused experts of 3 x 7168 x 2048.
  CHECK(load_model("kimi-k2").active_params_per_token() ==
        1'026'408'232'448ull - 60ull * 376 * 3 * 7168 * 2048);  // 32,861,500,928: "32B"
}

TEST_CASE("MoE layouts: shared experts, dense first layers, interleaving, naming", "[workloads][model][frontier]") {
  const ModelConfig m = parse_hf_config(deepseek_json(), "ds.json");
  SECTION("first_k_dense_replace: layer 0 dense, the rest MoE") {
    CHECK_FALSE(m.layer_is_moe(0));
    CHECK(m.layer_is_moe(1));
    CHECK(m.layer_is_moe(3));
    CHECK_FALSE(m.uniform_layers());
    CHECK(m.shared_expert_intermediate_size == 2 * 128);
    CHECK(m.router_bias);
  }
  SECTION("shared experts always run; routed experts by top-k") {
    const StepGraph g = build_step_graph(m, decode(2, 100));
    CHECK(find_op(g, "layer0.mlp.gate_up") != nullptr);  // the dense layer
    CHECK(find_op(g, "layer0.mlp.experts") == nullptr);
    const Op* shared = find_op(g, "layer1.mlp.shared_gate_up");
    REQUIRE(shared != nullptr);
    CHECK(shared->matmul().m == 2);             // every token
    CHECK(shared->matmul().n == 2 * 2 * 128);   // gate and up of both shared experts
    CHECK(find_op(g, "layer1.mlp.shared_down")->matmul().k == 256);
    CHECK(find_op(g, "layer1.mlp.experts")->experts().intermediate == 128);
    CHECK(find_op(g, "layer1.mlp.experts")->experts().experts_per_token == 4);
  }
  SECTION("parameters: dense layer, MoE layers with shared experts and the router's bias") {
    const std::uint64_t h = 256;
    const std::uint64_t attn = h * 96 + 96 * 8 * 48 + h * 80 + 64ull * 8 * 64 + 8ull * 32 * h;
    const std::uint64_t norms = 2 * h + 64 + 96;
    const std::uint64_t dense = 3 * h * 1024;
    const std::uint64_t expert = 3 * h * 128;
    const std::uint64_t moe = 16 * expert + 2 * expert + h * 16 + 16;
    const std::uint64_t embed = 1000 * h;
    CHECK(m.params() == 4 * (attn + norms) + dense + 3 * moe + 2 * embed + h);
    CHECK(m.active_params_per_token() == m.params() - 3 * 12 * expert);
    // The MTP module: enorm, hnorm, eh_proj, a MoE layer, the head's norm, embedding and head copies.
    CHECK(m.mtp_params() == 3 * h + 2 * h * h + attn + norms + moe + 2 * embed);
  }
  SECTION("Qwen2-MoE: shared expert with its gate, decoder_sparse_step and mlp_only_layers") {
    const ModelConfig q = parse_hf_config(
        "{\"model_type\": \"qwen2_moe\", \"hidden_size\": 128, \"intermediate_size\": 512,"
        "\"moe_intermediate_size\": 64, \"shared_expert_intermediate_size\": 256, \"num_experts\": 8,"
        "\"num_experts_per_tok\": 2, \"decoder_sparse_step\": 2, \"mlp_only_layers\": [3],"
        "\"num_hidden_layers\": 6, \"num_attention_heads\": 4, \"vocab_size\": 100, \"max_position_embeddings\": 512}",
        "q.json");
    // Sparse where (layer + 1) % 2 == 0, except layer 3: layers 1 and 5; the others dense, alternating.
    CHECK_FALSE(q.layer_is_moe(0));
    CHECK(q.layer_is_moe(1));
    CHECK_FALSE(q.layer_is_moe(2));
    CHECK_FALSE(q.layer_is_moe(3));
    CHECK(q.layer_is_moe(5));
    const StepGraph g = build_step_graph(q, decode(1, 10));
    CHECK(find_op(g, "layer1.mlp.shared_gate") != nullptr);
    CHECK(find_op(g, "layer2.mlp.down")->matmul().k == 512);
  }
  SECTION("Llama 4: interleave_moe_layer_step alternates MoE and dense layers") {
    const ModelConfig l = parse_hf_config(
        "{\"model_type\": \"llama4\", \"text_config\": {\"model_type\": \"llama4_text\", \"hidden_size\": 128,"
        "\"intermediate_size\": 64, \"intermediate_size_mlp\": 256, \"num_local_experts\": 4,"
        "\"num_experts_per_tok\": 1, \"interleave_moe_layer_step\": 2, \"num_hidden_layers\": 4,"
        "\"num_attention_heads\": 4, \"vocab_size\": 100, \"max_position_embeddings\": 512}}",
        "l4.json");
    for (int layer = 0; layer < 4; ++layer) CHECK(l.layer_is_moe(layer) == (layer % 2 == 1));
    CHECK(l.expert_width() == 64);
    CHECK(l.shared_expert_intermediate_size == 64);
    CHECK(l.intermediate_size == 256);
  }
  SECTION("top-k from 1 to 8 under each family's names") {
    for (int k = 1; k <= 8; ++k) {
      const ModelConfig x = parse_hf_config(
          "{\"model_type\": \"qwen3_moe\", \"hidden_size\": 128, \"intermediate_size\": 512,"
          "\"moe_intermediate_size\": 64, \"num_experts\": 8, \"num_experts_per_tok\": " + std::to_string(k) +
              ", \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 100,"
              "\"max_position_embeddings\": 512}",
          "x.json");
      CHECK(x.experts_per_token == k);
      CHECK(build_step_graph(x, decode(1, 10)).ops.size() > 0);
    }
  }
}

TEST_CASE("MLA: the latent KV cache, absorbed decode and expanded prefill", "[workloads][frontier]") {
  const ModelConfig m = parse_hf_config(deepseek_json(), "ds.json");
  // kv_lora_rank + qk_rope_head_dim = 80 elements per token and layer.
  CHECK(m.kv_bytes_per_token(2) == 4ull * 80 * 2);
  SECTION("decode attends the latent with absorbed up-projections") {
    const StepGraph g = build_step_graph(m, decode(2, 99));
    const Op* att = find_op(g, "layer0.attn.attention_latent");
    REQUIRE(att != nullptr);
    CHECK(find_op(g, "layer0.attn.kv_b") == nullptr);
    const AttentionShape& a = att->attention();
    CHECK(a.kv_heads == 1);
    CHECK(a.head_dim == 80);
    CHECK(a.value_dim() == 64);
    CHECK(a.kv_len == 100);
    // Per head and key: 2 x (80 + 64) for QK and PV, 5 for the softmax.
    CHECK(att->flops == 2ull * 8 * 100 * (2 * (80 + 64) + 5));
    CHECK(att->kv_bytes == 2ull * 100 * 80 * 2);  // the latent and rope key, read once
    const Op* q_absorb = find_op(g, "layer0.attn.q_absorb");
    CHECK(q_absorb->flops == 2ull * 2 * 8 * 32 * 64);  // tokens x heads x nope x kv_lora
    CHECK(find_op(g, "layer0.attn.out_absorb")->flops == 2ull * 2 * 8 * 64 * 32);
    CHECK(find_op(g, "layer0.attn.kv_append")->kv_bytes == 2ull * 80 * 2);
    CHECK(g.kv_cache_bytes() == 2ull * 100 * 4 * 80 * 2);
  }
  SECTION("prefill expands the latent into every head") {
    const StepGraph g = build_step_graph(m, prefill(1, 64));
    CHECK(find_op(g, "layer0.attn.kv_b")->matmul().n == 8ull * (32 + 32));
    const AttentionShape& a = find_op(g, "layer0.attn.attention")->attention();
    CHECK(a.kv_heads == 8);
    CHECK(a.head_dim == 48);
    CHECK(a.value_dim() == 32);
  }
  SECTION("tensor parallel splits the heads, the latent is on every chip") {
    RunSpec s = decode(2, 99);
    s.tp = 4;
    const StepGraph g = build_step_graph(m, s);
    CHECK(find_op(g, "layer0.attn.attention_latent")->attention().heads == 2);
    CHECK(find_op(g, "layer0.attn.kv_a")->matmul().n == 80);
  }
}

TEST_CASE("sliding windows read min(window, context) keys and cache only the window", "[workloads][frontier]") {
  const std::string json =
      "{\"model_type\": \"mistral\", \"hidden_size\": 256, \"intermediate_size\": 512, \"num_hidden_layers\": 2,"
      "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"vocab_size\": 100,"
      "\"max_position_embeddings\": 8192, \"sliding_window\": 128}";
  const ModelConfig m = parse_hf_config(json, "mistral.json");
  CHECK(m.attention_of(0) == LayerAttention::sliding);
  const std::uint64_t per_key = 2 * 2 * 64 * 2;  // k and v of 2 KV heads of 64, bf16
  SECTION("decode beyond the window reads the window") {
    const StepGraph g = build_step_graph(m, decode(3, 1000));  // outlives the op found in it
    const Op* a = find_op(g, "layer0.attn.attention");
    CHECK(a->attention().kv_len == 128);
    CHECK(a->kv_bytes == 3 * 128 * per_key);
    CHECK(g.kv_cache_bytes() == 3ull * 2 * 128 * per_key);
  }
  SECTION("decode within the window reads every key") {
    const StepGraph g = build_step_graph(m, decode(1, 50));
    CHECK(find_op(g, "layer0.attn.attention")->attention().kv_len == 51);
  }
  SECTION("prefill: query t attends min(t, window) keys") {
    const StepGraph g = build_step_graph(m, prefill(1, 300));
    const Op* a = find_op(g, "layer0.attn.attention");
    CHECK(a->attention().window == 128);
    // Queries 1..128 attend t keys, 129..300 attend 128: 128 x 129 / 2 + 172 x 128.
    const std::uint64_t scores = 128 * 129 / 2 + 172 * 128;
    CHECK(a->flops == 4ull * scores * (2 * (64 + 64) + 5));
  }
}

TEST_CASE("gpt-oss: alternating sliding and full layers, sinks, biases", "[workloads][frontier]") {
  const ModelConfig m = load_model("gpt-oss-20b");
  CHECK(m.attention_of(0) == LayerAttention::sliding);
  CHECK(m.attention_of(1) == LayerAttention::full);
  CHECK(m.sliding_window == 128);
  CHECK(m.attention_sinks);
  CHECK(m.qkv_bias);
  CHECK(m.o_bias);
  CHECK(m.quantization.method == "mxfp4");
  CHECK(m.param_counts().sinks == 24ull * 64);
  const StepGraph g = build_step_graph(m, decode(1, 1000));
  const Op* sliding = find_op(g, "layer0.attn.attention");
  const Op* full = find_op(g, "layer1.attn.attention");
  CHECK(sliding->attention().kv_len == 128);
  CHECK(full->attention().kv_len == 1001);
  // The sink adds one softmax term (5 FLOPs) per head and query to the scores' work.
  CHECK(full->flops == 64ull * 1001 * (2 * (64 + 64) + 5) + 5 * 64);
  CHECK(find_op(g, "layer0.attn.qkv")->matmul().bias);
}

TEST_CASE("Gemma 3: five local layers per global one, four norms, GeGLU", "[workloads][frontier]") {
  const ModelConfig m = load_model("gemma-3-27b");
  CHECK(m.model_type == "gemma3_text");
  CHECK(m.tie_word_embeddings);
  CHECK(m.mlp == MlpKind::geglu);
  CHECK(m.vocab_size == 262208);
  for (int layer = 0; layer < 12; ++layer) {
    CHECK((m.attention_of(layer) == LayerAttention::full) == (layer % 6 == 5));
  }
  const StepGraph g = build_step_graph(m, decode(1, 4000));
  CHECK(find_op(g, "layer0.attn.attention")->attention().kv_len == 1024);
  CHECK(find_op(g, "layer5.attn.attention")->attention().kv_len == 4001);
  CHECK(find_op(g, "layer0.mlp.post_norm") != nullptr);
}

TEST_CASE("Llama 4: chunked layers attend within their chunk, NoPE layers everything", "[workloads][frontier]") {
  const ModelConfig m = load_model("llama-4-scout");
  CHECK(m.attention_of(0) == LayerAttention::chunked);
  CHECK(m.attention_of(3) == LayerAttention::full);
  const StepGraph g = build_step_graph(m, decode(1, 10000));
  CHECK(find_op(g, "layer0.attn.attention")->attention().kv_len == 10000 % 8192 + 1);
  CHECK(find_op(g, "layer3.attn.attention")->attention().kv_len == 10001);
  // no_rope_layers: one 0 or 1 per layer, anything else refused by name (a fuzzer's find: a '+'
  // escaped as yaml-cpp's exception).
  const auto llama4 = [](const std::string& nope) {
    return "{\"model_type\": \"llama4_text\", \"hidden_size\": 128, \"intermediate_size\": 256,"
           "\"intermediate_size_mlp\": 256, \"num_hidden_layers\": 4, \"num_attention_heads\": 4,"
           "\"num_key_value_heads\": 2, \"head_dim\": 32, \"vocab_size\": 100, \"max_position_embeddings\": 4096,"
           "\"num_local_experts\": 4, \"num_experts_per_tok\": 1, \"attention_chunk_size\": 64,"
           "\"no_rope_layers\": " + nope + "}";
  };
  const ModelConfig custom = parse_hf_config(llama4("[1, 0, 1, 1]"), "l4.json");
  CHECK(custom.attention_of(0) == LayerAttention::chunked);
  CHECK(custom.attention_of(1) == LayerAttention::full);
  CHECK(custom.attention_of(3) == LayerAttention::chunked);
  CHECK_THAT(error_of([&] { parse_hf_config(llama4("[1, +, 1, 1]"), "l4.json"); }),
             Contains("no_rope_layers") && Contains("'+' is not 0 or 1"));
  CHECK_THAT(error_of([&] { parse_hf_config(llama4("[1, 0]"), "l4.json"); }),
             Contains("no_rope_layers") && Contains("4 entries"));
  // transformers reads an empty list as its default: every fourth layer NoPE.
  CHECK(parse_hf_config(llama4("[]"), "l4.json").attention_of(3) == LayerAttention::full);
}

TEST_CASE("Llama 4 NoPE layers run no rope op", "[workloads][frontier]") {
  for (const char* name : {"llama-4-scout", "llama-4-maverick"}) {
    INFO(name);
    const ModelConfig m = load_model(name);
    const StepGraph g = build_step_graph(m, decode(2, 100));
    // no_rope_layers (Scout's list, Maverick's default): layers 3, 7, ..., 47 are NoPE.
    int rope_ops = 0;
    for (const Op& op : g.ops) rope_ops += op.kind == OpKind::rope ? 1 : 0;
    CHECK(rope_ops == 36);
    CHECK(find_op(g, "layer0.attn.rope") != nullptr);
    CHECK(find_op(g, "layer3.attn.rope") == nullptr);
    CHECK(find_op(g, "layer47.attn.rope") == nullptr);
    CHECK_FALSE(m.layer_has_rope(3));
    CHECK(m.layer_has_rope(4));
  }
  // Maverick interleaves: odd layers MoE (128 experts, top 1, a shared expert), even ones dense 16384.
  const ModelConfig mav = load_model("llama-4-maverick");
  CHECK_FALSE(mav.layer_is_moe(0));
  CHECK(mav.layer_is_moe(1));
  CHECK(mav.intermediate_size == 16384);
  CHECK(mav.expert_width() == 8192);
  CHECK_FALSE(mav.qk_norm);  // use_qk_norm: false
}

TEST_CASE("layer periods: the layers' kinds repeat every p layers", "[workloads][model][frontier]") {
  CHECK(load_model("llama-3-8b").layer_period() == 1);
  CHECK(load_model("llama-3-8b").uniform_layers());
  CHECK(load_model("gpt-oss-20b").layer_period() == 2);   // sliding, full
  CHECK(load_model("gemma-3-27b").layer_period() == 6);   // five local, one global
  CHECK(load_model("llama-4-scout").layer_period() == 4);  // three chunked with rope, one full NoPE
  CHECK(load_model("mistral-7b").layer_period() == 1);    // every layer sliding
  // DeepSeek-V3: three dense layers, then MoE: nothing repeats from layer 0.
  CHECK(load_model("deepseek-v3").layer_period() == 61);
  CHECK_FALSE(load_model("deepseek-v3").uniform_layers());
}

TEST_CASE("unknown model types and unmodelled compute fields are refused by name", "[workloads][model][frontier]") {
  CHECK_THAT(error_of([] { parse_hf_config("{\"model_type\": \"mamba\"}", "m.json"); }),
             Contains("model_type") && Contains("mamba"));
  CHECK_THAT(error_of([] {
               parse_hf_config("{\"model_type\": \"qwen2\", \"use_sliding_window\": true, \"hidden_size\": 64,"
                               "\"intermediate_size\": 128, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
                               "\"vocab_size\": 10, \"max_position_embeddings\": 64}",
                               "q.json");
             }),
             Contains("use_sliding_window"));
  CHECK_THAT(error_of([] { parse_hf_config(deepseek_json("\"layer_types\": [\"linear_attention\", \"full_attention\","
                                                         "\"full_attention\", \"full_attention\"],"),
                                           "d.json"); }),
             Contains("layer_types") && Contains("linear_attention"));
  // Fields that do not change timing are accepted.
  CHECK(parse_hf_config(deepseek_json("\"attention_dropout\": 0.1, \"bos_token_id\": 0,"), "d.json").params() > 0);
}

TEST_CASE("the MTP module as a speculative drafter: one layer, eh_proj and the shared head", "[workloads][frontier]") {
  const ModelConfig main = load_model("deepseek-v3");
  const ModelConfig draft = mtp_draft_model(main);
  CHECK(draft.num_layers == 1);
  CHECK(draft.layer_is_moe(0));  // shaped like the main model's last layer (MoE)
  // enorm + hnorm + eh_proj + one layer + the head's norm + embedding and head: mtp_params().
  CHECK(draft.params() == 13'463'426'304ull);
  CHECK(draft.params() == main.mtp_params());
  CHECK(draft.param_counts().mtp_proj == 2ull * 7168 * 7168);
  // A draft decode step of 8 tokens does what the main model's last layer does, plus the two
  // norms and eh_proj (2 x 8 x 14336 x 7168 FLOPs) and the same embedding, head and sampling.
  const RunSpec spec = decode(8, 1024);
  const StepGraph m = build_step_graph(main, spec);
  const StepGraph d = build_step_graph(draft, spec);
  std::uint64_t main_flops = 0, draft_flops = 0;
  for (const Op& op : m.ops) main_flops += op.layer == 60 || op.layer < 0 ? op.flops : 0;
  for (const Op& op : d.ops) draft_flops += op.flops;
  const Op* eh = find_op(d, "mtp.eh_proj");
  REQUIRE(eh != nullptr);
  CHECK(eh->flops == 2ull * 8 * 14336 * 7168);
  const std::uint64_t norms = find_op(d, "mtp.enorm")->flops + find_op(d, "mtp.hnorm")->flops;
  CHECK(norms == 2 * find_op(m, "final_norm")->flops);  // two norms of 8 rows of 7168, as the final one
  CHECK(draft_flops == main_flops + eh->flops + norms);
  // Refused, naming the field, for a model without the module.
  CHECK_THAT(error_of([] { mtp_draft_model(load_model("llama-3-8b")); }),
             Contains("llama-3-8b") && Contains("num_nextn_predict_layers"));
  CHECK_THAT(error_of([] { mtp_draft_model(load_model("kimi-k2")); }), Contains("num_nextn_predict_layers"));
}
