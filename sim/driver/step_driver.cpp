#include "sim/driver/step_driver.h"

#include "sim/report/op_profile.h"

namespace tasim {

StepResult simulate_step(const ChipConfig& chip, workloads::CompiledStep step, const SimOptions& options) {
  StepResult r;
  r.step = std::move(step);
  OpProfiler profile(r.step.program());
  r.stats = simulate(chip, r.step.programs, options, &profile);
  r.summary = summarize_step(r.step.graph(), chip, r.step.program(), r.stats, profile, &r.step.graphs);
  return r;
}

StepResult run_step(const ChipConfig& chip, const workloads::StepRequest& request, const SimOptions& options) {
  return simulate_step(chip, workloads::compile_step(request, chip), options);
}

}  // namespace tasim
