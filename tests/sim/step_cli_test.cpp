// End-to-end: `tasim run` and `tasim compile` on models.
#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "cli_util.h"

using namespace tasim::testing;

TEST_CASE("tasim run with no arguments runs the default step and reports it", "[cli][step]") {
  const auto text = run_tasim("run");
  REQUIRE(text.exit_code == 0);
  for (const char* s : {"llama-3-8b", "decode batch 64, context 2048", "tokens/s", "MFU", "roofline", "attn.qkv",
                        "mlp.down", "lm_head"}) {
    CHECK_THAT(text.output, Catch::Contains(s));
  }
}

TEST_CASE("a model step's JSON has the step keys and respects the roofline", "[cli][step]") {
  const auto r = run_tasim("run --arch tpu-v4-like --model gpt-style-1b --batch 4 --context-len 256 --json -", true);
  REQUIRE(r.exit_code == 0);
  const YAML::Node j = YAML::Load(r.output);
  CHECK(j["params"].as<std::uint64_t>() == 1311625216ull);
  CHECK(j["weight_bytes"].as<std::uint64_t>() > 0);
  CHECK(j["tokens_per_second"].as<double>() > 0);
  const double sim = j["seconds"].as<double>();
  const double roof = j["roofline_seconds"].as<double>();
  CHECK(roof > 0);
  CHECK(sim >= roof);
  CHECK(j["sim_over_roofline"].as<double>() >= 1.0);
  CHECK(j["mfu"].as<double>() > 0);
  CHECK(j["mfu"].as<double>() <= 1.0);
  for (const auto& kv : j["utilization"]) {
    CHECK(kv.second.as<double>() >= 0.0);
    CHECK(kv.second.as<double>() <= 1.0);
  }
  double share = 0;
  for (const auto& op : j["ops"]) {
    share += op["share"].as<double>();
    // No op faster than its roofline: its attributed time can be shared with overlapping ops,
    // so the per-op check uses its own span in the library test; here the op must not beat it
    // by more than the overlap it had.
    CHECK(op["roofline_seconds"].as<double>() >= 0);
  }
  CHECK(share <= 1.0 + 1e-9);
  CHECK(share > 0.5);
}

TEST_CASE("prefill reports time to first token", "[cli][step]") {
  const auto r = run_tasim("run --arch tpu-v4-like --model gpt-style-1b --phase prefill --batch 1 --prompt-len 128 --json -", true);
  REQUIRE(r.exit_code == 0);
  const YAML::Node j = YAML::Load(r.output);
  CHECK(j["phase"].as<std::string>() == "prefill");
  CHECK(j["ttft_seconds"].as<double>() == j["seconds"].as<double>());
  CHECK(j["tokens"].as<std::uint64_t>() == 128);
}

TEST_CASE("a compiled program run with --program gives the same cycles", "[cli][step][compile]") {
  const std::string prog = build_path("step_compiled.tasm");
  const std::string args = "--arch tpu-v4-like --model qwen2-7b --batch 2 --context-len 128";
  REQUIRE(run_tasim("compile " + args + " -o " + prog).exit_code == 0);
  // compile writes every layer; run --exact simulates every layer.
  const auto direct = run_tasim("run --exact " + args + " --json -", true);
  const auto replay = run_tasim("run --arch tpu-v4-like --program " + prog + " --json -", true);
  REQUIRE(direct.exit_code == 0);
  REQUIRE(replay.exit_code == 0);
  CHECK(YAML::Load(direct.output)["cycles"].as<std::uint64_t>() == YAML::Load(replay.output)["cycles"].as<std::uint64_t>());
  // And the binary form too.
  const std::string bin = build_path("step_compiled.bin");
  REQUIRE(run_tasim("compile " + args + " -o " + bin).exit_code == 0);
  const auto replay_bin = run_tasim("run --arch tpu-v4-like --program " + bin + " --json -", true);
  CHECK(YAML::Load(replay_bin.output)["cycles"].as<std::uint64_t>() == YAML::Load(direct.output)["cycles"].as<std::uint64_t>());
}

TEST_CASE("model-step JSON and traces are byte-identical across runs", "[cli][step][determinism]") {
  std::string json[2], trace[2];
  for (int i = 0; i < 2; ++i) {
    const std::string j = build_path(fmt::format("step_det_{}.json", i)), t = build_path(fmt::format("step_det_{}.pftrace", i));
    REQUIRE(run_tasim(fmt::format("run --arch tpu-v4-like --model gpt-style-1b --batch 2 --context-len 64 --json {} --trace {}", j, t)).exit_code == 0);
    json[i] = read_file(j);
    trace[i] = read_file(t);
  }
  CHECK(!json[0].empty());
  CHECK(json[0] == json[1]);
  CHECK(!trace[0].empty());
  CHECK(trace[0] == trace[1]);
}

TEST_CASE("bad model input gets one clear line", "[cli][step][errors]") {
  auto r = run_tasim("run --model no-such-model");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("no-such-model"));
  r = run_tasim("run --phase sideways");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("--phase"));
  r = run_tasim("run --batch 0");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("batch must be at least 1"));
  r = run_tasim("run --dtype fp4");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("fp4"));
}

TEST_CASE("a compiled prefill with SRAM plan switches replays with the same cycles", "[cli][step][compile]") {
  // 8192 tokens of one Llama-3-8B layer: the matmuls take the accumulating SRAM plan and
  // attention the streaming one, so the program holds barriers between plans.
  const std::string args = "--arch tpu-v4-like --model " + source_path("tests/data/llama-1layer.yaml") +
                           " --phase prefill --batch 4 --prompt-len 2048";
  const std::string prog = build_path("step_prefill.bin");
  REQUIRE(run_tasim("compile " + args + " -o " + prog).exit_code == 0);
  const auto listing = run_tasim("disasm " + prog, true);
  REQUIRE(listing.exit_code == 0);
  CHECK_THAT(listing.output, Catch::Contains("\nbarrier"));
  // compile writes every layer; run --exact simulates every layer.
  const auto direct = run_tasim("run --exact " + args + " --json -", true);
  const auto replay = run_tasim("run --arch tpu-v4-like --program " + prog + " --json -", true);
  REQUIRE(direct.exit_code == 0);
  REQUIRE(replay.exit_code == 0);
  CHECK(YAML::Load(direct.output)["cycles"].as<std::uint64_t>() == YAML::Load(replay.output)["cycles"].as<std::uint64_t>());
}

TEST_CASE("a ragged step of equal sequences is the uniform step, and mixing costs what it should", "[cli][step][ragged]") {
  const std::string base = "--arch tpu-v4-like --model gpt-style-1b ";
  const auto cycles = [&](const std::string& args) { return run_json(base + args)["cycles"].as<std::uint64_t>(); };
  // The same graph, so the same cycles.
  CHECK(cycles("--batch 8 --context-len 512") == cycles("--sequences 512:1x8"));
  CHECK(cycles("--phase prefill --batch 2 --prompt-len 256") == cycles("--sequences 0:256x2"));
  // A chunk after a cached context attends more keys than the same chunk from scratch, fewer
  // than a prompt twice as long.
  const auto chunk_alone = cycles("--sequences 0:256"), chunk_after = cycles("--sequences 256:256");
  CHECK(chunk_after > chunk_alone);
  CHECK(chunk_after < cycles("--sequences 0:512"));
  // Decodes and a prefill chunk in one step read the weights once: the mixed step takes longer
  // than either part, less than both one after the other; it never beats its roofline.
  const auto decodes = cycles("--sequences 512:1x8");
  const YAML::Node mixed = run_json(base + "--sequences 512:1x8,0:256");
  const auto both = mixed["cycles"].as<std::uint64_t>();
  CHECK(both > decodes);
  CHECK(both > chunk_alone);
  CHECK(both < decodes + chunk_alone);
  CHECK(mixed["sim_over_roofline"].as<double>() >= 1.0);
  CHECK(mixed["tokens"].as<std::uint64_t>() == 8 + 256);
}

TEST_CASE("the report shows the weight format, and says when the arch dequantizes it", "[cli][step][weight_format]") {
  const std::string tiny = std::string(TASIM_SOURCE_DIR) + "/tests/data/frontier/tiny-gpt-oss.json";
  const std::string step = "--arch tpu-v4-like --model '" + tiny + "' --batch 2 --context-len 64";
  // TPU v4 has no fp4 rate: MXFP4 experts are multiplied in bf16.
  const YAML::Node j = run_json(step);
  const YAML::Node w = j["weight_format"];
  CHECK(w["quant_method"].as<std::string>() == "mxfp4");
  CHECK(w["bits_per_value"].as<double>() == 4.25);
  CHECK(w["applied"].as<bool>());
  CHECK(w["modules"].size() == 1);
  CHECK(w["modules"][0].as<std::string>() == "mlp");
  CHECK(w["compute_dtype"].as<std::string>() == "fp4");
  CHECK(w["matmul_dtype"].as<std::string>() == "bf16");
  CHECK(w["dequantized"].as<bool>());
  const auto text = run_tasim("run " + step);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.output, Catch::Contains("weight format    mxfp4 (4.25 bits/value, scales included) for mlp") &&
                              Catch::Contains("the arch has no fp4 rate, weights dequantized"));
  // With an fp4 rate the matmuls run in fp4.
  const YAML::Node fp4 = run_json(step + " --set core.matrix.macs_per_pe_per_cycle.fp4=4")["weight_format"];
  CHECK(fp4["matmul_dtype"].as<std::string>() == "fp4");
  CHECK(!fp4["dequantized"].as<bool>());
  // --weight-dtype replaces the checkpoint's format: every weight at bf16, more bytes.
  const YAML::Node plain = run_json(step + " --weight-dtype bf16");
  CHECK(!plain["weight_format"]["applied"].as<bool>());
  CHECK(plain["weight_bytes"].as<std::uint64_t>() > j["weight_bytes"].as<std::uint64_t>());
}

TEST_CASE("a DiT denoising step reports the whole generation: seconds per video and frames per second",
          "[cli][step][dit]") {
  // 9 frames of 128 x 192 through tiny-wan: 3 latent frames x 8 x 12 patches = 288 tokens per
  // sample; CFG doubles the batch (2 samples, 576 tokens); 10 steps.
  const std::string model = source_path("tests/data/frontier/tiny-wan.json");
  const YAML::Node j = run_json("--arch tpu-v4-like --model " + model +
                                " --phase denoise --frames 9 --height 128 --width 192 --steps 10");
  CHECK(j["phase"].as<std::string>() == "denoise");
  CHECK(j["batch"].as<int>() == 1);  // one video unless --batch is given
  CHECK(j["latent_tokens"].as<std::uint64_t>() == 288);
  CHECK(j["samples"].as<int>() == 2);
  CHECK(j["tokens"].as<std::uint64_t>() == 576);
  CHECK(j["cfg"].as<bool>());
  CHECK(j["params"].as<std::uint64_t>() == 3'770'688ull);
  CHECK(j["kv_cache_bytes"].as<std::uint64_t>() == 0);
  const double step = j["step_seconds"].as<double>();
  REQUIRE(step > 0);
  CHECK(j["generation_seconds"].as<double>() == Approx(10 * step).epsilon(1e-12));
  CHECK(j["seconds_per_video"].as<double>() == Approx(10 * step).epsilon(1e-12));
  CHECK(j["video_fps"].as<double>() == Approx(9 / (10 * step)).epsilon(1e-12));
  CHECK(step >= j["roofline_seconds"].as<double>());
  bool self = false, cross = false;
  for (const auto& op : j["ops"]) {
    self = self || op["op"].as<std::string>() == "dit.self_attn.attention";
    cross = cross || op["op"].as<std::string>() == "dit.cross_attn.attention";
  }
  CHECK(self);
  CHECK(cross);
  // Without guidance the step runs one sample: about half the time.
  const YAML::Node off = run_json("--arch tpu-v4-like --model " + model +
                                  " --phase denoise --frames 9 --height 128 --width 192 --cfg off");
  CHECK(off["samples"].as<int>() == 1);
  CHECK(off["step_seconds"].as<double>() < step);
  // The video options belong to denoise; a DiT has no prefill; a language model no denoise.
  auto r = run_tasim("run --model " + model + " --frames 9");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("--frames"));
  r = run_tasim("run --model " + model + " --phase prefill");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("phase denoise"));
  r = run_tasim("run --model " + model + " --phase denoise --frames 8");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("frames 8"));
  r = run_tasim("run --model llama-3-8b --phase denoise");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("diffusion transformer"));
}
