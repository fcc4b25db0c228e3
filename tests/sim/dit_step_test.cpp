// The shipped Wan2.1 DiT's 720p denoising step on the presets the issue names: planned, laid out
// in HBM and compiled (its first ops) without simulating it (a whole step takes minutes; the
// simulated figures are in docs/models.md, and the CLI and invariant tests run a small DiT).
#include <catch2/catch.hpp>

#include <string>

#include "sim/config/arch_loader.h"
#include "workloads/lowering.h"
#include "workloads/step.h"

using namespace tasim;
using namespace tasim::workloads;

TEST_CASE("the shipped Wan2.1 720p step plans and compiles on sohu-like and on sohu-like-8x with TP=8",
          "[dit][step]") {
  for (const auto& [arch, tp] : {std::pair<std::string, int>{"sohu-like", 1}, {"sohu-like-8x", 8}}) {
    INFO(arch);
    const ChipConfig chip = load_arch(arch);
    StepRequest request;
    request.model = "wan2.1-t2v-14b";
    request.spec.phase = Phase::denoise;  // 1 video, 81 x 720 x 1280, CFG on: Wan2.1's defaults
    request.spec.tp = tp;
    request.simulated_layers = kDefaultReuseLayers;
    const CompiledStep step = plan_step(request, chip);
    CHECK(step.layers == 40);
    CHECK(step.simulated_layers == kDefaultReuseLayers);  // identical blocks: layer reuse applies
    REQUIRE(step.graphs.size() == 1);                     // tensor-parallel chips share one program
    const StepGraph& g = step.graph();
    CHECK(g.spec.tokens() == 2ull * 75'600);
    // Per chip, the attention's score FLOPs: 2 samples x 40 / tp heads x 75,600^2 x (4 x 128 + 5).
    std::uint64_t attention = 0;
    for (const auto& op : g.ops) {
      if (op.name == "layer0.dit.self_attn.attention") attention = op.flops;
    }
    CHECK(attention == 2ull * (40 / tp) * 75'600ull * 75'600 * (4 * 128 + 5));
    // The weights, the K/V region and the activation arena fit the chip's HBM, and the first
    // ops compile (the stream throws otherwise).
    LoweringStream stream(g, chip, step.simulated_layers);
    const isa::Instruction* first = nullptr;
    std::size_t count = 0;
    for (int op = 0; op < 8; ++op) REQUIRE(stream.next(first, count));
    CHECK(stream.instructions_given() > 0);
  }
}
