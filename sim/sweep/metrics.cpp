#include "sim/sweep/metrics.h"

#include <yaml-cpp/yaml.h>

#include "sim/sweep/table.h"

namespace tasim::sweep {

const std::vector<std::string>& metric_columns() {
  static const std::vector<std::string> columns = {"chips",
                                                   "step_seconds",
                                                   "tokens_per_second",
                                                   "ttft_seconds",
                                                   "mfu",
                                                   "roofline_seconds",
                                                   "sim_over_roofline",
                                                   "tokens",
                                                   "params",
                                                   "weight_bytes",
                                                   "kv_cache_bytes",
                                                   "analytic_flops",
                                                   "cycles",
                                                   "instructions",
                                                   "hbm_bytes",
                                                   "hbm_bandwidth_gbps",
                                                   "hbm_peak_gbps",
                                                   "sram_peak_bytes",
                                                   "sram_capacity_bytes",
                                                   "utilization.matrix",
                                                   "utilization.vector",
                                                   "utilization.dma",
                                                   "utilization.hbm",
                                                   kAreaMetric,
                                                   kPeakPowerMetric,
                                                   "energy_j",
                                                   "avg_power_w",
                                                   "tokens_per_joule"};
  return columns;
}

std::optional<std::vector<std::string>> metrics_from_report(const std::string& json_text, std::string* why) {
  // yaml-cpp reads JSON (a subset of YAML) and keeps every scalar as its text, so numbers come
  // back exactly as written (shortest round-trip form), with nothing lost to a double in between.
  YAML::Node report;
  try {
    report = YAML::Load(json_text);
  } catch (const YAML::Exception& e) {
    if (why) *why = e.what();
    return std::nullopt;
  }
  if (!report.IsMap()) {
    if (why) *why = "the report is not a JSON object";
    return std::nullopt;
  }
  std::vector<std::string> cells;
  cells.reserve(metric_columns().size());
  for (const auto& name : metric_columns()) {
    // "utilization.matrix": a key of a nested object. (reset() rebinds the node; assigning to
    // a YAML::Node would overwrite the report's own node.)
    YAML::Node value;
    value.reset(report);
    for (std::size_t start = 0; value.IsDefined() && value.IsMap();) {
      const std::size_t dot = name.find('.', start);
      const YAML::Node& map = value;
      value.reset(map[name.substr(start, dot == std::string::npos ? std::string::npos : dot - start)]);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    // Objects and strings are not metrics; null (a non-finite figure) is an empty cell.
    cells.push_back(value.IsDefined() && value.IsScalar() && is_json_number(value.Scalar()) ? value.Scalar() : "");
  }
  return cells;
}

}  // namespace tasim::sweep
