#include "sim/sweep/metrics.h"

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <sstream>

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
  // Boost.PropertyTree keeps every JSON value as its text, so numbers come back exactly as
  // written (shortest round-trip form), with nothing lost to a double in between.
  boost::property_tree::ptree report;
  try {
    std::istringstream in(json_text);
    boost::property_tree::read_json(in, report);
  } catch (const boost::property_tree::json_parser_error& e) {
    if (why) *why = e.message();
    return std::nullopt;
  }
  std::vector<std::string> cells;
  cells.reserve(metric_columns().size());
  for (const auto& name : metric_columns()) {
    const auto value = report.get_child_optional(name);
    // Objects and strings are not metrics; null (a non-finite figure) is an empty cell.
    cells.push_back(value && value->empty() && is_json_number(value->data()) ? value->data() : "");
  }
  return cells;
}

}  // namespace tasim::sweep
