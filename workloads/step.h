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

struct StepRequest {
  std::string model = "llama-3-8b";     // a shipped name, a config.json or snapshot folder, or a YAML file
  RunSpec spec;                          // phase, batch, lengths, dtypes, tp/ep/pp
  std::string expert_load = "uniform";  // MoE routing: uniform | zipf:S | w1,w2,... (parse_expert_load)
};

struct CompiledStep {
  // One graph and program per distinct chip: chip 0 only when every chip runs the same program
  // (tensor parallel), else every chip in order (expert or pipeline parallel).
  std::vector<StepGraph> graphs;
  std::vector<isa::Program> programs;
  const StepGraph& graph() const { return graphs.front(); }
  const isa::Program& program() const { return programs.front(); }
};

// The parallel layout must cover the system exactly: max(tp, ep) x pp chips (or one chip when
// none is > 1). Throws Error naming the layout and the chips it needs.
void check_layout(const RunSpec& spec, const ChipConfig& chip);

// Loads the model, parses the expert load, checks the layout and compiles every chip's program.
CompiledStep compile_step(const StepRequest& request, const ChipConfig& chip);
// The same for a model already loaded.
CompiledStep compile_step(const ModelConfig& model, const RunSpec& spec, const ChipConfig& chip);

}  // namespace tasim::workloads
