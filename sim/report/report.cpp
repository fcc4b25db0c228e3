#include "sim/report/report.h"

#include <fmt/format.h>

#include "arch/arch_figures.h"
#include "common/json_writer.h"
#include "sim/report/metrics.h"
#include "sim/report/step_summary.h"

namespace tasim {

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.2f} {}", bytes, units[u]);
}

std::string format_seconds(double s) {
  if (s >= 1.0) return fmt::format("{:.3f} s", s);
  if (s >= 1e-3) return fmt::format("{:.3f} ms", s * 1e3);
  if (s >= 1e-6) return fmt::format("{:.3f} us", s * 1e6);
  return fmt::format("{:.1f} ns", s * 1e9);
}

std::string report_text(const RunStats& stats, const ChipConfig& chip, const ReportContext& ctx) {
  const RunMetrics m = compute_metrics(stats, chip);
  std::string out;
  out += fmt::format("tasim {}: {} on {}{}\n", ctx.command, ctx.program, chip.name,
                     ctx.ideal_memory ? " (ideal memory)" : "");
  if (ctx.step) out += step_report_text(*ctx.step);
  out += fmt::format("  total            {} cycles = {} at {} GHz\n", stats.cycles, format_seconds(m.seconds),
                     chip.clock_ghz);
  if (chip.cost.power_limited()) {
    // Every unit of a chip waits the same holds: the longest wait is one chip's.
    std::uint64_t held = 0;
    for (const auto& u : stats.units) held = std::max(held, u.stall_cycles[static_cast<int>(StallReason::power)]);
    out += fmt::format("  power limit      {} W per chip: held for {} cycles ({:.1f}% of the run)\n", chip.cost.power_limit_w,
                       held, 100.0 * static_cast<double>(held) / std::max<double>(1, stats.cycles));
  }
  out += fmt::format("  instructions     {}\n", stats.instructions);
  out += fmt::format("  FLOPs            {:.4g} ({:.2f} TFLOP/s achieved)\n", static_cast<double>(stats.flops),
                     m.seconds > 0 ? stats.flops / m.seconds / 1e12 : 0.0);
  out += fmt::format("  HBM              {} read, {} written; {:.1f} GB/s achieved of {:.1f} GB/s peak ({:.1f}%)\n",
                     format_bytes(static_cast<double>(stats.hbm_bytes_read)),
                     format_bytes(static_cast<double>(stats.hbm_bytes_written)), m.hbm_achieved_gbps,
                     m.hbm_peak_gbps, 100.0 * m.utilization.at("hbm"));
  if (stats.activity.llc_hit_bytes > 0 || chip.llc.present()) {
    const double loads = static_cast<double>(stats.activity.llc_hit_bytes + stats.hbm_bytes_read);
    out += fmt::format("  LLC              {} of loads served by the {} last-level cache ({:.1f}%)\n",
                       format_bytes(static_cast<double>(stats.activity.llc_hit_bytes)),
                       format_bytes(static_cast<double>(chip.llc.capacity_bytes)),
                       loads > 0 ? 100.0 * static_cast<double>(stats.activity.llc_hit_bytes) / loads : 0.0);
  }
  out += fmt::format("  SRAM peak        {} of {} per core ({:.1f}%)\n", format_bytes(static_cast<double>(m.sram_peak_bytes)),
                     format_bytes(static_cast<double>(stats.sram_capacity_bytes)),
                     100.0 * m.sram_peak_bytes / static_cast<double>(stats.sram_capacity_bytes));
  out += fmt::format("  matrix MAC util  {:.1f}%\n", 100.0 * m.utilization.at("matrix"));
  std::string area_parts;
  for (const auto& [name, mm2] : m.chip_area.parts()) {
    area_parts += fmt::format("{}{} {:.1f}", area_parts.empty() ? "" : ", ", name, mm2 * stats.chips);
  }
  out += fmt::format("  area             {:.1f} mm^2{} ({})\n", m.area_mm2,
                     stats.chips > 1 ? fmt::format(" ({} chips)", stats.chips) : std::string(), area_parts);
  const double energy_j = m.energy.total_j();
  std::string energy_parts;
  for (const auto& [name, joules] : m.energy.parts()) {
    energy_parts += fmt::format("{}{} {:.1f}%", energy_parts.empty() ? "" : ", ", name,
                                energy_j > 0 ? 100.0 * joules / energy_j : 0.0);
  }
  out += fmt::format("  energy           {:.4g} J, {:.1f} W average of {:.0f} W peak ({})\n", energy_j, m.avg_power_w,
                     peak_power_w(chip) * stats.chips, energy_parts);
  out += "  busy by unit kind:\n";
  for (const auto& [name, k] : m.kinds) {
    out += fmt::format("    {:<8} {:>3} units  {:>5.1f}% busy  {} instructions\n", name, k.units,
                       100.0 * k.busy_fraction, k.instructions);
  }
  out += "  stall cycles (summed over units):\n";
  for (int r = 0; r < kNumStallReasons; ++r) {
    out += fmt::format("    {:<10} {}\n", stall_reason_name(static_cast<StallReason>(r)), m.stall_cycles[r]);
  }
  out += stats.chips > 1 ? fmt::format("  per unit (chip 0 of {}; every chip runs the same program; --json has all):\n",
                                       stats.chips)
                         : std::string("  per unit:\n");
  for (const auto& u : stats.units) {
    if (u.instructions == 0) continue;
    if (stats.chips > 1 && u.name.rfind("chip0.", 0) != 0) continue;
    out += fmt::format("    {:<14} {:>6.1f}% busy  {:>8} instr", u.name,
                       100.0 * u.busy_cycles / static_cast<double>(std::max<std::uint64_t>(1, stats.cycles)),
                       u.instructions);
    for (int r = 0; r < kNumStallReasons; ++r) {
      if (u.stall_cycles[r]) out += fmt::format("  {}={}", stall_reason_name(static_cast<StallReason>(r)), u.stall_cycles[r]);
    }
    out += '\n';
  }
  return out;
}

std::string report_json(const RunStats& stats, const ChipConfig& chip, const ReportContext& ctx) {
  const RunMetrics m = compute_metrics(stats, chip);
  JsonWriter j;
  j.begin_object();
  j.value("command", ctx.command);
  j.value("arch", chip.name);
  j.value("program", ctx.program);
  j.value("ideal_memory", ctx.ideal_memory);
  if (ctx.step) step_report_json(j, *ctx.step);
  j.value("cycles", stats.cycles);
  j.value("seconds", m.seconds);
  j.value("clock_ghz", chip.clock_ghz);
  if (chip.cost.power_limited()) {
    j.value("power_limit_w", chip.cost.power_limit_w);
  }
  j.value("chips", stats.chips);
  j.value("instructions", stats.instructions);
  j.value("flops", stats.flops);
  j.value("hbm_bytes", stats.hbm_bytes());
  if (ctx.gemm_flops > 0) {
    j.value("gemm_flops", ctx.gemm_flops);
    j.value("tflops", m.seconds > 0 ? static_cast<double>(ctx.gemm_flops) / m.seconds / 1e12 : 0.0);
    j.value("min_hbm_bytes", ctx.gemm_min_hbm_bytes);
    j.value("roofline_seconds", ctx.gemm_roofline_seconds);
    j.value("roofline_bound", ctx.gemm_roofline_bound);
  }
  j.value("hbm_bytes_read", stats.hbm_bytes_read);
  if (chip.llc.present()) j.value("llc_hit_bytes", stats.activity.llc_hit_bytes);
  j.value("hbm_bytes_written", stats.hbm_bytes_written);
  j.value("hbm_bandwidth_gbps", m.hbm_achieved_gbps);
  j.value("hbm_peak_gbps", m.hbm_peak_gbps);
  j.value("sram_peak_bytes", m.sram_peak_bytes);
  j.value("sram_capacity_bytes", stats.sram_capacity_bytes);
  j.value("area_mm2", m.area_mm2);
  j.value("chip_area_mm2", m.chip_area.total_mm2());
  j.begin_object("chip_area_breakdown_mm2");
  for (const auto& [name, mm2] : m.chip_area.parts()) j.value(name, mm2);
  j.end_object();
  j.value("chip_peak_power_w", peak_power_w(chip));
  j.value("energy_j", m.energy.total_j());
  j.value("avg_power_w", m.avg_power_w);
  j.begin_object("energy_breakdown_j");
  for (const auto& [name, joules] : m.energy.parts()) j.value(name, joules);
  j.end_object();
  j.begin_object("utilization");
  for (const auto& [name, u] : m.utilization) j.value(name, u);
  j.end_object();
  j.begin_object("stall_cycles");
  for (int r = 0; r < kNumStallReasons; ++r) j.value(stall_reason_name(static_cast<StallReason>(r)), m.stall_cycles[r]);
  j.end_object();
  j.begin_array("units");
  for (const auto& u : stats.units) {
    j.begin_object();
    j.value("name", u.name);
    j.value("kind", kind_name(u.kind));
    j.value("instructions", u.instructions);
    j.value("busy_cycles", u.busy_cycles);
    j.value("busy", static_cast<double>(u.busy_cycles) / static_cast<double>(std::max<std::uint64_t>(1, stats.cycles)));
    j.begin_object("stall_cycles");
    for (int r = 0; r < kNumStallReasons; ++r) j.value(stall_reason_name(static_cast<StallReason>(r)), u.stall_cycles[r]);
    j.end_object();
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.str();
}

}  // namespace tasim
