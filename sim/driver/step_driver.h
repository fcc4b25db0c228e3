// A model step end to end: compile it for the architecture (workloads/step.h), simulate every
// chip's program on the SystemC models, and summarize (step time, tokens/s, MFU, per-op times).
// `tasim run`, `tasim compile` and the tests go through here; sweeps run `tasim run` per point.
#pragma once

#include <string>

#include "arch/arch_config.h"
#include "arch/run_stats.h"
#include "sim/driver/simulate.h"
#include "sim/report/step_summary.h"
#include "workloads/step.h"

namespace tasim {

struct StepResult {
  workloads::CompiledStep step;  // run_step: the graphs only (programs were streamed)
  std::string program_name;      // chip 0's program ("llama-3-8b_decode_b64")
  RunStats stats;
  StepSummary summary;
};

// Simulates a compiled step (its programs, materialized). SystemC elaborates once per process:
// call once.
StepResult simulate_step(const ChipConfig& chip, workloads::CompiledStep step, const SimOptions& options);
// Plans the step a request describes and simulates it with each chip's program compiled as the
// chip runs it (workloads::LoweringStream): the same cycles as compile_step + simulate_step, with
// memory that does not grow with the program.
StepResult run_step(const ChipConfig& chip, const workloads::StepRequest& request, const SimOptions& options);

}  // namespace tasim
