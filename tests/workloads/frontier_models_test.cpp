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
  // Active per token, the embedding table included (Mixtral's and Qwen's convention; gpt-oss's
  // published 5.13B leaves it out).
  CHECK(load_model("gpt-oss-120b").active_params_per_token() - 201088ull * 2880 == 5'132'849'472ull);
  CHECK(load_model("qwen3-moe").active_params_per_token() == 22'190'763'520ull);     // 22B
  CHECK(load_model("llama-4-scout").active_params_per_token() == 17'172'894'720ull); // 17B
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
