// Runs one program on one chip: validate, elaborate the SystemC models, simulate, collect.
// SystemC elaborates once per process, so simulate() may be called once per process.
#pragma once

#include <string>
#include <vector>

#include "isa/instruction_source.h"
#include "isa/isa.h"
#include "arch/arch_config.h"
#include "arch/observer.h"
#include "arch/run_stats.h"

namespace tasim {

struct SimOptions {
  bool ideal_memory = false;
  std::string trace_path;              // empty: no trace
  std::string trace_format = "perfetto";  // perfetto | json
  // Every instruction a slice of its unit's track, inside its op's and layer's slices; false:
  // layer and op slices only (a model step's trace is then some 40x smaller), counters all the same.
  bool trace_instructions = true;
  std::uint64_t counter_window_cycles = 1024;  // bin width of the bandwidth/utilization counters
  // Count what each model layer did (RunStats::layers; the op tags name the layers): what layer
  // reuse extrapolates from (sim/driver/layer_reuse.h).
  bool account_layers = false;
  // Check the programs with the validator first (find_system_problems). Off for the compiler's
  // own programs (simulate_step): it checks each instruction's SRAM and HBM operands as it emits
  // them and the tests validate every shipped model's programs, so checking again at every run
  // cost a fifth of a default run's time. A program from a file is always checked.
  bool validate_programs = true;
  // Said in the name of every chip's process in the trace (e.g. which layers were simulated).
  std::string trace_note;
};

// The problems of programs run on `chip`'s system, as `tasim run` would meet them (empty: valid).
// A program with chip-to-chip instructions runs on every chip of a multi-chip system, so it is
// checked as each chip's (a peer must be another chip); the problems found as chip 0 come as the
// validator words them, those of the first other chip with problems prefixed by "on chip N, which
// runs the same program: ". One program per chip: each is checked as its chip's.
std::vector<std::string> find_system_problems(const ChipConfig& chip, const std::vector<isa::Program>& programs);

// Throws tasim::Error for an invalid program and for a deadlock (with the report of which unit
// waits on what).
// `extra` (optional) also watches the run, e.g. an OpProfiler.
RunStats simulate(const ChipConfig& chip, const isa::Program& program, const SimOptions& options,
                  ExecutionObserver* extra = nullptr);
// One program per chip of the system (expert parallelism: chips with different expert loads);
// `extra` watches chip 0.
RunStats simulate(const ChipConfig& chip, const std::vector<isa::Program>& programs, const SimOptions& options,
                  ExecutionObserver* extra = nullptr);
// `chips` chips of the system run, each its instructions from a source (a program compiled as it
// runs, workloads/lowering.h): one source per chip, or one that every chip reads at its own pace.
// Sources are not validated (SimOptions::validate_programs is for programs). `extra` watches chip 0.
RunStats simulate_sources(const ChipConfig& chip, const std::vector<isa::InstructionSource*>& sources, int chips,
                          const SimOptions& options, ExecutionObserver* extra = nullptr);

}  // namespace tasim
