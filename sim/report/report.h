// Human-readable and JSON reports of a run. JSON keys are stable and documented in
// docs/outputs.md.
#pragma once

#include <string>

#include "arch/arch_config.h"
#include "arch/run_stats.h"

namespace tasim {

struct StepSummary;

struct ReportContext {
  std::string command;  // "run" | "gemm"
  std::string program;  // program source name
  bool ideal_memory = false;
  const StepSummary* step = nullptr;  // set when the program is a compiled model step
};

std::string report_text(const RunStats& stats, const ChipConfig& chip, const ReportContext& ctx);
std::string report_json(const RunStats& stats, const ChipConfig& chip, const ReportContext& ctx);

// Human units: 1.5 KiB, 3.2 MiB; 12.3 us.
std::string format_bytes(double bytes);
std::string format_seconds(double seconds);

}  // namespace tasim
