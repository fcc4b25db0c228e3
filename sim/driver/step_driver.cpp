#include "sim/driver/step_driver.h"

#include <fmt/format.h>

#include "sim/report/layer_reuse.h"
#include "sim/report/op_profile.h"

namespace tasim {

StepResult simulate_step(const ChipConfig& chip, workloads::CompiledStep step, const SimOptions& options) {
  StepResult r;
  r.step = std::move(step);
  OpProfiler profile(r.step.program());
  SimOptions sim = options;
  sim.validate_programs = false;  // the compiler's programs (see SimOptions)
  if (r.step.reuses_layers()) {
    sim.account_layers = true;
    sim.trace_note = fmt::format("layers 0-{} of {} simulated; {}-{} extrapolated, not in this trace",
                                 r.step.simulated_layers - 1, r.step.layers, r.step.simulated_layers, r.step.layers - 1);
  }
  r.stats = simulate(chip, r.step.programs, sim, &profile);
  const LayerReuse reuse = extrapolate_layers(r.stats, r.step.layers, r.step.simulated_layers);
  r.summary = summarize_step(r.step.graph(), chip, r.step.program(), r.stats, profile, &r.step.graphs, &reuse);
  return r;
}

StepResult run_step(const ChipConfig& chip, const workloads::StepRequest& request, const SimOptions& options) {
  return simulate_step(chip, workloads::compile_step(request, chip), options);
}

}  // namespace tasim
