// Video diffusion transformers (issue 13): Wan2.1's WanModel read from its config.json, counted,
// and built into a denoising step's op graph; every figure below computed by hand.
#include <catch2/catch.hpp>

#include <string>

#include "common/error.h"
#include "error_of.h"
#include "workloads/graph.h"
#include "workloads/model.h"
#include "workloads/run_specs.h"

using namespace tasim;
using namespace tasim::workloads;
using namespace tasim::workloads::testing;
using Catch::Matchers::Contains;
using tasim::testing::error_of;

namespace {

const std::string kTinyWan = std::string(TASIM_SOURCE_DIR) + "/tests/data/frontier/tiny-wan.json";

const Op& op_named(const StepGraph& g, const std::string& name) {
  for (const auto& op : g.ops) {
    if (op.name == name) return op;
  }
  FAIL("no op " << name);
  throw Error("unreachable");
}

std::string wan_json(const std::string& extra) {
  return "{\"model_type\": \"t2v\", " + extra +
         "\"dim\": 256, \"ffn_dim\": 512, \"num_heads\": 4, \"num_layers\": 2}";
}

}  // namespace

TEST_CASE("Wan2.1-T2V-14B is read from its config.json and counted exactly", "[workloads][model][dit]") {
  const ModelConfig m = load_model("wan2.1-t2v-14b");
  CHECK(m.is_dit());
  CHECK(m.model_type == "t2v");
  CHECK(m.hidden_size == 5120);
  CHECK(m.intermediate_size == 13824);
  CHECK(m.num_layers == 40);
  CHECK(m.num_heads == 40);
  CHECK(m.head_dim == 128);
  CHECK(m.qk_norm);
  CHECK(m.dit_dims.text_len == 512);
  CHECK(m.dit_dims.text_dim == 4096);  // umT5-XXL, WanModel's default (not in config.json)
  CHECK(m.dit_dims.patch_elements() == 4);
  const ParamCounts c = m.param_counts();
  // Embeddings: patch 64 x 5120; text 4096 x 5120 + 5120 x 5120; time 256 x 5120 + 5120 x 5120;
  // time projection 5120 x 30720.
  CHECK(c.embedding == 327'680ull + 20'971'520 + 26'214'400 + 1'310'720 + 26'214'400 + 157'286'400);
  CHECK(c.attention == 40ull * 8 * 5120 * 5120);  // self and cross q, k, v, o
  CHECK(c.mlp == 40ull * 2 * 5120 * 13824);
  // Biases: patch 5120, text 2 x 5120, time 2 x 5120, projection 30720, per block 8 x 5120 +
  // 13824 + 5120, head 64.
  CHECK(c.biases == 5120ull + 10'240 + 10'240 + 30'720 + 40ull * (40'960 + 13'824 + 5120) + 64);
  CHECK(c.norms == 40ull * (4 * 5120 + 2 * 5120));  // q/k RMSNorms (self, cross), the cross LayerNorm
  CHECK(c.modulation == 40ull * 6 * 5120 + 2 * 5120);
  CHECK(c.lm_head == 5120ull * 64);
  // Published: "14B" (Wan2.1 README); 28.6 GB of bf16 weights = 14.3 B parameters.
  CHECK(m.params() == 14'288'491'584ull);
  CHECK(m.kv_bytes_per_token(2) == 0);  // nothing is cached between steps
}

TEST_CASE("a small WanModel's parameters, by hand", "[workloads][model][dit]") {
  // dim 256, ffn 512, 4 blocks, freq 32, text_dim 128, patch 1x2x2, 16 channels in and out:
  // patch 16,640 + text 98,816 + time 74,240 + projection 394,752 + 4 blocks x 792,320
  // (attention 524,288 + 2,048 biases, FFN 262,144 + 768 biases, q/k norms 1,024, cross norm
  // 512, modulation 1,536) + head 16,448 + its modulation 512.
  CHECK(load_model(kTinyWan).params() == 3'770'688ull);
}

TEST_CASE("latent tokens follow the VAE and patch strides", "[workloads][dit]") {
  const ModelConfig m = load_model("wan2.1-t2v-14b");
  // 81 frames -> 21 latent frames; 720 x 1280 -> 90 x 160 latents -> 45 x 80 patches.
  CHECK(dit_latent_tokens(m, 81, 720, 1280) == 21ull * 45 * 80);
  CHECK(dit_latent_tokens(m, 81, 720, 1280) == 75'600ull);
  CHECK(dit_latent_tokens(m, 81, 480, 832) == 21ull * 30 * 52);  // 480p: 32,760
  CHECK(dit_latent_tokens(m, 1, 720, 1280) == 3600);             // one image
  CHECK_THAT(error_of([&] { dit_latent_tokens(m, 80, 720, 1280); }), Contains("frames 80"));
  CHECK_THAT(error_of([&] { dit_latent_tokens(m, 81, 700, 1280); }), Contains("height 700"));
  CHECK_THAT(error_of([&] { dit_latent_tokens(m, 81, 720, 1000); }), Contains("width 1000"));
}

TEST_CASE("DiT attention FLOPs: 4 x tokens^2 x hidden per layer, non-causal", "[workloads][graph][dit]") {
  const ModelConfig m = load_model("wan2.1-t2v-14b");
  const std::uint64_t T = 75'600, H = 5120, heads = 40, text = 512;
  const StepGraph g = build_step_graph(m, denoise(1, 81, 720, 1280, false));
  CHECK(g.spec.latent_tokens == T);
  CHECK(g.spec.tokens() == T);
  const Op& self = op_named(g, "layer0.dit.self_attn.attention");
  CHECK_FALSE(self.attention().causal);
  CHECK(self.attention().q_len == T);
  CHECK(self.attention().kv_len == T);
  // Q K^T and P V: 2 x 2 x T^2 x head_dim per head = 4 T^2 H; the softmax 5 per score.
  CHECK(4 * T * T * H == 117'050'572'800'000ull);
  CHECK(self.flops == 117'050'572'800'000ull + 5 * heads * T * T);
  const Op& cross = op_named(g, "layer0.dit.cross_attn.attention");
  CHECK_FALSE(cross.attention().causal);
  CHECK(cross.attention().kv_len == text);
  CHECK(cross.flops == 4 * T * text * H + 5 * heads * T * text);
  // Classifier-free guidance doubles the batch: every figure twice.
  const StepGraph cfg = build_step_graph(m, denoise(1, 81, 720, 1280, true));
  CHECK(cfg.spec.tokens() == 2 * T);
  CHECK(op_named(cfg, "layer0.dit.self_attn.attention").flops == 2 * self.flops);
  CHECK(cfg.flops() == 2 * g.flops());
  // Tensor parallel: each of 8 chips holds 5 heads and 1/8 of the FFN.
  RunSpec tp = denoise(1, 81, 720, 1280, true);
  tp.tp = 8;
  const StepGraph sharded = build_step_graph(m, tp);
  CHECK(op_named(sharded, "layer0.dit.self_attn.attention").attention().heads == 5);
  CHECK(op_named(sharded, "layer0.dit.self_attn.attention").flops * 8 ==
        op_named(cfg, "layer0.dit.self_attn.attention").flops);
  CHECK(op_named(sharded, "layer0.dit.ffn.up").matmul().n == 13824 / 8);
  CHECK(op_named(sharded, "layer0.dit.ffn.allreduce").kind == OpKind::allreduce);
}

TEST_CASE("a denoising step's ops, shapes and figures on a small DiT", "[workloads][graph][dit]") {
  // 5 frames of 64 x 96: 2 latent frames of 4 x 6 patches = 48 tokens per sample; CFG: 2 samples.
  const StepGraph g = build_step_graph(load_model(kTinyWan), denoise(1, 5, 64, 96, true));
  const std::uint64_t T = 48, rows = 2 * T, text = 2 * 32;
  CHECK(g.spec.tokens() == rows);
  std::vector<std::string> layer0;
  for (const auto& op : g.ops) {
    if (op.layer == 0) layer0.push_back(op_group_name(op));
  }
  CHECK(layer0 == std::vector<std::string>{"dit.self_attn.adaln", "dit.self_attn.qkv", "dit.self_attn.q_norm",
                                           "dit.self_attn.k_norm", "dit.self_attn.rope", "dit.self_attn.attention",
                                           "dit.self_attn.o", "dit.self_attn.residual", "dit.cross_attn.norm",
                                           "dit.cross_attn.q", "dit.cross_attn.q_norm", "dit.cross_attn.kv",
                                           "dit.cross_attn.k_norm", "dit.cross_attn.attention", "dit.cross_attn.o",
                                           "dit.cross_attn.residual", "dit.ffn.adaln", "dit.ffn.up", "dit.ffn.act",
                                           "dit.ffn.down", "dit.ffn.residual"});
  CHECK(g.ops.front().name == "dit.patch_embed");
  CHECK(g.ops.back().name == "dit.head");
  // Patch embedding: 16 channels x 4 latents per token -> 256, with bias.
  CHECK(op_named(g, "dit.patch_embed").flops == 2 * rows * 256 * 64 + rows * 256);
  CHECK(op_named(g, "dit.text_embed.fc1").matmul().m == text);
  CHECK(op_named(g, "dit.text_embed.fc1").matmul().k == 128);
  CHECK(op_named(g, "dit.time_proj").matmul().n == 6 * 256);
  CHECK(op_named(g, "dit.head").matmul().n == 64);
  // adaLN: LayerNorm then scale and shift (7 per element); the gated residual 2 per element.
  const Op& adaln = op_named(g, "layer0.dit.self_attn.adaln");
  CHECK(adaln.kind == OpKind::modulated_norm);
  CHECK(adaln.flops == rows * 256 * 7);
  CHECK(op_named(g, "layer0.dit.ffn.residual").kind == OpKind::gated_residual);
  CHECK(op_named(g, "layer0.dit.ffn.residual").flops == rows * 256 * 2);
  // Self-attention: 2 samples x 4 heads x 48^2 scores x (2 x (64 + 64) + 5); cross over 32 keys.
  CHECK(op_named(g, "layer0.dit.self_attn.attention").flops == 2ull * 4 * 48 * 48 * 261);
  CHECK(op_named(g, "layer0.dit.cross_attn.attention").flops == 2ull * 4 * 48 * 32 * 261);
  CHECK(op_named(g, "layer0.dit.cross_attn.kv").matmul().m == text);
  CHECK(op_named(g, "layer0.dit.cross_attn.kv").matmul().n == 2 * 256);
  CHECK(g.kv_cache_bytes() == 0);
}

TEST_CASE("DiT runs are checked: phase, video shape, parallel layout", "[workloads][graph][dit]") {
  const ModelConfig dit = load_model(kTinyWan);
  CHECK_THAT(error_of([&] { build_step_graph(dit, prefill(1, 128)); }), Contains("phase denoise"));
  CHECK_THAT(error_of([&] { build_step_graph(load_model("llama-3-8b"), denoise(1, 81, 720, 1280, true)); }),
             Contains("diffusion transformer"));
  CHECK_THAT(error_of([&] { build_step_graph(dit, denoise(1, 6, 64, 96, true)); }), Contains("frames 6"));
  RunSpec tp = denoise(1, 5, 64, 96, true);
  tp.tp = 3;
  CHECK_THAT(error_of([&] { build_step_graph(dit, tp); }), Contains("tp 3"));
  RunSpec pp = denoise(1, 5, 64, 96, true);
  pp.pp = 2;
  CHECK_THAT(error_of([&] { build_step_graph(dit, pp); }), Contains("pp 2"));
  // Config fields that change the compute and are not modelled are refused by name.
  CHECK_THAT(error_of([] { parse_hf_config(wan_json("\"window_size\": [64, 64], "), "w.json"); }),
             Contains("window_size"));
  CHECK_THAT(error_of([] { parse_hf_config(wan_json("\"patch_size\": [1, 2], "), "w.json"); }), Contains("patch_size"));
  CHECK_THAT(error_of([] { parse_hf_config("{\"model_type\": \"i2v\", \"dim\": 256}", "w.json"); }),
             Contains("i2v"));
  CHECK_THAT(error_of([] { parse_hf_config("{\"model_type\": \"t2v\", \"dim\": 256}", "w.json"); }),
             Contains("ffn_dim"));
  CHECK_NOTHROW(parse_hf_config(wan_json("\"window_size\": [-1, -1], \"qk_norm\": false, "), "w.json"));
}
