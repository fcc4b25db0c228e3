// Weight formats from a config's quantization_config: bytes by hand, modules left unconverted,
// the matrix unit's dtype (fp4 where the arch has a rate, else dequantized) and what the DMA moves.
#include <catch2/catch.hpp>

#include "error_of.h"

#include <string>

#include "arch/matrix_timing.h"
#include "arch/test_chips.h"
#include "workloads/graph.h"
#include "workloads/lowering.h"
#include "workloads/lowering/hbm_layout.h"
#include "workloads/model.h"
#include "workloads/run_specs.h"

using namespace tasim;
using namespace tasim::workloads;
using namespace tasim::workloads::testing;
using Catch::Matchers::Contains;
using tasim::testing::error_of;

namespace {

const Op& op_named(const StepGraph& g, const std::string& name) {
  for (const Op& op : g.ops) {
    if (op.name == name) return op;
  }
  FAIL("no op " << name);
  throw;
}

// A one-layer llama with a quantization_config spliced in.
std::string tiny_llama(const std::string& quantization_config) {
  return R"({"model_type": "llama", "hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 1,
             "num_attention_heads": 4, "num_key_value_heads": 4, "vocab_size": 1000,
             "max_position_embeddings": 2048, "quantization_config": )" +
         quantization_config + "}";
}


}  // namespace

TEST_CASE("weight formats: bits per value and bytes with their scales, by hand", "[workloads][weight_format]") {
  const WeightFormat mx = mxfp4_weight_format();
  CHECK(mx.bits_per_value() == 4.25);  // 4-bit e2m1 + one 8-bit e8m0 scale per 32
  CHECK(mx.bytes(32, 1) == 17);        // 32 x 4 + 8 = 136 bits
  CHECK(mx.bytes(33, 1) == 19);        // 33 x 4 + 2 scales x 8 = 148 bits -> 18.5 -> 19 bytes
  CHECK(mx.bytes(1, 1) == 2);          // a partial group carries its whole scale: 12 bits
  CHECK(mx.compute_dtype == isa::DType::fp4);
  // GPTQ/AWQ int4, group 128: a 16-bit scale per group (+ a 4-bit zero point when asymmetric).
  CHECK(integer_weight_format(4, 128, false).bits_per_value() == 4.125);
  CHECK(integer_weight_format(4, 128, true).bits_per_value() == 4.15625);
  CHECK(integer_weight_format(4, 128, false).bytes(256, 1024) == 135168);  // 1048576 + 2048 x 16 bits
  // fp8 with one fp32 scale per 128 x 128 block: 8 + 32 / 16384 bits.
  const WeightFormat fp8 = fp8_block_weight_format(128, 128);
  CHECK(fp8.bits_per_value() == 8.001953125);
  CHECK(fp8.bytes(7168, 1536) == 11010048 + 56 * 12 * 4);
  CHECK(fp8.bytes(7168, 576) == 4128768 + 56 * 5 * 4);  // 576 columns: 4.5 blocks -> 5 scales per row of blocks
  CHECK(plain_weight_format(isa::DType::bf16).bytes(3, 5) == 30);
}

TEST_CASE("MXFP4: a gpt-oss-20b layer's experts are 4.25 bits per value, and attention, router, head stay bf16",
          "[workloads][weight_format][frontier]") {
  const ModelConfig m = load_model("gpt-oss-20b");
  REQUIRE(m.quantization.method == "mxfp4");
  const StepGraph g = build_step_graph(m, prefill(1, 512));
  // Per expert: gate_up 2880 x 5760 and down 2880 x 2880 = 24,883,200 values, 12,441,600 bytes of
  // values + 777,600 one-byte scales = 13,219,200 bytes; biases (5760 + 2880) x 2 bytes = 17,280.
  // Prefill reads all 32 experts.
  const Op& experts = op_named(g, "layer0.mlp.experts");
  CHECK(experts.weight_format.name == "mxfp4");
  CHECK(experts.weight_bytes == 32ull * (13219200 + 17280));
  // modules_to_not_convert: self_attn, the router, embeddings and lm_head stay bf16.
  CHECK(op_named(g, "layer0.attn.qkv").weight_bytes == 2880ull * (64 + 2 * 8) * 64 * 2 + 5120 * 2);
  CHECK(op_named(g, "layer0.attn.qkv").weight_format.name == "bf16");
  CHECK(op_named(g, "layer0.mlp.router").weight_bytes == 2880ull * 32 * 2 + 32 * 2);
  CHECK(op_named(g, "lm_head").weight_format.name == "bf16");
  CHECK(op_named(g, "embedding").weight_format.name == "bf16");
  // The model's weights: every expert matrix (24 layers x 32 x 24,883,200 values) at 17/32 bytes
  // a value instead of 2.
  const ParamCounts c = m.param_counts();
  CHECK(c.mlp == 24ull * 32 * 24883200);
  RunSpec bf16 = prefill(1, 512);
  bf16.checkpoint_weights = false;  // --weight-dtype bf16
  const StepGraph plain = build_step_graph(m, bf16);
  CHECK(g.weight_bytes() == plain.weight_bytes() - c.mlp * 2 + c.mlp / 32 * 17);
  CHECK(op_named(plain, "layer0.mlp.experts").weight_bytes == 32ull * (24883200 * 2 + 17280));
  CHECK(op_named(plain, "layer0.mlp.experts").weight_format.name == "bf16");
  // Parameters stay counted in values.
  CHECK(g.model.params() == plain.model.params());
}

TEST_CASE("GPTQ/AWQ int4 with group 128, and modules_to_not_convert", "[workloads][weight_format]") {
  const ModelConfig sym = parse_hf_config(tiny_llama(R"({"quant_method": "gptq", "bits": 4, "group_size": 128,
                                                           "sym": true, "desc_act": false})"),
                                          "gptq.json");
  CHECK(sym.quantization.format.name == "int4-g128");
  const StepGraph g = build_step_graph(sym, decode(1, 16));
  // gate_up: 256 x 1024 values at 4 bits + (256 / 128) x 1024 groups x 16-bit scales.
  CHECK(op_named(g, "layer0.mlp.gate_up").weight_bytes == 131072 + 2048 * 2);
  // attention converted too: 256 x 768 -> 98,304 + 1,536 scales x 2 bytes.
  CHECK(op_named(g, "layer0.attn.qkv").weight_bytes == 98304 + 3072);
  CHECK(op_named(g, "lm_head").weight_bytes == 1000 * 256 * 2);  // never converted
  // Weight-only: the matrix unit multiplies bf16.
  CHECK(op_named(g, "layer0.mlp.gate_up").weight_format.compute_dtype == isa::DType::bf16);

  // Asymmetric (sym: false, AWQ's default zero_point): a 4-bit zero point per group as well.
  const ModelConfig asym = parse_hf_config(
      tiny_llama(R"({"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": true, "version": "gemm",
                     "modules_to_not_convert": ["model.layers.*.self_attn"]})"),
      "awq.json");
  const StepGraph a = build_step_graph(asym, decode(1, 16));
  CHECK(op_named(a, "layer0.mlp.gate_up").weight_bytes == 131072 + 2048 * 20 / 8);
  CHECK(op_named(a, "layer0.attn.qkv").weight_bytes == 256 * 768 * 2);  // left in bf16
  CHECK(op_named(a, "layer0.attn.qkv").weight_format.name == "bf16");
}

TEST_CASE("GPTQ int4 per output channel (group_size -1): one scale per column", "[workloads][weight_format]") {
  const ModelConfig m = parse_hf_config(tiny_llama(R"({"quant_method": "gptq", "bits": 4, "group_size": -1,
                                                         "sym": true})"),
                                        "gptq-channel.json");
  CHECK(m.quantization.format.name == "int4-channel");
  CHECK(m.quantization.format.per_output_channel);
  CHECK(m.quantization.format.bits_per_value() == 4);
  const StepGraph g = build_step_graph(m, decode(1, 16));
  // gate_up: 256 x 1024 values at 4 bits + 1024 columns x a 16-bit scale, whatever K.
  CHECK(op_named(g, "layer0.mlp.gate_up").weight_bytes == 131072 + 1024 * 2);
  // qkv: 256 x 768 -> 98,304 + 768 scales x 2 bytes.
  CHECK(op_named(g, "layer0.attn.qkv").weight_bytes == 98304 + 768 * 2);
  CHECK(op_named(g, "layer0.mlp.gate_up").weight_format.compute_dtype == isa::DType::bf16);
  // A tile of the matrix carries its own columns' scales: 128 x 64 values of 4 bits + 64 scales.
  CHECK(m.quantization.format.bytes(128, 64) == 128 * 64 / 2 + 64 * 2);
  // Asymmetric (sym: false): a 4-bit zero point per column too.
  const ModelConfig asym = parse_hf_config(tiny_llama(R"({"quant_method": "gptq", "bits": 4, "group_size": -1,
                                                            "sym": false})"),
                                           "gptq-channel.json");
  CHECK(asym.quantization.format.name == "int4-channel-zp");
  CHECK(asym.quantization.format.bytes(256, 1024) == 131072 + 1024 * 20 / 8);
}

TEST_CASE("compressed-tensors: W4A16, W4A8 and fp8 W8A8 schemes", "[workloads][weight_format]") {
  // llm-compressor's W4A16: int4 per group of 128, symmetric, weight-only, the head left alone.
  const std::string w4a16 = R"({"quant_method": "compressed-tensors", "format": "pack-quantized",
      "config_groups": {"group_0": {"targets": ["Linear"], "input_activations": null,
          "weights": {"num_bits": 4, "type": "int", "symmetric": true, "strategy": "group", "group_size": 128}}},
      "ignore": ["lm_head"], "quantization_status": "compressed"})";
  const ModelConfig a16 = parse_hf_config(tiny_llama(w4a16), "w4a16.json");
  CHECK(a16.quantization.format.name == "int4-g128");
  const StepGraph g = build_step_graph(a16, decode(1, 16));
  CHECK(op_named(g, "layer0.mlp.gate_up").weight_bytes == 131072 + 2048 * 2);  // as GPTQ's
  CHECK(op_named(g, "layer0.mlp.gate_up").weight_format.compute_dtype == isa::DType::bf16);
  CHECK(op_named(g, "lm_head").weight_format.name == "bf16");  // ignored
  // W4A8: the same weights, int8 activations per token: multiplied in int8.
  const std::string w4a8 = R"({"quant_method": "compressed-tensors",
      "config_groups": {"group_0": {"targets": ["Linear"],
          "weights": {"num_bits": 4, "type": "int", "symmetric": true, "strategy": "group", "group_size": 128},
          "input_activations": {"num_bits": 8, "type": "int", "strategy": "token", "dynamic": true}}},
      "ignore": ["lm_head"]})";
  const ModelConfig a8 = parse_hf_config(tiny_llama(w4a8), "w4a8.json");
  CHECK(a8.quantization.format.name == "int4-g128-a8");
  CHECK(a8.quantization.format.compute_dtype == isa::DType::int8);
  CHECK(build_step_graph(a8, decode(1, 16)).weight_bytes() == g.weight_bytes());
  // fp8 W8A8 per channel (llm-compressor's FP8_DYNAMIC), asymmetric int W8A16 per channel, and the
  // head converted too when nothing ignores it.
  const std::string fp8 = R"({"quant_method": "compressed-tensors",
      "config_groups": {"group_0": {"targets": ["Linear"],
          "weights": {"num_bits": 8, "type": "float", "strategy": "channel", "symmetric": true},
          "input_activations": {"num_bits": 8, "type": "float", "strategy": "token", "dynamic": true}}}})";
  const ModelConfig f8 = parse_hf_config(tiny_llama(fp8), "fp8.json");
  CHECK(f8.quantization.format.name == "fp8-channel-afp8");
  CHECK(f8.quantization.format.compute_dtype == isa::DType::fp8);
  const StepGraph gf = build_step_graph(f8, decode(1, 16));
  CHECK(op_named(gf, "layer0.mlp.gate_up").weight_bytes == 256 * 1024 + 1024 * 2);
  CHECK(op_named(gf, "lm_head").weight_format.name == "fp8-channel-afp8");
  CHECK(op_named(gf, "lm_head").weight_bytes == 256 * 1000 + 1000 * 2);

  // Refused by name: a quantized KV cache from the checkpoint, block and token weight strategies,
  // other widths, differing schemes, targets other than Linear.
  const auto with = [](const std::string& weights, const std::string& extra = "") {
    return tiny_llama(R"({"quant_method": "compressed-tensors", "config_groups": {"group_0": {"targets": ["Linear"],
        "weights": )" + weights + "}}" + extra + "}");
  };
  const std::string int4 = R"({"num_bits": 4, "type": "int", "strategy": "group", "group_size": 128})";
  CHECK_THAT(error_of([&] { parse_hf_config(with(int4, R"(, "kv_cache_scheme": {"num_bits": 8, "type": "float"})"), "q.json"); }),
             Contains("quantization_config.kv_cache_scheme") && Contains("--kv-dtype"));
  CHECK_THAT(error_of([&] { parse_hf_config(with(R"({"num_bits": 8, "type": "float", "strategy": "block"})"), "q.json"); }),
             Contains("weights.strategy: 'block' is not modelled"));
  CHECK_THAT(error_of([&] { parse_hf_config(with(R"({"num_bits": 3, "type": "int", "strategy": "channel"})"), "q.json"); }),
             Contains("weights.num_bits: 3-bit int weights are not modelled"));
  CHECK_THAT(error_of([&] {
               parse_hf_config(tiny_llama(R"({"quant_method": "compressed-tensors", "config_groups": {
                   "group_0": {"targets": ["Linear"], "weights": {"num_bits": 4, "type": "int", "strategy": "channel"}},
                   "group_1": {"targets": ["Linear"], "weights": {"num_bits": 8, "type": "int", "strategy": "channel"}}}})"),
                               "q.json");
             }),
             Contains("schemes that differ between groups are not modelled"));
  CHECK_THAT(error_of([&] {
               parse_hf_config(tiny_llama(R"({"quant_method": "compressed-tensors", "config_groups": {
                   "group_0": {"targets": ["re:.*mlp.*"], "weights": {"num_bits": 4, "type": "int", "strategy": "channel"}}}})"),
                               "q.json");
             }),
             Contains("targets: only [\"Linear\"]"));
  // ignore's patterns: "re:.*mlp.gate$" names the router (a tiny MoE is not needed to parse it).
  CHECK(parse_hf_config(with(int4, R"(, "ignore": ["lm_head", "re:.*mlp.gate$"])"), "q.json")
            .quantization.converts(WeightModule::router) == false);
  CHECK_THAT(error_of([&] { parse_hf_config(with(int4, R"(, "ignore": ["re:.*q_proj"])"), "q.json"); }),
             Contains("quantization_config.ignore: 're:.*q_proj' names no whole part"));
}

TEST_CASE("block-scaled fp8: DeepSeek-V3's 128 x 128 blocks of fp32 scales", "[workloads][weight_format][frontier]") {
  const ModelConfig m = load_model("deepseek-v3");
  REQUIRE(m.quantization.method == "fp8");
  CHECK(m.quantization.format.bits_per_value() == 8.001953125);
  const StepGraph g = build_step_graph(m, decode(1, 64));
  // q_a: 7168 x 1536 = 11,010,048 values + 56 x 12 blocks x 4 bytes.
  CHECK(op_named(g, "layer0.attn.q_a").weight_bytes == 11010048 + 2688);
  CHECK(op_named(g, "layer0.attn.q_a").weight_format.compute_dtype == isa::DType::fp8);
  CHECK(op_named(g, "layer3.mlp.router").weight_format.name == "bf16");  // DeepSeek's gate is no linear (layers 0-2 dense)
  CHECK(op_named(g, "layer3.mlp.experts").weight_format.name == "fp8-block128x128");
  CHECK(op_named(g, "lm_head").weight_format.name == "bf16");
}

TEST_CASE("quantization_config: unknown methods and unmodelled variants are refused by name", "[workloads][weight_format]") {
  CHECK_THAT(error_of([] { parse_hf_config(tiny_llama(R"({"quant_method": "bitsandbytes"})"), "q.json"); }),
             Contains("quantization_config.quant_method: 'bitsandbytes' is not modelled") && Contains("q.json"));
  CHECK_THAT(error_of([] { parse_hf_config(tiny_llama(R"({"bits": 4})"), "q.json"); }),
             Contains("quantization_config.quant_method"));
  CHECK_THAT(error_of([] { parse_hf_config(tiny_llama(R"({"quant_method": "gptq", "bits": 3, "group_size": 128})"), "q.json"); }),
             Contains("quantization_config.bits: 3-bit gptq weights are not modelled"));
  CHECK_THAT(error_of([] { parse_hf_config(tiny_llama(R"({"quant_method": "gptq", "group_size": 128})"), "q.json"); }),
             Contains("missing required field 'quantization_config.bits'"));
  CHECK_THAT(error_of([] { parse_hf_config(tiny_llama(R"({"quant_method": "gptq", "bits": 4, "group_size": 0})"), "q.json"); }),
             Contains("quantization_config.group_size: 0 is not a group size"));
  CHECK_THAT(error_of([] { parse_hf_config(tiny_llama(R"({"quant_method": "gptq", "bits": 4, "group_size": -2})"), "q.json"); }),
             Contains("quantization_config.group_size"));
  CHECK_THAT(error_of([] {
               parse_hf_config(tiny_llama(R"({"quant_method": "mxfp4", "modules_to_not_convert": ["model.layers.3.mlp"]})"),
                               "q.json");
             }),
             Contains("quantization_config.modules_to_not_convert: 'model.layers.3.mlp'"));
  CHECK_THAT(error_of([] { parse_hf_config(tiny_llama(R"({"quant_method": "fp8", "weight_block_size": [128]})"), "q.json"); }),
             Contains("quantization_config.weight_block_size"));
  // Fields that change neither bytes nor compute are accepted.
  CHECK(parse_hf_config(tiny_llama(R"({"quant_method": "fp8", "activation_scheme": "dynamic", "fmt": "e4m3",
                                       "weight_block_size": [128, 128]})"),
                        "q.json")
            .quantization.format.name == "fp8-block128x128");
}

TEST_CASE("fp4 has a rate where the arch gives one, elsewhere MXFP4 weights are dequantized to bf16",
          "[workloads][weight_format][matrix]") {
  MatrixUnitConfig mx;
  mx.rows = mx.cols = 64;
  CHECK(mx.macs_per_pe_per_cycle[static_cast<int>(isa::DType::fp4)] == 0);  // absent by default
  CHECK(matmul_dtype(mx, isa::DType::fp4) == isa::DType::bf16);            // the widest with a rate
  CHECK(matmul_dtype(mx, isa::DType::fp8) == isa::DType::fp8);
  CHECK_THAT(error_of([&] { timing::matmul_cycles(mx, isa::DType::fp4, 64, 64, 64); }), Contains("fp4"));
  mx.macs_per_pe_per_cycle[static_cast<int>(isa::DType::fp4)] = 4;
  CHECK(matmul_dtype(mx, isa::DType::fp4) == isa::DType::fp4);
  CHECK(timing::peak_macs_per_cycle(mx, isa::DType::fp4) == 64ull * 64 * 4);
  mx.macs_per_pe_per_cycle[static_cast<int>(isa::DType::fp8)] = 0;
  CHECK(matmul_dtype(mx, isa::DType::fp8) == isa::DType::bf16);
}

TEST_CASE("MXFP4 experts: the DMA moves 4.25 bits per value and the matmuls run at the arch's dtype",
          "[workloads][weight_format][lowering]") {
  const ModelConfig m = load_model(std::string(TASIM_SOURCE_DIR) + "/tests/data/frontier/tiny-gpt-oss.json");
  RunSpec spec = decode(8, 100);
  spec.expert_load.assign(8, 1.0);  // 32 token-expert pairs, 4 per expert: every expert read
  const StepGraph g = build_step_graph(m, spec);
  std::size_t index = 0;
  while (g.ops[index].name != "layer0.mlp.experts") ++index;
  const Op& experts = g.ops[index];
  for (const bool fp4_rate : {false, true}) {
    ChipConfig chip = tasim::testing::two_core_chip(16ull << 30);
    if (fp4_rate) chip.core.matrix.macs_per_pe_per_cycle[static_cast<int>(isa::DType::fp4)] = 4;
    const lowering::HbmLayout layout(g, chip, "t");
    const std::uint64_t w0 = layout.weights(index), w1 = w0 + experts.weight_bytes;
    const isa::Program p = lower_step(g, chip);
    std::uint64_t weight_load_bytes = 0;
    int matmuls = 0, fp4_matmuls = 0;
    for (const isa::Instruction& inst : p.instructions) {
      if (inst.tag == 0 || p.tags[inst.tag - 1] != "layer0.mlp.experts") continue;
      if (inst.op == isa::Opcode::dma_load && inst.get(isa::Field::hbm_addr) >= w0 && inst.get(isa::Field::hbm_addr) < w1) {
        weight_load_bytes += inst.get(isa::Field::rows) * inst.get(isa::Field::row_bytes);
      }
      if (inst.op == isa::Opcode::matmul) {
        ++matmuls;
        if (inst.get(isa::Field::dtype) == static_cast<std::uint64_t>(isa::DType::fp4)) ++fp4_matmuls;
      }
    }
    INFO("fp4 rate: " << fp4_rate);
    // 8 experts x (512 x 1024 + 512 x 512 values) x 4.25 / 8 bytes: every tile holds whole groups of 32.
    CHECK(weight_load_bytes == 8ull * 786432 * 17 / 32);
    CHECK(matmuls > 0);
    CHECK(fp4_matmuls == (fp4_rate ? matmuls : 0));
  }
}
