#include "workloads/step.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "workloads/lowering.h"

namespace tasim::workloads {

namespace {

std::string layout_name(const RunSpec& spec) {
  if (spec.ep > 1 && spec.pp > 1) return fmt::format("ep {} x pp {}", spec.ep, spec.pp);
  if (spec.ep > 1 && spec.tp > 1) return fmt::format("tp {} = ep {}", spec.tp, spec.ep);
  if (spec.ep > 1) return fmt::format("ep {}", spec.ep);
  if (spec.pp > 1 && spec.tp > 1) return fmt::format("tp {} x pp {}", spec.tp, spec.pp);
  if (spec.pp > 1) return fmt::format("pp {}", spec.pp);
  return fmt::format("tp {}", spec.tp);
}

}  // namespace

void check_layout(const RunSpec& spec, const ChipConfig& chip) {
  if (spec.ep > 1 && spec.tp > 1 && spec.ep != spec.tp) {
    throw Error(fmt::format("ep {} with tp {}: expert and tensor parallelism must span the same chips", spec.ep,
                            spec.tp));
  }
  // A pipeline stage is a tensor- or expert-parallel group of chips.
  const int needed = std::max(spec.tp, spec.ep) * spec.pp;
  const int chips = chip.system.chips;
  if (needed > 1 && needed != chips) {
    throw Error(fmt::format("{} needs a system of {} chips; {} has {} (a multi-chip preset such as sohu-like-8x, "
                            "or system.chips = {})",
                            layout_name(spec), needed, chip.name, chips, needed));
  }
}

CompiledStep compile_step(const StepRequest& request, const ChipConfig& chip) {
  CompiledStep c = plan_step(request, chip);
  lower_programs(c, chip);
  return c;
}

CompiledStep plan_step(const StepRequest& request, const ChipConfig& chip) {
  const ModelConfig model =
      request.mtp_draft ? mtp_draft_model(load_model(request.model)) : load_model(request.model);
  RunSpec spec = request.spec;
  if (model.is_moe()) {
    spec.expert_load = parse_expert_load(request.expert_load, model.num_experts);
  } else if (request.expert_load != "uniform") {
    throw Error(fmt::format("expert load '{}': model {} has no experts", request.expert_load, model.name));
  }
  return plan_step(model, spec, chip, request.simulated_layers);
}

void lower_programs(CompiledStep& step, const ChipConfig& chip) {
  step.programs.clear();
  for (const StepGraph& graph : step.graphs) {
    step.programs.push_back(lower_step(graph, chip, nullptr, step.reuses_layers() ? step.simulated_layers : -1));
  }
}


CompiledStep compile_step(const ModelConfig& model, const RunSpec& spec, const ChipConfig& chip,
                          int simulated_layers) {
  CompiledStep c = plan_step(model, spec, chip, simulated_layers);
  lower_programs(c, chip);
  return c;
}

CompiledStep plan_step(const ModelConfig& model, const RunSpec& requested, const ChipConfig& chip,
                       int simulated_layers) {
  if (simulated_layers != 0 && simulated_layers < kMinReuseLayers) {
    throw Error(fmt::format("simulated layers {}: 0 (every layer) or at least {}", simulated_layers, kMinReuseLayers));
  }
  RunSpec spec = with_defaults(requested);
  check_run_spec(model, spec);
  check_layout(spec, chip);
  CompiledStep c;
  c.chips = std::max(spec.tp, spec.ep) * spec.pp;
  c.layers = spec.pp > 1 ? model.num_layers / spec.pp : model.num_layers;
  // Layers whose kinds repeat every p layers (1: all alike; 2: gpt-oss's sliding and full) are
  // extrapolated phase by phase, from at least two simulated periods after layer 0; layers that
  // never repeat (DeepSeek's dense then MoE layers) are all simulated.
  c.layer_period = model.layer_period();
  const int fewest = std::max(simulated_layers, 2 * c.layer_period + 1);
  const bool reusable = spec.pp == 1 && fewest < c.layers;
  c.simulated_layers = simulated_layers == 0 || !reusable ? c.layers : fewest;
  // Chip = stage x (chips per stage) + place in the stage's tensor- or expert-parallel group.
  const int per_stage = std::max({1, spec.tp, spec.ep});
  const int ranks = spec.pp > 1 ? spec.pp * per_stage : std::max(1, spec.ep);
  for (int rank = 0; rank < ranks; ++rank) {
    if (spec.ep > 1) spec.ep_rank = rank % per_stage;
    if (spec.pp > 1) {
      spec.pp_rank = rank / per_stage;
      spec.tp_rank = spec.tp > 1 ? rank % per_stage : 0;
    }
    c.graphs.push_back(build_step_graph(model, spec));
  }
  return c;
}

}  // namespace tasim::workloads
