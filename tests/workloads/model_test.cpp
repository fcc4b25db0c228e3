#include <catch2/catch.hpp>

#include "error_of.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include <unistd.h>

#include "common/error.h"
#include "workloads/model.h"

using namespace tasim::workloads;
using Catch::Matchers::Contains;

namespace {

const std::string kSourceDir = TASIM_SOURCE_DIR;

// A scratch path of this process (test processes may run in parallel).
std::filesystem::path scratch(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("tasim_model_test_" + std::to_string(::getpid()) + "_" + name);
}

// A minimal llama config.json with `extra` fields spliced in (each ending with a comma).
std::string llama_json(const std::string& extra = "", const std::string& model_type = "llama") {
  return "{\n"
         "  \"model_type\": \"" + model_type + "\",\n" + extra +
         "  \"hidden_size\": 512,\n"
         "  \"intermediate_size\": 1536,\n"
         "  \"num_attention_heads\": 8,\n"
         "  \"num_hidden_layers\": 4,\n"
         "  \"vocab_size\": 1000,\n"
         "  \"max_position_embeddings\": 4096\n"
         "}\n";
}

const char* const kMinimalYaml =
    "hidden_size: 512\n"
    "intermediate_size: 1536\n"
    "num_layers: 4\n"
    "num_heads: 8\n"
    "vocab_size: 1000\n"
    "max_position_embeddings: 4096\n";

using tasim::testing::error_of;

}  // namespace

// ---- shipped models -----------------------------------------------------------------------

TEST_CASE("every shipped model has its published parameter count", "[workloads][model]") {
  // Published counts (model cards / safetensors totals); gpt-style-1b is our example, counted by hand.
  const std::map<std::string, std::uint64_t> expected = {
      {"llama-3-8b", 8'030'261'248ull},   {"llama-3-70b", 70'553'706'496ull}, {"mixtral-8x7b", 46'702'792'704ull},
      {"qwen2-7b", 7'615'616'512ull},     {"qwen3-8b", 8'190'735'360ull},     {"mistral-7b", 7'241'732'096ull},
      {"gpt-style-1b", 1'311'625'216ull},
      // Frontier families, hand-counted (frontier_models_test.cpp, docs/models.md).
      {"deepseek-v3", 671'026'419'200ull}, {"gpt-oss-120b", 116'829'156'672ull}, {"gpt-oss-20b", 20'914'757'184ull},
      {"qwen3-moe", 235'093'634'560ull},   {"llama-4-scout", 107'769'861'120ull},
      {"llama-4-maverick", 400'711'848'960ull}, {"kimi-k2", 1'026'408'232'448ull}, {"gemma-3-27b", 27'009'346'304ull},
      // The video DiT, hand-counted from WanModel (dit_test.cpp); published "14B".
      {"wan2.1-t2v-14b", 14'288'491'584ull},
  };
  const std::vector<std::string> names = model_names();
  REQUIRE(names.size() == expected.size());
  for (const auto& name : names) {
    INFO(name);
    REQUIRE(expected.count(name) == 1);
    const ModelConfig m = load_model(name);
    CHECK(m.name == name);
    CHECK(m.params() == expected.at(name));
    CHECK(m.param_counts().total() == m.params());
  }
}

TEST_CASE("model_names lists configs/models by file stem, sorted", "[workloads][model]") {
  std::vector<std::string> stems;
  for (const auto& entry : std::filesystem::directory_iterator(kSourceDir + "/configs/models")) {
    const auto ext = entry.path().extension();
    if (ext == ".json" || ext == ".yaml") stems.push_back(entry.path().stem().string());
  }
  std::sort(stems.begin(), stems.end());
  CHECK(model_names() == stems);
}

TEST_CASE("load_model accepts a shipped name, a file path or a snapshot directory", "[workloads][model]") {
  const ModelConfig by_name = load_model("qwen3-8b");
  const ModelConfig by_path = load_model(kSourceDir + "/configs/models/qwen3-8b.json");
  CHECK(by_path.name == "qwen3-8b");
  CHECK(by_path.params() == by_name.params());
  CHECK(load_model(kSourceDir + "/configs/models/gpt-style-1b.yaml").params() == 1'311'625'216ull);

  // A Hugging Face snapshot: dir/config.json, named after the directory.
  const auto dir = scratch("snapshot") / "Tiny-Llama";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json") << llama_json();
  CHECK(load_model(dir.string()).name == "Tiny-Llama");
  CHECK(load_model((dir / "config.json").string()).name == "Tiny-Llama");
  std::filesystem::remove_all(dir.parent_path());
}

TEST_CASE("parameter breakdown of the shipped models", "[workloads][model]") {
  SECTION("llama-3-8b: untied, no biases") {
    const ParamCounts c = load_model("llama-3-8b").param_counts();
    CHECK(c.embedding == 128256ull * 4096);
    CHECK(c.lm_head == c.embedding);
    CHECK(c.attention == 32ull * (4096ull * (4096 + 2 * 1024) + 4096ull * 4096));
    CHECK(c.mlp == 32ull * 3 * 4096 * 14336);
    CHECK(c.norms == (2 * 32 + 1) * 4096ull);
    CHECK(c.biases == 0);
    CHECK(c.router == 0);
  }
  SECTION("mixtral-8x7b: router and active parameters") {
    const ModelConfig m = load_model("mixtral-8x7b");
    CHECK(m.is_moe());
    CHECK(m.param_counts().router == 32ull * 4096 * 8);
    CHECK(m.param_counts().mlp == 32ull * 8 * 3 * 4096 * 14336);
    // Every token reads 2 of the 8 experts: the published "12.9B active".
    CHECK(m.active_params_per_token() == 46'702'792'704ull - 32ull * 6 * 3 * 4096 * 14336);
    CHECK(m.active_params_per_token() == 12'879'925'248ull);
  }
  SECTION("dense models read every parameter") {
    const ModelConfig m = load_model("llama-3-70b");
    CHECK(m.active_params_per_token() == m.params());
  }
  SECTION("qwen2-7b: q, k, v biases, no o bias") {
    const ModelConfig m = load_model("qwen2-7b");
    CHECK(m.param_counts().biases == 28ull * (28 + 2 * 4) * 128);
  }
  SECTION("qwen3-8b: q and k norms of head_dim each") {
    const ModelConfig m = load_model("qwen3-8b");
    CHECK(m.param_counts().norms == (2 * 36 + 1) * 4096ull + 36ull * 2 * 128);
  }
  SECTION("gpt-style-1b: tied, LayerNorm gamma and beta, biases everywhere") {
    const ParamCounts c = load_model("gpt-style-1b").param_counts();
    CHECK(c.lm_head == 0);
    CHECK(c.norms == (2 * 24 + 1) * 2 * 2048ull);
    CHECK(c.biases == 24ull * (3 * 2048 + 2048 + 8192 + 2048));
    CHECK(c.mlp == 24ull * 2 * 2048 * 8192);
  }
}

// ---- Hugging Face config.json -------------------------------------------------------------

TEST_CASE("HF shipped configs are read field by field", "[workloads][model][hf]") {
  const ModelConfig llama = load_model("llama-3-8b");
  CHECK(llama.model_type == "llama");
  CHECK(llama.hidden_size == 4096);
  CHECK(llama.intermediate_size == 14336);
  CHECK(llama.num_layers == 32);
  CHECK(llama.num_heads == 32);
  CHECK(llama.num_kv_heads == 8);
  CHECK(llama.head_dim == 128);
  CHECK(llama.vocab_size == 128256);
  CHECK_FALSE(llama.tie_word_embeddings);
  CHECK_FALSE(llama.qkv_bias);
  CHECK_FALSE(llama.o_bias);
  CHECK_FALSE(llama.qk_norm);
  CHECK(llama.norm == NormKind::rmsnorm);
  CHECK(llama.mlp == MlpKind::swiglu);
  CHECK(llama.rope_theta == 500000.0);
  CHECK(llama.rope_scaling == "");  // "rope_scaling": null
  CHECK(llama.max_position_embeddings == 8192);
  CHECK_FALSE(llama.is_moe());

  const ModelConfig mixtral = load_model("mixtral-8x7b");
  CHECK(mixtral.num_experts == 8);
  CHECK(mixtral.experts_per_token == 2);
  CHECK(mixtral.rope_theta == 1e6);
  CHECK(mixtral.max_position_embeddings == 32768);

  const ModelConfig qwen2 = load_model("qwen2-7b");
  CHECK(qwen2.qkv_bias);
  CHECK_FALSE(qwen2.o_bias);
  CHECK(qwen2.num_kv_heads == 4);
  CHECK(qwen2.head_dim == 128);

  const ModelConfig qwen3 = load_model("qwen3-8b");
  CHECK(qwen3.qk_norm);
  CHECK_FALSE(qwen3.qkv_bias);
  CHECK(qwen3.head_dim == 128);
  CHECK(qwen3.rope_theta == 1e6);  // written as the integer 1000000

  CHECK(load_model("mistral-7b").model_type == "mistral");
}

TEST_CASE("HF optional fields and their defaults", "[workloads][model][hf]") {
  SECTION("defaults: kv heads = heads, head_dim = hidden / heads, untied, no biases") {
    const ModelConfig m = parse_hf_config(llama_json(), "tiny.json");
    CHECK(m.name == "tiny");
    CHECK(m.num_kv_heads == 8);
    CHECK(m.head_dim == 64);
    CHECK_FALSE(m.tie_word_embeddings);
    CHECK_FALSE(m.qkv_bias);
    CHECK(m.rope_theta == 10000.0);
    CHECK(m.mlp == MlpKind::swiglu);  // hidden_act defaults to silu
  }
  SECTION("explicit head_dim, kv heads, tied embeddings") {
    const ModelConfig m = parse_hf_config(
        llama_json("  \"head_dim\": 128,\n  \"num_key_value_heads\": 2,\n  \"tie_word_embeddings\": true,\n"),
        "tiny.json");
    CHECK(m.head_dim == 128);
    CHECK(m.num_kv_heads == 2);
    CHECK(m.tie_word_embeddings);
    CHECK(m.param_counts().lm_head == 0);
  }
  SECTION("null optional fields count as absent; floats like 1e-05 parse") {
    const ModelConfig m = parse_hf_config(
        llama_json("  \"head_dim\": null,\n  \"rope_scaling\": null,\n  \"rms_norm_eps\": 1e-05,\n"
                   "  \"rope_theta\": 5e5,\n  \"eos_token_id\": [1, 2],\n  \"sliding_window\": null,\n"),
        "tiny.json");
    CHECK(m.head_dim == 64);
    CHECK(m.rope_theta == 500000.0);
    CHECK(m.rope_scaling == "");
  }
  SECTION("rope_scaling type: rope_type or type") {
    CHECK(parse_hf_config(llama_json("  \"rope_scaling\": {\"factor\": 8.0, \"rope_type\": \"llama3\"},\n"), "t.json")
              .rope_scaling == "llama3");
    CHECK(parse_hf_config(llama_json("  \"rope_scaling\": {\"factor\": 4.0, \"type\": \"yarn\"},\n"), "t.json")
              .rope_scaling == "yarn");
  }
  SECTION("llama attention_bias: biases on q, k, v and o; mlp_bias") {
    const ModelConfig m =
        parse_hf_config(llama_json("  \"attention_bias\": true,\n  \"mlp_bias\": true,\n"), "t.json");
    CHECK(m.qkv_bias);
    CHECK(m.o_bias);
    CHECK(m.mlp_bias);
    CHECK(m.param_counts().biases == 4ull * ((8 * 64 + 2 * 8 * 64) + 512 + (2 * 1536 + 512)));
  }
  SECTION("qwen2: q, k, v biases always, no o bias") {
    const ModelConfig m = parse_hf_config(llama_json("", "qwen2"), "t.json");
    CHECK(m.qkv_bias);
    CHECK_FALSE(m.o_bias);
    CHECK_FALSE(m.qk_norm);
  }
  SECTION("qwen2 small models tie their embeddings: Qwen2-0.5B") {
    const ModelConfig m = parse_hf_config(
        R"({"model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864, "num_attention_heads": 14,
            "num_key_value_heads": 2, "num_hidden_layers": 24, "vocab_size": 151936,
            "max_position_embeddings": 32768, "tie_word_embeddings": true, "hidden_act": "silu"})",
        "Qwen2-0.5B/config.json");
    CHECK(m.name == "Qwen2-0.5B");
    CHECK(m.params() == 494'032'768ull);  // published
  }
  SECTION("qwen3: q/k norm; attention_bias; head_dim defaults to 128 as in transformers") {
    const ModelConfig m = parse_hf_config(llama_json("  \"attention_bias\": true,\n", "qwen3"), "t.json");
    CHECK(m.qk_norm);
    CHECK(m.qkv_bias);
    CHECK(m.o_bias);
    CHECK(m.head_dim == 128);
  }
  SECTION("mistral and mixtral have no biases") {
    CHECK_FALSE(parse_hf_config(llama_json("  \"attention_bias\": true,\n", "mistral"), "t.json").qkv_bias);
    const ModelConfig m = parse_hf_config(
        llama_json("  \"num_local_experts\": 4,\n  \"num_experts_per_tok\": 1,\n", "mixtral"), "t.json");
    CHECK(m.num_experts == 4);
    CHECK(m.experts_per_token == 1);
    CHECK_FALSE(m.qkv_bias);
  }
  SECTION("hidden_act: silu -> swiglu, gelu variants -> gelu") {
    CHECK(parse_hf_config(llama_json("  \"hidden_act\": \"silu\",\n"), "t.json").mlp == MlpKind::swiglu);
    CHECK(parse_hf_config(llama_json("  \"hidden_act\": \"gelu\",\n"), "t.json").mlp == MlpKind::gelu);
    CHECK(parse_hf_config(llama_json("  \"hidden_act\": \"gelu_pytorch_tanh\",\n"), "t.json").mlp ==
          MlpKind::gelu);
    CHECK_THAT(error_of([] { parse_hf_config(llama_json("  \"hidden_act\": \"relu\",\n"), "t.json"); }),
               Contains("hidden_act") && Contains("relu"));
  }
  SECTION("tabs and unknown fields are fine") {
    const ModelConfig m = parse_hf_config(
        "{\n\t\"model_type\": \"mistral\",\n\t\"hidden_size\": 256,\n\t\"intermediate_size\": 512,\n"
        "\t\"num_attention_heads\": 4,\n\t\"num_hidden_layers\": 2,\n\t\"vocab_size\": 100,\n"
        "\t\"max_position_embeddings\": 128,\n\t\"some_future_field\": {\"a\": [1, 2.5e-3]}\n}",
        "t.json");
    CHECK(m.head_dim == 64);
  }
}

TEST_CASE("HF config errors name the file and the field", "[workloads][model][hf][errors]") {
  SECTION("unsupported model_type names it and the supported ones") {
    const std::string e = error_of([] { parse_hf_config(llama_json("", "gpt2"), "gpt2/config.json"); });
    CHECK_THAT(e, Contains("gpt2/config.json:2:") && Contains("'gpt2'") && Contains("llama") &&
                      Contains("mistral") && Contains("mixtral") && Contains("qwen2") && Contains("qwen3"));
  }
  SECTION("missing required fields") {
    CHECK_THAT(error_of([] { parse_hf_config(R"({"hidden_size": 8})", "c.json"); }),
               Contains("c.json") && Contains("missing required field 'model_type'"));
    for (const std::string field : {"hidden_size", "intermediate_size", "num_attention_heads", "num_hidden_layers",
                                    "vocab_size", "max_position_embeddings"}) {
      std::string json = llama_json();
      const auto at = json.find("\"" + field + "\"");
      const auto end = json.find('\n', at);
      json.erase(at, end - at + 1);
      if (field == "max_position_embeddings") json.replace(json.rfind(','), 1, "");
      INFO(json);
      CHECK_THAT(error_of([&] { parse_hf_config(json, "c.json"); }),
                 Contains("c.json: missing required field '" + field + "'"));
    }
    CHECK_THAT(error_of([] { parse_hf_config(llama_json("", "mixtral"), "c.json"); }),
               Contains("missing required field 'num_local_experts'"));
  }
  SECTION("malformed JSON reports the line") {
    const std::string e = error_of([] { parse_hf_config("{\n  \"model_type\": \"llama\",\n  \"hidden_size\": 4\n", "c.json"); });
    CHECK_THAT(e, Contains("c.json:4:") && Contains("malformed JSON"));
  }
  SECTION("wrong types and ranges") {
    CHECK_THAT(error_of([] { parse_hf_config(llama_json("  \"num_key_value_heads\": \"eight\",\n"), "c.json"); }),
               Contains("c.json:3:") && Contains("num_key_value_heads") && Contains("integer"));
    CHECK_THAT(error_of([] { parse_hf_config(llama_json("  \"num_key_value_heads\": 3,\n"), "c.json"); }),
               Contains("num_key_value_heads") && Contains("does not divide"));
    CHECK_THAT(error_of([] { parse_hf_config(llama_json("  \"tie_word_embeddings\": 7,\n"), "c.json"); }),
               Contains("tie_word_embeddings") && Contains("true or false"));
    CHECK_THAT(error_of([] { parse_hf_config(llama_json("  \"head_dim\": 0,\n"), "c.json"); }),
               Contains("head_dim") && Contains("out of range"));
    CHECK_THAT(error_of([] { parse_hf_config(llama_json("  \"rope_theta\": -1,\n"), "c.json"); }),
               Contains("rope_theta"));
    CHECK_THAT(error_of([] {
                 parse_hf_config(llama_json("  \"num_local_experts\": 2,\n  \"num_experts_per_tok\": 3,\n", "mixtral"),
                                 "c.json");
               }),
               Contains("num_experts_per_tok") && Contains("exceeds"));
    CHECK_THAT(error_of([] { parse_hf_config("[1, 2]", "c.json"); }), Contains("expected a mapping"));
  }
}

// ---- our YAML schema ------------------------------------------------------------------------

TEST_CASE("YAML model schema: every key is read", "[workloads][model][yaml]") {
  const ModelConfig m = parse_model_yaml(
      "description: test model\n"
      "hidden_size: 512\n"
      "intermediate_size: 1536\n"
      "num_layers: 4\n"
      "num_heads: 8\n"
      "num_kv_heads: 2\n"
      "head_dim: 96\n"
      "vocab_size: 1000\n"
      "tie_word_embeddings: true\n"
      "qkv_bias: true\n"
      "o_bias: true\n"
      "mlp_bias: true\n"
      "qk_norm: true\n"
      "num_experts: 4\n"
      "experts_per_token: 2\n"
      "norm: layernorm\n"
      "mlp: gelu\n"
      "rope_theta: 1.0e6\n"
      "max_position_embeddings: 4096\n",
      "configs/models/test-moe.yaml");
  CHECK(m.name == "test-moe");
  CHECK(m.model_type == "custom");
  CHECK(m.description == "test model");
  CHECK(m.hidden_size == 512);
  CHECK(m.intermediate_size == 1536);
  CHECK(m.num_layers == 4);
  CHECK(m.num_heads == 8);
  CHECK(m.num_kv_heads == 2);
  CHECK(m.head_dim == 96);
  CHECK(m.vocab_size == 1000);
  CHECK(m.tie_word_embeddings);
  CHECK(m.qkv_bias);
  CHECK(m.o_bias);
  CHECK(m.mlp_bias);
  CHECK(m.qk_norm);
  CHECK(m.num_experts == 4);
  CHECK(m.experts_per_token == 2);
  CHECK(m.norm == NormKind::layernorm);
  CHECK(m.mlp == MlpKind::gelu);
  CHECK(m.rope_theta == 1e6);
  CHECK(m.max_position_embeddings == 4096);
  // By hand: attention 512 x (768 + 2 x 192) + 768 x 512; 4 GELU experts of 2 x 512 x 1536; router;
  // biases (qkv, o, 4 experts' up and down); LayerNorms (gamma and beta) incl. q/k norms; tied.
  const std::uint64_t per_layer = 512 * (768 + 384) + 768 * 512 + 4 * 2 * 512 * 1536 + 512 * 4 +
                                  (768 + 384) + 512 + 4 * (1536 + 512) + 2 * 2 * 512 + 2 * 2 * 96;
  CHECK(m.params() == 4 * per_layer + 1000 * 512 + 2 * 512);
  CHECK(m.active_params_per_token() == m.params() - 4 * 2 * (2 * 512 * 1536 + 1536 + 512));
}

TEST_CASE("YAML model schema: defaults", "[workloads][model][yaml]") {
  const ModelConfig m = parse_model_yaml(kMinimalYaml, "tiny.yaml");
  CHECK(m.num_kv_heads == 8);
  CHECK(m.head_dim == 64);
  CHECK_FALSE(m.tie_word_embeddings);
  CHECK_FALSE(m.qkv_bias);
  CHECK_FALSE(m.is_moe());
  CHECK(m.norm == NormKind::rmsnorm);
  CHECK(m.mlp == MlpKind::swiglu);
  CHECK(m.rope_theta == 10000.0);
  CHECK(m.description == "");
}

TEST_CASE("YAML model errors", "[workloads][model][yaml][errors]") {
  const std::string base = kMinimalYaml;
  SECTION("unknown key with the closest valid key") {
    CHECK_THAT(error_of([&] { parse_model_yaml(base + "num_kv_head: 2\n", "m.yaml"); }),
               Contains("m.yaml:7:1") && Contains("unknown key 'num_kv_head'") &&
                   Contains("did you mean 'num_kv_heads'?"));
    CHECK_THAT(error_of([&] { parse_model_yaml(base + "rope_tehta: 2\n", "m.yaml"); }),
               Contains("did you mean 'rope_theta'?"));
    CHECK_THAT(error_of([&] { parse_model_yaml(base + "banana: 2\n", "m.yaml"); }),
               Contains("unknown key 'banana'") && Contains("valid keys: "));
    // HF names are not ours: the hint points at our name.
    CHECK_THAT(error_of([&] { parse_model_yaml(base + "num_hidden_layers: 2\n", "m.yaml"); }),
               Contains("unknown key 'num_hidden_layers'"));
  }
  SECTION("missing, out of range, wrong type, bad choice, duplicate") {
    CHECK_THAT(error_of([] { parse_model_yaml("hidden_size: 512\n", "m.yaml"); }),
               Contains("m.yaml: missing required field 'intermediate_size'"));
    CHECK_THAT(error_of([&] { parse_model_yaml(base + "num_kv_heads: 0\n", "m.yaml"); }),
               Contains("m.yaml:7:") && Contains("num_kv_heads") && Contains("out of range"));
    CHECK_THAT(error_of([&] { parse_model_yaml(base + "num_kv_heads: 3\n", "m.yaml"); }),
               Contains("num_kv_heads") && Contains("does not divide"));
    CHECK_THAT(error_of([&] { parse_model_yaml(base + "num_experts: 4\nexperts_per_token: 5\n", "m.yaml"); }),
               Contains("experts_per_token") && Contains("out of range [1, 4]"));
    CHECK_THAT(error_of([&] { parse_model_yaml(base + "num_experts: 4\n", "m.yaml"); }),
               Contains("missing required field 'experts_per_token'"));
    CHECK_THAT(error_of([&] { parse_model_yaml(base + "experts_per_token: 2\n", "m.yaml"); }),
               Contains("experts_per_token") && Contains("dense"));
    CHECK_THAT(error_of([&] { parse_model_yaml(base + "head_dim: 64.5\n", "m.yaml"); }),
               Contains("head_dim") && Contains("expected an integer"));
    CHECK_THAT(error_of([&] { parse_model_yaml(base + "qk_norm: maybe\n", "m.yaml"); }),
               Contains("qk_norm") && Contains("true or false"));
    CHECK_THAT(error_of([&] { parse_model_yaml(base + "norm: rmsnrm\n", "m.yaml"); }),
               Contains("norm") && Contains("rmsnorm, layernorm") && Contains("did you mean 'rmsnorm'?"));
    CHECK_THAT(error_of([&] { parse_model_yaml(base + "mlp: relu\n", "m.yaml"); }), Contains("swiglu, gelu"));
    CHECK_THAT(error_of([&] { parse_model_yaml(base + "hidden_size: 256\n", "m.yaml"); }),
               Contains("duplicate key 'hidden_size'"));
    CHECK_THAT(error_of([&] { parse_model_yaml(base + "vocab_size: [1]\n", "m.yaml"); }),
               Contains("vocab_size"));
    CHECK_THAT(error_of([] { parse_model_yaml("hidden_size: [512\n", "m.yaml"); }), Contains("malformed YAML"));
    CHECK_THAT(error_of([] { parse_model_yaml("", "m.yaml"); }), Contains("m.yaml"));
  }
}

TEST_CASE("load_model errors", "[workloads][model][errors]") {
  CHECK_THAT(error_of([] { load_model("llama-3-8"); }),
             Contains("unknown model 'llama-3-8'") && Contains("did you mean 'llama-3-8b'?") &&
                 Contains("qwen3-8b"));
  CHECK_THAT(error_of([] { load_model("/nonexistent/model.json"); }), Contains("/nonexistent/model.json"));
  const auto path = scratch("model.txt");
  std::ofstream(path) << "hidden_size: 4\n";
  CHECK_THAT(error_of([&] { load_model(path.string()); }), Contains(".json") && Contains(".yaml"));
  std::filesystem::remove(path);
}

TEST_CASE("validate_model checks configs built in code", "[workloads][model][errors]") {
  ModelConfig m = parse_model_yaml(kMinimalYaml, "tiny.yaml");
  REQUIRE_NOTHROW(validate_model(m));
  m.num_kv_heads = 3;
  CHECK_THAT(error_of([&] { validate_model(m); }), Contains("model 'tiny'") && Contains("num_kv_heads"));
  m.num_kv_heads = 8;
  m.experts_per_token = 1;
  CHECK_THAT(error_of([&] { validate_model(m); }), Contains("experts_per_token"));
}

TEST_CASE("a key given twice and a number written as a string are refused", "[workloads][model][errors]") {
  // JSON readers disagree on which of two equal keys wins; tasim refuses to guess.
  CHECK_THAT(error_of([] { parse_hf_config(llama_json("  \"hidden_size\": 512,\n"), "c.json"); }),
             Contains("c.json:") && Contains("duplicate key 'hidden_size' (first given at line"));
  CHECK_THAT(error_of([] { parse_hf_config(llama_json("  \"rope_scaling\": {\"factor\": 8, \"factor\": 4},\n"), "c.json"); }),
             Contains("duplicate key 'factor'"));
  CHECK_THAT(error_of([] { parse_hf_config(llama_json("  \"num_key_value_heads\": \"8\",\n"), "c.json"); }),
             Contains("num_key_value_heads: expected an integer, got the string \"8\""));
  CHECK_THAT(error_of([] { parse_model_yaml("hidden_size: \"256\"\nintermediate_size: 512\nnum_layers: 2\nnum_heads: 4\n"
                                            "vocab_size: 1000\n", "m.yaml"); }),
             Contains("hidden_size: expected an integer, got the string \"256\""));
}
