// One inference step compiled for a system: the request (model, workload, parallel layout) checked
// against the architecture, then one op graph and one ISA program per chip that differs. The CLI,
// the step driver (sim/driver/step_driver.h) and the tests all compile steps through here.
#pragma once

#include <string>
#include <vector>

#include "arch/arch_config.h"
#include "isa/isa.h"
#include "workloads/graph.h"
#include "workloads/model.h"

namespace tasim::workloads {

// Layer reuse (StepRequest::simulated_layers): the fewest layers it simulates (layer 0, which
// carries the step's start, and two periods to compare), and how many by default. A model whose
// layers repeat with a period of p layers (ModelConfig::layer_period) simulates at least 2p + 1.
constexpr int kMinReuseLayers = 3;
constexpr int kDefaultReuseLayers = 4;

struct StepRequest {
  std::string model = "llama-3-8b";     // a shipped name, a config.json or snapshot folder, or a YAML file
  RunSpec spec;                          // phase, batch, lengths, dtypes, tp/ep/pp
  std::string expert_load = "uniform";  // MoE routing: uniform | zipf:S | w1,w2,... (parse_expert_load)
  // Layer reuse: lower only the first `simulated_layers` decoder layers (and the ops outside the
  // layers); the driver extrapolates the others from the steady per-layer period
  // (sim/driver/layer_reuse.h). 0, or as many as the model has: every layer (exact).
  int simulated_layers = 0;
  // Run the model's multi-token-prediction module (mtp_draft_model), the speculative drafter of
  // `tasim serve --drafter mtp`, instead of the model.
  bool mtp_draft = false;
};

struct CompiledStep {
  // One graph and program per distinct chip: chip 0 only when every chip runs the same program
  // (tensor parallel), else every chip in order (expert or pipeline parallel).
  std::vector<StepGraph> graphs;      // every layer: the step's analytic figures
  std::vector<isa::Program> programs;  // the simulated layers only, under layer reuse; empty from plan_step
  int chips = 1;             // chips that run the step (the parallel layout's)
  int layers = 0;            // decoder layers in each chip's graph
  int simulated_layers = 0;  // of them in its program (the first ones): layers when exact
  int layer_period = 1;      // the layers' kinds repeat every this many (ModelConfig::layer_period)
  bool reuses_layers() const { return simulated_layers < layers; }
  const StepGraph& graph() const { return graphs.front(); }
  const isa::Program& program() const { return programs.front(); }
};

// The parallel layout must cover the system exactly: max(tp, ep) x pp chips (or one chip when
// none is > 1). Throws Error naming the layout and the chips it needs.
void check_layout(const RunSpec& spec, const ChipConfig& chip);

// Loads the model, parses the expert load, checks the layout and compiles every chip's program.
CompiledStep compile_step(const StepRequest& request, const ChipConfig& chip);
// What compile_step does but lowering: the checks, the graphs and the layer counts, no programs.
// The simulator then compiles each chip's program as it runs it (LoweringStream, lowering.h).
CompiledStep plan_step(const StepRequest& request, const ChipConfig& chip);
CompiledStep plan_step(const ModelConfig& model, const RunSpec& spec, const ChipConfig& chip, int simulated_layers = 0);
// Lowers every graph of a planned step into step.programs.
void lower_programs(CompiledStep& step, const ChipConfig& chip);

// The same for a model already loaded. `simulated_layers` as in StepRequest. Layer reuse applies
// when every chip runs all the layers (not under pipeline parallelism, whose stages interleave
// micro-batches: those steps are compiled whole).
CompiledStep compile_step(const ModelConfig& model, const RunSpec& spec, const ChipConfig& chip,
                          int simulated_layers = 0);

}  // namespace tasim::workloads
