#include <catch2/catch.hpp>

#include "error_of.h"

#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "common/error.h"
#include "workloads/run_specs.h"
#include "workloads/graph.h"

using namespace tasim;
using namespace tasim::workloads;
using namespace tasim::workloads::testing;
using Catch::Matchers::Contains;

namespace {

const Op& find_op(const StepGraph& g, const std::string& name) {
  for (const auto& op : g.ops) {
    if (op.name == name) return op;
  }
  FAIL("no op " << name);
  throw;
}

std::uint64_t sum_of(const StepGraph& g, OpKind kind, std::uint64_t Op::*field) {
  std::uint64_t total = 0;
  for (const auto& op : g.ops) {
    if (op.kind == kind) total += op.*field;
  }
  return total;
}

std::vector<std::string> layer_groups(const StepGraph& g, int layer) {
  std::vector<std::string> names;
  for (const auto& op : g.ops) {
    if (op.layer == layer) names.push_back(op_group_name(op));
  }
  return names;
}

using tasim::testing::error_of;

}  // namespace

TEST_CASE("ops of a step in execution order", "[workloads][graph]") {
  SECTION("llama: dense SwiGLU") {
    const StepGraph g = build_step_graph(load_model("llama-3-8b"), decode(1, 100));
    REQUIRE(g.ops.size() == 1 + 32 * 12 + 3);
    CHECK(g.ops.front().name == "embedding");
    CHECK(g.ops.front().kind == OpKind::embedding);
    CHECK(layer_groups(g, 0) == std::vector<std::string>{"attn.norm", "attn.qkv", "attn.rope", "attn.kv_append",
                                                         "attn.attention", "attn.o", "attn.residual", "mlp.norm",
                                                         "mlp.gate_up", "mlp.act", "mlp.down", "mlp.residual"});
    const std::vector<OpKind> kinds = {OpKind::norm,     OpKind::linear,       OpKind::rope,   OpKind::kv_append,
                                       OpKind::attention, OpKind::linear,      OpKind::residual_add, OpKind::norm,
                                       OpKind::linear,   OpKind::activation,   OpKind::linear, OpKind::residual_add};
    for (std::size_t i = 0; i < kinds.size(); ++i) CHECK(g.ops[1 + i].kind == kinds[i]);
    CHECK(g.ops[1].name == "layer0.attn.norm");
    CHECK(g.ops[1 + 12 * 3 + 1].name == "layer3.attn.qkv");
    CHECK(g.ops[g.ops.size() - 3].name == "final_norm");
    CHECK(g.ops[g.ops.size() - 2].name == "lm_head");
    CHECK(g.ops.back().name == "sampling");
    CHECK(g.ops.back().kind == OpKind::sampling);
    // Layers run in order and ops outside them have layer -1.
    int last_layer = -1;
    for (std::size_t i = 1; i + 3 < g.ops.size(); ++i) {
      CHECK(g.ops[i].layer >= last_layer);
      last_layer = g.ops[i].layer;
    }
    CHECK(g.ops.front().layer == -1);
    CHECK(g.ops.back().layer == -1);
  }
  SECTION("every layer has the same op groups") {
    for (const char* name : {"llama-3-8b", "qwen3-8b", "mixtral-8x7b", "gpt-style-1b"}) {
      INFO(name);
      const StepGraph g = build_step_graph(load_model(name), prefill(1, 16));
      for (int layer = 1; layer < g.model.num_layers; ++layer) CHECK(layer_groups(g, layer) == layer_groups(g, 0));
      std::set<std::string> names;
      for (const auto& op : g.ops) CHECK(names.insert(op.name).second);  // names are unique
    }
  }
  SECTION("qwen3: q and k norms after the qkv projection") {
    const StepGraph g = build_step_graph(load_model("qwen3-8b"), decode(2, 10));
    CHECK(layer_groups(g, 5) == std::vector<std::string>{"attn.norm", "attn.qkv", "attn.q_norm", "attn.k_norm",
                                                         "attn.rope", "attn.kv_append", "attn.attention", "attn.o",
                                                         "attn.residual", "mlp.norm", "mlp.gate_up", "mlp.act",
                                                         "mlp.down", "mlp.residual"});
    const Op& qn = find_op(g, "layer5.attn.q_norm");
    CHECK(qn.rows().rows == 2 * 32);
    CHECK(qn.rows().width == 128);
    CHECK(find_op(g, "layer5.attn.k_norm").rows().rows == 2 * 8);
  }
  SECTION("mixtral: router then experts") {
    const StepGraph g = build_step_graph(load_model("mixtral-8x7b"), decode(1, 10));
    const auto groups = layer_groups(g, 0);
    CHECK(std::vector<std::string>(groups.end() - 4, groups.end()) ==
          std::vector<std::string>{"mlp.norm", "mlp.router", "mlp.experts", "mlp.residual"});
    const Op& router = find_op(g, "layer0.mlp.router");
    CHECK(router.kind == OpKind::moe_router);
    CHECK(router.matmul().n == 8);
    CHECK(router.matmul().k == 4096);
    const Op& experts = find_op(g, "layer0.mlp.experts");
    CHECK(experts.kind == OpKind::moe_experts);
    CHECK(experts.experts().experts == 8);
    CHECK(experts.experts().experts_per_token == 2);
    CHECK(experts.experts().intermediate == 14336);
  }
  SECTION("gelu: up, act, down") {
    const StepGraph g = build_step_graph(load_model("gpt-style-1b"), decode(1, 10));
    const auto groups = layer_groups(g, 0);
    CHECK(std::vector<std::string>(groups.end() - 5, groups.end()) ==
          std::vector<std::string>{"mlp.norm", "mlp.up", "mlp.act", "mlp.down", "mlp.residual"});
    CHECK(find_op(g, "layer0.mlp.up").matmul().n == 8192);
    CHECK(find_op(g, "layer0.mlp.up").matmul().bias);
    CHECK(find_op(g, "layer0.mlp.act").rows().width == 8192);
    CHECK(find_op(g, "layer0.mlp.act").act_bytes == 2 * 8192 * 2);
  }
}

TEST_CASE("linear shapes", "[workloads][graph]") {
  const ModelConfig m = load_model("qwen2-7b");
  const StepGraph g = build_step_graph(m, prefill(3, 100));
  const Op& qkv = find_op(g, "layer0.attn.qkv");
  CHECK(qkv.matmul().m == 300);
  CHECK(qkv.matmul().n == (28 + 2 * 4) * 128);
  CHECK(qkv.matmul().k == 3584);
  CHECK(qkv.matmul().bias);
  CHECK(qkv.flops == 2ull * 300 * 4608 * 3584 + 300ull * 4608);
  CHECK(qkv.weight_bytes == (3584ull * 4608 + 4608) * 2);
  CHECK(qkv.act_bytes == (300ull * 3584 + 300ull * 4608) * 2);
  const Op& o = find_op(g, "layer0.attn.o");
  CHECK_FALSE(o.matmul().bias);
  CHECK(o.matmul().n == 3584);
  CHECK(o.matmul().k == 28 * 128);
  const Op& gate_up = find_op(g, "layer0.mlp.gate_up");
  CHECK(gate_up.matmul().n == 2 * 18944);
  const Op& act = find_op(g, "layer0.mlp.act");  // reads [gate | up] rows, writes intermediate
  CHECK(act.rows().rows == 300);
  CHECK(act.rows().width == 2 * 18944);
  CHECK(act.flops == 300ull * 18944 * 5);
  CHECK(act.act_bytes == 300ull * 3 * 18944 * 2);
  CHECK(find_op(g, "layer0.mlp.down").matmul().k == 18944);
}

TEST_CASE("linear FLOPs are twice the matmul weights per token", "[workloads][graph]") {
  SECTION("llama-3-8b decode, batch 1 and 8") {
    const ModelConfig m = load_model("llama-3-8b");
    const ParamCounts c = m.param_counts();
    // Every weight but the embedding table and the norms is a linear's (the LM head included).
    const std::uint64_t matmul_params = m.params() - c.embedding - c.norms;
    for (int batch : {1, 8}) {
      const StepGraph g = build_step_graph(m, decode(batch, 512));
      CHECK(sum_of(g, OpKind::linear, &Op::flops) == 2ull * batch * matmul_params);
      CHECK(sum_of(g, OpKind::linear, &Op::weight_bytes) == 2 * matmul_params);  // bf16
    }
  }
  SECTION("qwen2-7b: plus one FLOP per bias element and token") {
    const ModelConfig m = load_model("qwen2-7b");
    const ParamCounts c = m.param_counts();
    const StepGraph g = build_step_graph(m, decode(4, 512));
    CHECK(sum_of(g, OpKind::linear, &Op::flops) ==
          2ull * 4 * (m.params() - c.embedding - c.norms - c.biases) + 4ull * c.biases);
  }
  SECTION("prefill: every prompt token through the layers, the last of each sequence through the LM head") {
    const ModelConfig m = load_model("llama-3-8b");
    const ParamCounts c = m.param_counts();
    const StepGraph g = build_step_graph(m, prefill(2, 1000));
    CHECK(sum_of(g, OpKind::linear, &Op::flops) == 2ull * 2000 * (c.attention + c.mlp) + 2ull * 2 * c.lm_head);
  }
}

TEST_CASE("prefill: lm_head, final norm and sampling see only each sequence's last token", "[workloads][graph]") {
  const StepGraph g = build_step_graph(load_model("llama-3-8b"), prefill(4, 512));
  CHECK(g.spec.tokens() == 4 * 512);
  CHECK(find_op(g, "embedding").rows().rows == 4 * 512);
  CHECK(find_op(g, "layer31.mlp.down").matmul().m == 4 * 512);
  const Op& lm = find_op(g, "lm_head");
  CHECK(lm.matmul().m == 4);
  CHECK(lm.matmul().n == 128256);
  CHECK(lm.matmul().k == 4096);
  CHECK(lm.flops == 2ull * 4 * 128256 * 4096);
  CHECK(find_op(g, "final_norm").rows().rows == 4);
  CHECK(find_op(g, "sampling").rows().rows == 4);
  CHECK(find_op(g, "sampling").rows().width == 128256);
  // Decode: every batch token.
  const StepGraph d = build_step_graph(load_model("llama-3-8b"), decode(4, 512));
  CHECK(find_op(d, "lm_head").matmul().m == 4);
  CHECK(find_op(d, "layer0.attn.qkv").matmul().m == 4);
}

TEST_CASE("attention shapes, FLOPs and KV bytes", "[workloads][graph]") {
  const ModelConfig m = load_model("llama-3-8b");
  SECTION("decode: one query over the cache plus this token") {
    const int batch = 3, context = 1023;
    const StepGraph g = build_step_graph(m, decode(batch, context));
    const Op& a = find_op(g, "layer7.attn.attention");
    CHECK(a.attention().batch == 3);
    CHECK(a.attention().heads == 32);
    CHECK(a.attention().kv_heads == 8);
    CHECK(a.attention().head_dim == 128);
    CHECK(a.attention().q_len == 1);
    CHECK(a.attention().kv_len == 1024);
    CHECK_FALSE(a.attention().causal);
    const std::uint64_t scores = 3ull * 32 * 1024;
    CHECK(a.flops == 2 * 2 * scores * 128 + 5 * scores);
    CHECK(a.kv_bytes == 3ull * 1024 * 2 * 8 * 128 * 2);  // read K and V, bf16
    CHECK(a.act_bytes == 2 * 3ull * 32 * 128 * 2);      // q in, output out
    const Op& append = find_op(g, "layer7.attn.kv_append");
    CHECK(append.rows().rows == 3);
    CHECK(append.rows().width == 2 * 8 * 128);
    CHECK(append.kv_bytes == 3ull * 2 * 8 * 128 * 2);
    CHECK(append.flops == 0);
  }
  SECTION("decode with an fp8 cache reads half the bytes") {
    RunSpec s = decode(2, 4095);
    s.kv_dtype = isa::DType::fp8;
    const StepGraph g = build_step_graph(m, s);  // the op refers into it: keep it alive
    const Op& a = find_op(g, "layer0.attn.attention");
    CHECK(a.kv_bytes == 2ull * 4096 * 2 * 8 * 128);
  }
  SECTION("prefill: causal, query i attends i + 1 keys") {
    const StepGraph g = build_step_graph(m, prefill(2, 100));
    const Op& a = find_op(g, "layer0.attn.attention");
    CHECK(a.attention().q_len == 100);
    CHECK(a.attention().kv_len == 100);
    CHECK(a.attention().causal);
    const std::uint64_t scores = 2ull * 32 * (100 * 101 / 2);
    CHECK(a.flops == 2 * 2 * scores * 128 + 5 * scores);
    CHECK(a.kv_bytes == 2ull * 100 * 2 * 8 * 128 * 2);
  }
}

TEST_CASE("step totals", "[workloads][graph]") {
  const ModelConfig m = load_model("llama-3-8b");
  const ParamCounts c = m.param_counts();
  const StepGraph g = build_step_graph(m, decode(1, 2047));
  std::uint64_t flops = 0, bytes = 0, weights = 0;
  for (const auto& op : g.ops) {
    flops += op.flops;
    bytes += op.hbm_bytes();
    weights += op.weight_bytes;
    CHECK(op.hbm_bytes() > 0);
    if (op.kind != OpKind::embedding && op.kind != OpKind::kv_append) CHECK(op.flops > 0);
  }
  CHECK(g.flops() == flops);
  CHECK(g.hbm_bytes() == bytes);
  // Ops read every weight once except the embedding table, of which decode gathers one row per token.
  CHECK(g.weight_bytes() == 2 * m.params());
  CHECK(weights == g.weight_bytes() - 2 * c.embedding + 2 * 4096);
  // KV cache after the step: 2048 tokens x 32 layers x K and V x 8 heads x 128 x bf16.
  CHECK(g.kv_cache_bytes() == 2048ull * 32 * 2 * 8 * 128 * 2);
  CHECK(build_step_graph(m, decode(4, 2047)).kv_cache_bytes() == 4 * g.kv_cache_bytes());
  CHECK(build_step_graph(m, prefill(4, 2048)).kv_cache_bytes() == 4 * g.kv_cache_bytes());
  // Beyond the linears: attention over 2048 keys, 32 layers (4 x heads x head_dim and 5 per score),
  // and the elementwise ops.
  const std::uint64_t attention = 32ull * (4 * 32 * 128 * 2048 + 5 * 32 * 2048);
  CHECK(g.flops() > 2 * (m.params() - c.embedding - c.norms) + attention);
  CHECK(g.flops() < 2 * (m.params() - c.embedding - c.norms) + attention + 1000 * 4096 * 32);
}

TEST_CASE("weight bytes at the weight dtype, norms and biases at the activation dtype", "[workloads][graph]") {
  const ModelConfig m = load_model("qwen2-7b");
  const ParamCounts c = m.param_counts();
  RunSpec s = decode(1, 100);
  s.weight_dtype = isa::DType::fp8;
  const StepGraph g = build_step_graph(m, s);
  CHECK(g.weight_bytes() == (m.params() - c.norms - c.biases) + 2 * (c.norms + c.biases));
  const Op& qkv = find_op(g, "layer0.attn.qkv");
  CHECK(qkv.weight_bytes == 3584ull * 4608 + 2 * 4608);
  CHECK(find_op(g, "layer0.attn.norm").weight_bytes == 2 * 3584);
}

TEST_CASE("MoE experts: FLOPs and the expected distinct experts read", "[workloads][graph][moe]") {
  CHECK(expected_distinct_experts(8, 2, 1) == Approx(2.0));
  CHECK(expected_distinct_experts(8, 2, 4) == Approx(8 * (1 - std::pow(0.75, 4))));
  CHECK(expected_distinct_experts(8, 2, 1000) == Approx(8.0));
  CHECK(expected_distinct_experts(8, 8, 1) == Approx(8.0));
  CHECK(expected_distinct_experts(8, 2, 0) == 0.0);
  double last = 0;
  for (std::uint64_t t = 1; t < 64; ++t) {
    const double hit = expected_distinct_experts(64, 4, t);
    CHECK(hit > last);
    CHECK(hit <= 64);
    CHECK(hit <= 4.0 * t);
    last = hit;
  }

  const ModelConfig m = load_model("mixtral-8x7b");
  const std::uint64_t expert_bytes = 3ull * 4096 * 14336 * 2;  // one expert's gate, up and down, bf16
  SECTION("decode") {
    for (int batch : {1, 4, 64}) {
      INFO(batch);
      const StepGraph g = build_step_graph(m, decode(batch, 100));
      const Op& e = find_op(g, "layer0.mlp.experts");
      CHECK(e.weight_bytes == static_cast<std::uint64_t>(
                                  std::llround(expected_distinct_experts(8, 2, batch) * expert_bytes)));
      const std::uint64_t routed = 2ull * batch;
      CHECK(e.flops == routed * (2 * 4096 * 2 * 14336 + 2 * 14336 * 4096) + routed * 14336 * 5 + routed * 4096 * 2);
      const Op& r = find_op(g, "layer0.mlp.router");
      CHECK(r.flops == 2ull * batch * 4096 * 8);
      CHECK(r.weight_bytes == 4096ull * 8 * 2);
    }
    // One token reads exactly two experts; four tokens 5.46875 on average.
    CHECK(find_op(build_step_graph(m, decode(1, 100)), "layer0.mlp.experts").weight_bytes == 2 * expert_bytes);
    CHECK(find_op(build_step_graph(m, decode(4, 100)), "layer0.mlp.experts").weight_bytes ==
          546875ull * expert_bytes / 100000);
  }
  SECTION("prefill reads every expert") {
    const StepGraph g = build_step_graph(m, prefill(1, 3));
    CHECK(find_op(g, "layer0.mlp.experts").weight_bytes == 8 * expert_bytes);
  }
}

TEST_CASE("RunSpec::tokens", "[workloads][graph]") {
  CHECK(decode(7, 100).tokens() == 7);
  CHECK(prefill(7, 100).tokens() == 700);
  CHECK(prefill(0, 100).tokens() == 0);
}

TEST_CASE("specs the model cannot run", "[workloads][graph][errors]") {
  const ModelConfig m = load_model("llama-3-8b");
  CHECK_THAT(error_of([&] { build_step_graph(m, decode(0, 100)); }), Contains("batch"));
  CHECK_THAT(error_of([&] { build_step_graph(m, prefill(1, 0)); }), Contains("prompt_len"));
  CHECK_THAT(error_of([&] { build_step_graph(m, decode(1, 0)); }), Contains("context_len"));
  CHECK_THAT(error_of([&] { build_step_graph(m, decode(1, 8192)); }),
             Contains("context_len 8192") && Contains("max_position_embeddings 8192") && Contains("llama-3-8b"));
  CHECK_THAT(error_of([&] { build_step_graph(m, prefill(1, 8193)); }),
             Contains("prompt_len 8193") && Contains("max_position_embeddings 8192"));
  CHECK_NOTHROW(build_step_graph(m, decode(1, 8191)));
  CHECK_NOTHROW(build_step_graph(m, prefill(1, 8192)));
  // The phase's other length is not checked.
  RunSpec s = decode(1, 100);
  s.prompt_len = 0;
  CHECK_NOTHROW(build_step_graph(m, s));
  ModelConfig broken = m;
  broken.num_kv_heads = 5;
  CHECK_THAT(error_of([&] { build_step_graph(broken, decode(1, 100)); }), Contains("num_kv_heads"));
}

TEST_CASE("graphs are deterministic", "[workloads][graph]") {
  for (const auto& name : model_names()) {
    INFO(name);
    const ModelConfig m = load_model(name);
    // A DiT's step is a denoising step (a 480p video); a language model's decode and prefill.
    const std::vector<RunSpec> specs = m.is_dit() ? std::vector<RunSpec>{denoise(1, 81, 480, 832, true)}
                                                  : std::vector<RunSpec>{decode(3, 200), prefill(2, 64)};
    for (const RunSpec& s : specs) {
      const StepGraph a = build_step_graph(m, s);
      const StepGraph b = build_step_graph(load_model(name), s);
      REQUIRE(a.ops.size() == b.ops.size());
      for (std::size_t i = 0; i < a.ops.size(); ++i) {
        const Op& x = a.ops[i];
        const Op& y = b.ops[i];
        CHECK(x.name == y.name);
        CHECK(x.kind == y.kind);
        CHECK(x.shape == y.shape);
        CHECK(x.flops == y.flops);
        CHECK(x.hbm_bytes() == y.hbm_bytes());
        CHECK(std::string(op_kind_name(x.kind)) != "?");
      }
      CHECK(a.flops() == b.flops());
    }
  }
}

TEST_CASE("expert parallel graphs split the routed pairs exactly by the expert load", "[graph][ep]") {
  using namespace tasim::workloads;
  const ModelConfig model = load_model("mixtral-8x7b");
  RunSpec spec;
  spec.phase = Phase::decode;
  spec.batch = 16;
  spec.context_len = 128;
  spec.ep = 4;
  spec.expert_load = parse_expert_load("zipf:1.0", model.num_experts);
  REQUIRE(spec.expert_load.size() == 8);
  std::uint64_t pairs = 0;
  std::vector<std::uint64_t> per_expert;
  for (int rank = 0; rank < 4; ++rank) {
    spec.ep_rank = rank;
    const StepGraph g = build_step_graph(model, spec);
    for (const auto& op : g.ops) {
      if (op.kind != OpKind::moe_experts || op.layer != 0) continue;
      CHECK(op.experts().experts == 2);
      for (auto t : op.experts().expert_tokens) {
        pairs += t;
        per_expert.push_back(t);
      }
    }
  }
  // Every token of every chip goes to 2 experts: 16 tokens x 2.
  CHECK(pairs == 16u * 2);
  // zipf 1.0: expert 0 gets the most, each later expert no more than the one before.
  for (std::size_t e = 1; e < per_expert.size(); ++e) CHECK(per_expert[e] <= per_expert[e - 1]);
  CHECK(per_expert.front() > per_expert.back());
  CHECK(parse_expert_load("uniform", 8).empty());
  CHECK_THROWS_WITH(parse_expert_load("1,2", 8), Catch::Contains("8 experts"));
  CHECK_THROWS_WITH(parse_expert_load("0,0,0,0,0,0,0,0", 8), Catch::Contains("add up to 0"));
}

TEST_CASE("a ragged step groups its sequences' attention and counts every sequence", "[graph][ragged]") {
  const ModelConfig model = load_model("llama-3-8b");
  RunSpec spec;
  // Three decodes at context 1000, one more at 2000, and a 300-token chunk after 700 cached tokens.
  spec.sequences = {{1000, 1}, {2000, 1}, {1000, 1}, {700, 300}, {1000, 1}};
  const StepGraph g = build_step_graph(model, spec);
  CHECK(g.spec.batch == 5);
  CHECK(g.spec.phase == Phase::prefill);  // not every sequence decodes one token
  CHECK(g.spec.tokens() == 304);
  std::vector<AttentionShape> layer0;
  for (const Op& op : g.ops) {
    if (op.kind == OpKind::attention && op.layer == 0) layer0.push_back(op.attention());
    if (op.kind == OpKind::linear && op.name == "layer0.attn.qkv") CHECK(op.matmul().m == 304);
    if (op.name == "lm_head") CHECK(op.matmul().m == 5);  // a row per sequence
  }
  // The four decodes as one op over their mean cached length ((3 x 1001 + 2001) / 4, rounded
  // up), then the chunk.
  REQUIRE(layer0.size() == 2);
  CHECK(layer0[0].batch == 4);
  CHECK(layer0[0].q_len == 1);
  CHECK(layer0[0].kv_len == 1251);
  CHECK_FALSE(layer0[0].causal);
  CHECK(layer0[1].batch == 1);
  CHECK(layer0[1].q_len == 300);
  CHECK(layer0[1].kv_len == 1000);
  CHECK(layer0[1].causal);
  // The KV cache after the step: every sequence's tokens.
  const std::uint64_t per_token = 2ull * model.num_layers * model.num_kv_heads * model.head_dim * 2;
  CHECK(g.kv_cache_bytes() == (3 * 1001 + 2001 + 1000) * per_token);
  // Equal decodes are the uniform decode step, op for op.
  RunSpec ragged, uniform;
  ragged.sequences.assign(8, SequenceShape{512, 1});
  uniform.batch = 8;
  uniform.context_len = 512;
  const StepGraph a = build_step_graph(model, ragged), b = build_step_graph(model, uniform);
  REQUIRE(a.ops.size() == b.ops.size());
  for (std::size_t i = 0; i < a.ops.size(); ++i) {
    CHECK(a.ops[i].name == b.ops[i].name);
    CHECK(a.ops[i].shape == b.ops[i].shape);
    CHECK(a.ops[i].flops == b.ops[i].flops);
    CHECK(a.ops[i].hbm_bytes() == b.ops[i].hbm_bytes());
  }
  // Refused: a sequence past the model's positions, none new, or with expert parallelism.
  RunSpec bad;
  bad.sequences = {{8190, 10}};
  CHECK_THROWS_WITH(build_step_graph(model, bad), Catch::Contains("sequence 0: context 8190 plus 10 new tokens"));
  bad.sequences = {{10, 0}};
  CHECK_THROWS_WITH(build_step_graph(model, bad), Catch::Contains("computes 0 new tokens"));
  bad.sequences = {{10, 1}};
  bad.ep = 8;
  CHECK_THROWS_WITH(build_step_graph(load_model("mixtral-8x7b"), bad), Catch::Contains("one chip or tensor parallel"));
}
