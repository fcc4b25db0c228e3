#include "sim/driver/step_driver.h"

#include <fmt/format.h>

#include <memory>

#include "arch/cost_model.h"
#include "sim/report/layer_reuse.h"
#include "sim/report/op_profile.h"
#include "workloads/lowering.h"

namespace tasim {

namespace {

// What a step's simulation is told: layer accounting and the trace's note under layer reuse; the
// compiler's programs are not validated again (SimOptions::validate_programs).
SimOptions step_sim_options(const workloads::CompiledStep& step, const SimOptions& options) {
  SimOptions sim = options;
  sim.validate_programs = false;
  if (step.reuses_layers()) {
    sim.account_layers = true;
    sim.trace_note = fmt::format("layers 0-{} of {} simulated; {}-{} extrapolated, not in this trace",
                                 step.simulated_layers - 1, step.layers, step.simulated_layers, step.layers - 1);
  }
  return sim;
}

void summarize(StepResult& r, const ChipConfig& chip, const std::vector<std::string>& tags, const OpProfiler& profile) {
  const LayerReuse reuse = extrapolate_layers(r.stats, r.step.layers, r.step.simulated_layers, r.step.layer_period);
  // The extrapolated layers' kernels are issued by the host too: one per op with kernel
  // boundaries, the whole step one kernel without.
  if (reuse.applied()) {
    hold_run_power_limit(chip, r.stats);  // with kernel boundaries each kernel held it already
    hold_host_issue(chip, r.stats, chip.software.kernel_boundaries() ? r.step.graph().ops.size() : 1);
  }
  r.summary = summarize_step(r.step.graph(), chip, tags, r.stats, profile, &r.step.graphs, &reuse);
}

}  // namespace

StepResult simulate_step(const ChipConfig& chip, workloads::CompiledStep step, const SimOptions& options) {
  StepResult r;
  r.step = std::move(step);
  r.program_name = r.step.program().source_name;
  OpProfiler profile;
  r.stats = simulate(chip, r.step.programs, step_sim_options(r.step, options), &profile);
  summarize(r, chip, r.step.program().tags, profile);
  return r;
}

StepResult run_step(const ChipConfig& chip, const workloads::StepRequest& request, const SimOptions& options) {
  StepResult r;
  r.step = workloads::plan_step(request, chip);
  // One stream per distinct chip's graph; tensor-parallel chips read one stream, each at its pace.
  std::vector<std::unique_ptr<workloads::LoweringStream>> streams;
  std::vector<isa::InstructionSource*> sources;
  const int layers = r.step.reuses_layers() ? r.step.simulated_layers : -1;
  for (const workloads::StepGraph& graph : r.step.graphs) {
    streams.push_back(std::make_unique<workloads::LoweringStream>(graph, chip, layers));
    sources.push_back(streams.back().get());
  }
  r.program_name = streams.front()->source_name();
  OpProfiler profile;
  r.stats = simulate_sources(chip, sources, r.step.chips, step_sim_options(r.step, options), &profile);
  summarize(r, chip, streams.front()->tags(), profile);
  return r;
}

}  // namespace tasim
