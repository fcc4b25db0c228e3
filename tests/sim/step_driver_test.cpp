// The step driver as a library: build_arch, the run-spec and layout checks and compile_step (no
// SystemC: many cases in one process), and one run_step. The CLI tests keep only what needs the
// command line (options, exit status, files).
#include <catch2/catch.hpp>

#include "error_of.h"

#include <functional>

#include "cli_util.h"
#include "sim/config/arch_loader.h"
#include "sim/driver/step_driver.h"
#include "workloads/step.h"

using namespace tasim;
using Catch::Contains;

namespace {

using tasim::testing::error_of;

ChipConfig arch(const std::string& name, std::optional<int> chips = std::nullopt) {
  ArchRequest r;
  r.arch = name;
  r.chips = chips;
  return build_arch(r).chip;
}

workloads::StepRequest request(const std::string& model, int tp, int pp, int ep, int batch = 8) {
  workloads::StepRequest r;
  r.model = model;
  r.spec.batch = batch;
  r.spec.context_len = 128;
  r.spec.tp = tp;
  r.spec.pp = pp;
  r.spec.ep = ep;
  return r;
}

}  // namespace

TEST_CASE("build_arch applies overrides, then chips and topology", "[driver][config]") {
  ArchRequest r;
  r.arch = "small";
  r.overrides = {"core.matrix.rows=64", "system.chips=4"};
  r.chips = 2;
  r.topology = "fully-connected";
  const ArchInfo info = build_arch(r);
  CHECK(info.chip.core.matrix.rows == 64);
  CHECK(info.chip.system.chips == 2);  // --chips after the overrides
  CHECK(info.chip.system.topology == Topology::fully_connected);
  CHECK_FALSE(info.description.empty());
  r.chips = 0;
  CHECK_THAT(error_of([&] { build_arch(r); }), Contains("system.chips"));
}

TEST_CASE("compile_step refuses layouts that do not cover the system and names the quantity", "[driver][errors]") {
  const ChipConfig one = arch("sohu-like"), eight = arch("sohu-like-8x");
  using workloads::compile_step;
  CHECK(error_of([&] { compile_step(request("llama-3-8b", 8, 1, 1), one); }) ==
        "tp 8 needs a system of 8 chips; sohu-like has 1 (a multi-chip preset such as sohu-like-8x, or "
        "system.chips = 8)");
  CHECK_THAT(error_of([&] { compile_step(request("llama-3-8b", 1, 2, 1), eight); }),
             Contains("pp 2 needs a system of 2 chips"));
  CHECK_THAT(error_of([&] { compile_step(request("llama-3-8b", 2, 2, 1), eight); }),
             Contains("tp 2 x pp 2 needs a system of 4 chips"));
  CHECK_THAT(error_of([&] { compile_step(request("mixtral-8x7b", 1, 4, 4), eight); }),
             Contains("ep 4 x pp 4 needs a system of 16 chips"));
  CHECK_THAT(error_of([&] { compile_step(request("mixtral-8x7b", 4, 1, 8), eight); }),
             Contains("ep 8 with tp 4: expert and tensor parallelism must span the same chips"));
  CHECK_THAT(error_of([&] { compile_step(request("llama-3-8b", 1, 1, 8), eight); }),
             Contains("ep 8: model llama-3-8b has no experts"));
  CHECK_THAT(error_of([&] { compile_step(request("llama-3-8b", 3, 1, 1), arch("sohu-like", 3)); }),
             Contains("tp 3 does not divide model llama-3-8b's attention heads (32)"));
  CHECK_THAT(error_of([&] { compile_step(request("llama-3-8b", 1, 3, 1), arch("sohu-like", 3)); }),
             Contains("pp 3 does not divide model llama-3-8b's 32 layers"));
  auto micro = request("llama-3-8b", 1, 8, 1);
  micro.spec.micro_batches = 3;
  CHECK_THAT(error_of([&] { compile_step(micro, eight); }), Contains("micro_batches 3 must be at least 1 and divide the batch (8)"));
  auto zero = request("llama-3-8b", 1, 1, 1, 0);
  CHECK(error_of([&] { compile_step(zero, one); }) == "batch must be at least 1, got 0");
  auto skew = request("mixtral-8x7b", 1, 1, 8);
  skew.expert_load = "zipf:abc";
  CHECK_THAT(error_of([&] { compile_step(skew, eight); }), Contains("zipf needs a number"));
  CHECK_THAT(error_of([&] { compile_step(request("no-such-model", 1, 1, 1), one); }), Contains("no-such-model"));
}

TEST_CASE("compile_step gives one program per distinct chip", "[driver]") {
  const ChipConfig eight = arch("sohu-like-8x");
  // Tensor parallel: every chip runs chip 0's program.
  CHECK(workloads::compile_step(request("gpt-style-1b", 8, 1, 1), eight).programs.size() == 1);
  // Pipeline parallel, TP groups in stages: a program per chip, the micro-batches defaulting to the stages.
  const auto staged = workloads::compile_step(request("gpt-style-1b", 2, 4, 1), eight);
  CHECK(staged.programs.size() == 8);
  CHECK(staged.graph().spec.micro_batches == 4);
  CHECK(staged.graphs[5].spec.pp_rank == 2);
  CHECK(staged.graphs[5].spec.tp_rank == 1);
  // Expert parallel with a skewed load: chips differ.
  auto skew = request("mixtral-8x7b", 1, 1, 8);
  skew.expert_load = "zipf:1.2";
  const auto ep = workloads::compile_step(skew, eight);
  REQUIRE(ep.programs.size() == 8);
  CHECK(ep.programs[0].instructions.size() != ep.programs[7].instructions.size());
}

TEST_CASE("the compiler's programs are valid on their chips, for every shipped model and layout", "[driver]") {
  // simulate_step does not validate the compiler's programs again at every run (SimOptions::
  // validate_programs): this is where they are checked. Under layer reuse (the first layers and
  // the tail: the same instructions as a whole step's, fewer of them).
  const ChipConfig one = arch("sohu-like"), eight = arch("sohu-like-8x"), four = arch("sohu-like-8x", 4);
  for (const char* model : {"gpt-style-1b", "llama-3-8b", "llama-3-70b", "mistral-7b", "mixtral-8x7b", "qwen2-7b",
                            "qwen3-8b"}) {
    for (const workloads::Phase phase : {workloads::Phase::decode, workloads::Phase::prefill}) {
      auto r = request(model, 1, 1, 1);
      r.spec.phase = phase;
      r.spec.prompt_len = 256;
      r.simulated_layers = workloads::kDefaultReuseLayers;
      INFO(model << (phase == workloads::Phase::prefill ? " prefill" : " decode"));
      if (std::string(model) != "llama-3-70b") {  // 140 GB of bf16 weights: not on one sohu-like
        CHECK(find_system_problems(one, workloads::compile_step(r, one).programs).empty());
      }
      // Tensor parallel over 8 chips, or 4 where 8 does not divide the heads (qwen2-7b: 28).
      auto tp = r;
      tp.spec.tp = std::string(model) == "qwen2-7b" ? 4 : 8;
      const ChipConfig& tp_system = tp.spec.tp == 8 ? eight : four;
      CHECK(find_system_problems(tp_system, workloads::compile_step(tp, tp_system).programs).empty());
      // Pipeline stages are compiled whole (no reuse): two models keep the test short.
      if (std::string(model) == "gpt-style-1b" || std::string(model) == "mixtral-8x7b") {
        auto pp = r;
        pp.spec.pp = 4;
        pp.spec.tp = 2;
        CHECK(find_system_problems(eight, workloads::compile_step(pp, eight).programs).empty());
      }
      if (std::string(model) == "mixtral-8x7b") {
        auto ep = r;
        ep.spec.ep = 8;
        ep.expert_load = "zipf:1.2";
        CHECK(find_system_problems(eight, workloads::compile_step(ep, eight).programs).empty());
      }
    }
  }
}

TEST_CASE("run_step simulates and summarizes a step", "[driver]") {
  const ChipConfig chip = arch("tpu-v4-like");
  workloads::StepRequest r = request("gpt-style-1b", 1, 1, 1, 4);
  const StepResult result = run_step(chip, r, SimOptions{});
  // The program was compiled as it ran (streamed): the same as the whole program, all but its halt.
  CHECK(result.step.programs.empty());
  CHECK(result.stats.instructions == workloads::compile_step(r, chip).program().instructions.size() - 1);
  CHECK(result.summary.step_seconds == Approx(result.stats.seconds()));
  CHECK(result.summary.tokens_per_second == Approx(4 / result.stats.seconds()));
  CHECK(result.summary.step_seconds >= result.summary.roofline_seconds);
  CHECK(result.summary.ops.size() > 5);
}

// An error raised inside a SystemC process (here the collective hub, on chips that disagree about
// a collective) reaches the user as tasim's one line, without SystemC's framing.
TEST_CASE("errors inside the simulation come out as one line", "[driver][errors]") {
  const ChipConfig chip = arch("small", 2);
  const std::vector<isa::Program> programs = {
      isa::assemble("coll.allreduce sram_addr=0 bytes=64 tag=1\nhalt\n", "chip0.tasm"),
      isa::assemble("coll.allreduce sram_addr=0 bytes=128 tag=1\nhalt\n", "chip1.tasm")};
  const std::string e = error_of([&] { simulate(chip, programs, SimOptions{}); });
  CHECK_THAT(e, Contains("collective tag=1 (coll.allreduce bytes=") && Contains("differs from the one another chip"));
  CHECK_THAT(e, !Contains("E549") && !Contains("In file") && !Contains("uncaught exception") && !Contains("\n"));
}
