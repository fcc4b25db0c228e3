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
  // tasim gemm --all-cores: the GEMM's own figures (0 = not a whole-chip GEMM): 2 M N K, the
  // bytes of A, B and C, and the roofline (the larger of compute and those bytes at peak).
  std::uint64_t gemm_flops = 0;
  std::uint64_t gemm_min_hbm_bytes = 0;
  double gemm_roofline_seconds = 0.0;
  std::string gemm_roofline_bound{};  // "compute" or "memory"
};

std::string report_text(const RunStats& stats, const ChipConfig& chip, const ReportContext& ctx);
std::string report_json(const RunStats& stats, const ChipConfig& chip, const ReportContext& ctx);

// Human units: 1.5 KiB, 3.2 MiB; 12.3 us.
std::string format_bytes(double bytes);
std::string format_seconds(double seconds);

}  // namespace tasim
