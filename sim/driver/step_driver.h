// A model step end to end: compile it for the architecture (workloads/step.h), simulate every
// chip's program on the SystemC models, and summarize (step time, tokens/s, MFU, per-op times).
// `tasim run`, `tasim compile` and the tests go through here; sweeps run `tasim run` per point.
#pragma once

#include "arch/arch_config.h"
#include "arch/run_stats.h"
#include "sim/driver/simulate.h"
#include "sim/report/step_summary.h"
#include "workloads/step.h"

namespace tasim {

struct StepResult {
  workloads::CompiledStep step;
  RunStats stats;
  StepSummary summary;
};

// Simulates a compiled step. SystemC elaborates once per process: call once.
StepResult simulate_step(const ChipConfig& chip, workloads::CompiledStep step, const SimOptions& options);
// Compiles and simulates the step a request describes.
StepResult run_step(const ChipConfig& chip, const workloads::StepRequest& request, const SimOptions& options);

}  // namespace tasim
